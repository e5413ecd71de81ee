"""The checker gets in as a real client does: against the real mock on uvicorn, and against
small broken variants of it (ASGI middleware in front of its token endpoint or its OneRoster
routes, in tests/broken_providers.py), each one a provider met in the field: a token URL that
requires a scope, one that refuses a wide scope list, one that refuses HTTP Basic, one that
answers HTML; credentials refused from the first request; a 1.1 provider that takes only
HMAC-SHA1 signatures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.cli import main
from harness.runner import run_checks, select, services_for
from harness.target import Target, TargetError
from mock_provider.app import Settings, create_app
from mock_provider.connections import (
    ALL_SCOPES_V11,
    ALL_SCOPES_V12,
    SCOPE_PREFIX_V11,
    SCOPE_PREFIX_V12,
    Connection,
    allowed_scopes,
)
from mock_provider.store import Store

from .broken_providers import (
    HTML,
    JSON,
    FirstContact,
    Judge,
    Sha1Only,
    TokenGate,
    Verdict,
    basic_refused,
    core_scope_only,
    form_refused,
    own_scope_names_only,
    scope_required,
    token_refusal,
)
from .conftest import make_district
from .live_server import live_server

V12, V11 = SCOPE_PREFIX_V12, SCOPE_PREFIX_V11


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


@contextmanager
def serving(district: Path, judge: Judge | None = None,
            connection: Connection | None = None) -> Iterator[tuple[str, TokenGate]]:
    connection = connection or Connection(name="h", client_id="h", client_secret="h-s3cret",
                                          scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(district) as store:
        gate = TokenGate(create_app(store, [connection]), judge)
        with live_server(gate) as url:
            yield url, gate


# --- item 1: the token request asks for the scopes the run needs ------------------------

def test_the_token_request_asks_for_the_scopes_of_the_services_checked(district: Path) -> None:
    with serving(district, scope_required) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target:
        summary = run_checks(target, select("OR-CORE,OR-AUTH-005"))
    assert {r.id: r.status for r in summary.results} == {
        "OR-CORE-001": "passed", "OR-CORE-002": "passed", "OR-AUTH-005": "passed"}
    asked = gate.seen[0]["scope"].split()
    assert asked == [f"{V12}roster-core.readonly", f"{V12}roster.readonly",
                     f"{V12}roster-demographics.readonly"]  # no grade-book check ran
    assert summary.access is not None and summary.access.scope_asked == " ".join(asked)
    assert summary.access.scope_granted == " ".join(sorted(asked))


def test_grade_book_checks_add_the_grade_book_scopes_and_1_1_asks_for_1_1_uris(
        district: Path) -> None:
    with serving(district, scope_required) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret", "1.1") as target:
        run_checks(target, select("OR-CORE-001,OR-GB-002"))
    asked = gate.seen[0]["scope"].split()
    assert {s.rsplit("/", 1)[1] for s in asked} == {
        "roster-core.readonly", "roster.readonly", "roster-demographics.readonly",
        "gradebook.readonly", "gradebook.createput", "gradebook.delete"}
    assert all(s.startswith(V11) for s in asked)


@pytest.mark.parametrize("version, resources", [("1.2", False), ("1.1", True)])
def test_discovery_asks_for_what_its_version_reads(district: Path, version: str,
                                                   resources: bool) -> None:
    """In 1.1 OR-DISC-001 reads the whole v1p1 document (grade book and resources too)."""
    with serving(district) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret", version) as target:
        target.authenticate(services_for(select("OR-DISC"), version))
    asked = {s.rsplit("/", 1)[1] for s in gate.seen[0]["scope"].split()}
    assert ("resource.readonly" in asked) is resources
    assert ("gradebook.readonly" in asked) is resources


def test_a_refused_wide_scope_list_is_narrowed_once_and_said(district: Path) -> None:
    with serving(district, core_scope_only) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target:
        summary = run_checks(target, select("OR-CORE"))
    assert [s["scope"] for s in gate.seen] == [
        f"{V12}roster-core.readonly {V12}roster.readonly {V12}roster-demographics.readonly",
        f"{V12}roster-core.readonly"]  # the spec's minimum, once
    assert summary.conformant
    assert summary.access is not None
    [note] = summary.access.notes
    assert 'invalid_scope "the requested scope is not allowed"' in note
    assert "asked again for roster-core.readonly and got a token" in note


def test_a_provider_with_scope_names_of_its_own_gets_a_request_without_scope(
        district: Path) -> None:
    """Seen on an independent 1.1 provider: every OneRoster scope URI is refused with
    invalid_scope, naming none; a request without scope gets its default scope."""
    with serving(district, own_scope_names_only) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target:
        summary = run_checks(target, select("OR-CORE"))
    assert [bool(s.get("scope")) for s in gate.seen] == [True, True, False]
    assert summary.conformant
    assert summary.access is not None
    [note] = summary.access.notes
    assert "asked again for no scope and got a token" in note


def test_scopes_the_refusal_names_are_dropped_and_the_rest_kept(district: Path) -> None:
    rostering_only = Connection(name="r", client_id="h", client_secret="h-s3cret",
                                scopes=allowed_scopes("1.2", "unsupported"), version="1.2")
    with serving(district, connection=rostering_only) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target:
        summary = run_checks(target, select("OR-CORE-001,OR-GB-001"))
    assert len(gate.seen) == 2
    assert "gradebook" in gate.seen[0]["scope"] and "gradebook" not in gate.seen[1]["scope"]
    assert gate.seen[1]["scope"].split() == [f"{V12}roster-core.readonly",
                                             f"{V12}roster.readonly",
                                             f"{V12}roster-demographics.readonly"]
    results = {r.id: r for r in summary.results}
    assert results["OR-CORE-001"].status == "passed"
    assert results["OR-GB-001"].status == "skipped"  # the connection may not write grades
    assert summary.access is not None and "gradebook.createput" in summary.access.notes[0]


def test_a_scope_given_is_asked_for_as_it_is_and_never_narrowed(
        district: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    asked = f"{V12}roster-core.readonly"
    with serving(district, core_scope_only) as (url, gate):
        argv = ["check", "provider", "--base-url", url, "--token-url", f"{url}/oauth2/token",
                "--client-id", "h", "--client-secret", "h-s3cret", "--only", "OR-CORE-001",
                "--report-dir", str(tmp_path)]
        assert main([*argv, "--scope", asked]) == 0
        assert gate.seen[-1]["scope"] == asked and len(gate.seen) == 1
        results = json.loads((tmp_path / "results.json").read_text())
        assert results["access"]["scope_asked"] == asked
        printed = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
        assert "access: OAuth 2.0 client credentials sent with HTTP Basic; 1 scope asked " \
            "for, 1 granted" in printed
        wide = f"{V12}roster.readonly {V12}roster-core.readonly"
        code = main([*argv, "--scope", wide])
    assert code == 2 and gate.seen[-1]["scope"] == wide and len(gate.seen) == 2


def test_a_scope_refusal_that_cannot_be_narrowed_stops_the_run_in_one_line(
        district: Path) -> None:
    def nothing_allowed(form: dict[str, str], headers: dict[str, str]) -> Verdict:
        return token_refusal(400, "invalid_scope",
                             "no OneRoster scope is enabled for this client")

    with serving(district, nothing_allowed) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target, \
            pytest.raises(TargetError) as stopped:
        run_checks(target, select("OR-CORE"))
    message = str(stopped.value)
    assert message.startswith('the token URL answered 400 invalid_scope "no OneRoster scope '
                              'is enabled for this client": the scope was refused (asked for '
                              "no scope)")
    assert "--scope" in message and "h-s3cret" not in message
    # the first request, the one narrower retry, and one with no scope (the default)
    assert [s.get("scope", "") != "" for s in gate.seen] == [True, True, False]


def test_the_plugin_asks_for_the_scope_given_and_stops_in_one_line_when_refused(
        district: Path, tmp_path: Path) -> None:
    wide = f"{V12}roster.readonly {V12}roster-core.readonly"
    with serving(district, core_scope_only) as (url, gate):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
             "harness.conformance", "--oneroster-base-url", url, "--oneroster-token-url",
             f"{url}/oauth2/token", "--oneroster-client-id", "h", "--oneroster-client-secret",
             "h-s3cret", "--oneroster-scope", wide], cwd=tmp_path, capture_output=True,
            text=True, timeout=120, env={**os.environ, "CI": "true"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:]
    assert [s["scope"] for s in gate.seen] == [wide]
    assert 'oneroster: the token URL answered 400 invalid_scope "the requested scope is not ' \
        'allowed"' in done.stdout
    assert "h-s3cret" not in done.stdout + done.stderr


@pytest.mark.parametrize("argv, message", [
    (["--token", "t", "--scope", "x"], "--scope applies to client credentials (a token URL), "
                                       "not to --token"),
    (["--oauth1", "--version", "1.1", "--client-id", "k", "--client-secret", "s", "--scope",
      "x"], "--scope applies to client credentials (a token URL), not to --oauth1"),
])
def test_a_scope_with_other_credentials_is_a_usage_error(argv: list[str], message: str,
                                                        capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "provider", "--base-url", "http://127.0.0.1:9", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# --- item 2: HTTP Basic or form fields, whichever the token URL takes ----------------------

def test_a_token_url_that_refuses_basic_gets_the_form_fields_and_the_run_says_so(
        district: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with serving(district, basic_refused) as (url, gate):
        code = main(["check", "provider", "--base-url", url, "--token-url",
                     f"{url}/oauth2/token", "--client-id", "h", "--client-secret", "h-s3cret",
                     "--only", "OR-CORE-001,OR-AUTH-004,OR-AUTH-005",
                     "--report-dir", str(tmp_path)])
    assert code == 0
    # Basic once, then the form for the run's token and for every token request after it.
    assert [s["style"] for s in gate.seen] == ["basic", "form", "form", "form"]
    access = json.loads((tmp_path / "results.json").read_text())["access"]
    assert access["client_authentication"] == "form"
    assert access["notes"] == [
        'the token URL refused HTTP Basic client authentication (401 invalid_client '
        '"client_id and client_secret must be in the body"); the client_id/client_secret form '
        'fields worked']
    printed = " ".join(capsys.readouterr().out.split())
    assert "sent as form fields" in printed and "refused HTTP Basic" in printed
    assert "h-s3cret" not in (tmp_path / "results.json").read_text() + printed


def test_a_token_url_that_takes_basic_is_asked_once(district: Path) -> None:
    with serving(district, form_refused) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret") as target:
        summary = run_checks(target, select("OR-CORE-001"))
    assert [s["style"] for s in gate.seen] == ["basic"]
    assert summary.access is not None and summary.access.client_authentication == "basic"
    assert summary.access.notes == ()


def test_a_client_refused_both_ways_is_one_line_naming_both(district: Path) -> None:
    with serving(district) as (url, gate), \
            Target(url, f"{url}/oauth2/token", "h", "not-the-s3cret") as target, \
            pytest.raises(TargetError) as stopped:
        target.authenticate()
    assert [s["style"] for s in gate.seen] == ["basic", "form"]
    assert str(stopped.value) == (
        'the token URL answered 401 invalid_client "unknown client or wrong secret": the '
        'client was refused; check the client id and secret (with HTTP Basic and with the '
        'form fields alike)')


# --- item 3: a refused token request names its cause in one line -------------------------

TOKEN_FAILURES = {
    "a 404 page": (lambda f, h: (404, HTML, b"<html><body>Not Found</body></html>"), [],
                   "answered 404 with an HTML page: there is no token endpoint at that URL; "
                   "check the token URL"),
    "a login page": (lambda f, h: (200, HTML, b"<html><form>Sign in</form></html>"), [],
                     "answered 200 with an HTML page: there is no token endpoint at that URL; "
                     "check the token URL"),
    "plain text": (lambda f, h: (200, [(b"content-type", b"text/plain")], b"OK"), [],
                   "answered 200 with a body of type text/plain: that is not an OAuth 2.0 token "
                   "endpoint's JSON; check the token URL"),
    "a missing scope": (scope_required, ["--scope", ""],
                        'the token URL answered 400 invalid_request "scope is required": the '
                        'scope was refused (asked for no scope); give the scopes the '
                        'connection holds with --scope "URI URI ..."'),
    "a bad client": (lambda f, h: token_refusal(401, "invalid_client", "client h is unknown"), [],
                     'the token URL answered 401 invalid_client "client h is unknown": the '
                     'client was refused; check the client id and secret'),
    "an unsupported grant": (lambda f, h: token_refusal(400, "unsupported_grant_type",
                                                 "only authorization_code"), [],
                             'the token URL answered 400 unsupported_grant_type "only '
                             'authorization_code": the client_credentials grant was refused; '
                             'the connection must allow the client_credentials grant'),
    "a secret echoed back": (lambda f, h: token_refusal(401, "invalid_client",
                                                 "secret h-s3cret is wrong"), [],
                             'answered 401 invalid_client "secret *** is wrong"'),
    "a token answer without a token": (lambda f, h: (200, JSON, b'{"token": "abc"}'), [],
                                       "answered 200: the JSON has no access_token (its "
                                       "keys: token); check the token URL"),
}


@pytest.mark.parametrize("name", sorted(TOKEN_FAILURES))
def test_a_refused_token_request_is_one_line_naming_its_cause(
        district: Path, name: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    judge, extra, expected = TOKEN_FAILURES[name]
    with serving(district, judge) as (url, _gate):
        code = main(["check", "provider", "--base-url", url, "--token-url",
                     f"{url}/oauth2/token", "--client-id", "h", "--client-secret", "h-s3cret",
                     "--report-dir", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert expected in err, err
    assert "h-s3cret" not in err
    assert not (tmp_path / "results.json").exists()


def test_a_token_url_that_is_not_there_names_the_url(district: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    with serving(district) as (url, _gate):
        code = main(["check", "provider", "--base-url", url, "--token-url",
                     f"{url}/oauth/token", "--client-id", "h", "--client-secret", "h-s3cret"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"the token URL {url}/oauth/token answered 404" in err
    assert "there is no token endpoint at that URL" in err


# --- item 5: fail fast, and a service URL taken as the base URL ---------------------------

@contextmanager
def counted(district: Path, connection: Connection | None = None,
            **how: bool) -> Iterator[tuple[str, FirstContact]]:
    connection = connection or Connection(name="h", client_id="h", client_secret="h-s3cret",
                                          scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(district) as store:
        counting = FirstContact(create_app(store, [connection]), **how)
        with live_server(counting) as url:
            yield url, counting


def _check(base_url: str, *argv: str, token_url: str | None = None) -> list[str]:
    credentials = ["--client-id", "h", "--client-secret", "h-s3cret"]
    return ["check", "provider", "--base-url", base_url,
            *(["--token-url", token_url, *credentials] if token_url else []), *argv]


def test_credentials_refused_from_the_first_request_stop_the_run_in_one_line(
        district: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with counted(district, refuse_all=True) as (url, counting):
        code = main(_check(url, "--report-dir", str(tmp_path), token_url=f"{url}/oauth2/token"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert counting.seen == 2  # the probe, and once more with a new token; not dozens
    assert (f"GET {url}/ims/oneroster/rostering/v1p2/orgs?limit=1 answered 401 "
            '(WWW-Authenticate: Bearer error="invalid_token"; "token issued for another '
            'tenant"): the provider refuses the run\'s credentials') in err
    assert "--scope" in err and f"--base-url ({url})" in err and "h-s3cret" not in err
    assert not (tmp_path / "results.json").exists()


def test_a_token_without_the_rostering_scopes_stops_the_run_naming_them(
        district: Path, capsys: pytest.CaptureFixture) -> None:
    demographics_only = Connection(name="d", client_id="h", client_secret="h-s3cret",
                                   scopes=frozenset({f"{V12}roster-demographics.readonly"}))
    with counted(district, demographics_only) as (url, counting):
        code = main(_check(url, token_url=f"{url}/oauth2/token"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and counting.seen == 1
    assert "orgs?limit=1 answered 403" in err and "this token lacks the scope" in err
    assert ("the token was granted roster-demographics.readonly; GET /orgs needs "
            "roster-core.readonly or roster.readonly: ask for the scopes the connection holds "
            "with --scope") in err


def test_a_refused_static_token_says_to_get_a_fresh_one(district: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    with counted(district) as (url, counting):
        code = main(_check(url, "--token", "stale-token"))
    err = capsys.readouterr().err
    assert code == 2 and counting.seen == 1
    assert "answered 401" in err and "give a fresh --token" in err and "stale-token" not in err


def test_a_base_url_with_nothing_oneroster_under_it_is_named(
        district: Path, capsys: pytest.CaptureFixture) -> None:
    with counted(district) as (url, counting):
        code = main(_check(f"{url}/district", token_url=f"{url}/oauth2/token"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert (f"GET {url}/district/ims/oneroster/rostering/v1p2/orgs?limit=1 answered 404: no "
            f"OneRoster 1.2 rostering service under the base URL {url}/district") in err
    assert "check --base-url" in err and "--version" not in err
    assert counting.seen == 2  # the probe, and the same under the 1.1 path


def test_a_1_1_provider_checked_as_1_2_is_told_to_add_the_version(
        district: Path, capsys: pytest.CaptureFixture) -> None:
    with counted(district, only_v1p1=True) as (url, counting):
        code = main(_check(url, token_url=f"{url}/oauth2/token"))
    err = capsys.readouterr().err
    assert code == 2 and counting.seen == 2
    # 403: the run's token holds 1.2 scopes; what matters is that something answers there.
    assert "answered 404" in err and "/ims/oneroster/v1p1 answers there (403): add --version " \
        "1.1" in err


def test_a_service_url_is_cut_back_to_the_base_url_and_said(
        district: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with counted(district) as (url, _counting):
        pasted = f"{url}/ims/oneroster/rostering/v1p2/"
        code = main(_check(pasted, "--only", "OR-CORE-001", "--report-dir", str(tmp_path),
                           token_url=f"{url}/oauth2/token"))
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0
    assert (f"the base URL is everything before /ims/oneroster: using {url} (from "
            f"{pasted.rstrip('/')})") in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["target"] == url and "everything before" in results["access"]["notes"][0]


def test_nothing_listening_stops_a_static_token_run(capsys: pytest.CaptureFixture) -> None:
    code = main(["check", "provider", "--base-url", "http://127.0.0.1:9", "--token", "t"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "got no answer" in err and "nothing answers at the base URL http://127.0.0.1:9" in err


def test_the_plugin_stops_in_one_line_when_the_credentials_are_refused(
        district: Path, tmp_path: Path) -> None:
    with counted(district) as (url, counting):
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs",
             "harness.conformance", "--oneroster-base-url", url, "--oneroster-token",
             "stale-token"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "CI": "true"})
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stdout[-2000:]
    assert counting.seen == 1
    assert "oneroster: GET " in done.stdout and "give a fresh --oneroster-token" in done.stdout


# --- item 4: OAuth 1.0a, HMAC-SHA256 first and HMAC-SHA1 when that is refused --------------

SIGNER = Connection(name="s", client_id="s-key", client_secret="s-s3cret",
                    scopes=ALL_SCOPES_V11, version="1.1", oauth1=True)


@contextmanager
def sha1_only(district: Path) -> Iterator[tuple[str, Sha1Only]]:
    with Store(district) as store:
        provider = Sha1Only(create_app(store, [SIGNER], Settings(allow_oauth1_sha1=True)))
        with live_server(provider) as url:
            yield url, provider


def _oauth1(url: str, *argv: str) -> list[str]:
    return ["check", "provider", "--base-url", url, "--oauth1", "--version", "1.1",
            "--client-id", "s-key", "--client-secret", "s-s3cret", *argv]


def test_a_sha1_only_provider_is_checked_with_sha1_and_one_finding(district: Path) -> None:
    with sha1_only(district) as (url, provider), \
            Target(url, "", "s-key", "s-s3cret", "1.1", auth="oauth1",
                   signature_method="auto") as target:
        summary = run_checks(target, select(None))
    failed = {r.id: r.message for r in summary.results if r.status == "failed"}
    assert set(failed) == {"OR-AUTH-009"}, failed  # one finding, not dozens
    assert failed["OR-AUTH-009"] == (
        'a request signed with HMAC-SHA256 answered 401 ("unsupported signature method '
        'HMAC-SHA256"); the run signed with HMAC-SHA1, which the provider accepts')
    assert provider.methods[:2] == ["HMAC-SHA256", "HMAC-SHA1"]
    assert provider.methods.count("HMAC-SHA256") == 2  # the probe and OR-AUTH-009's request
    assert summary.access is not None and summary.access.signature_method == "HMAC-SHA1"
    assert "HMAC-SHA1 was accepted, so the run signs with HMAC-SHA1" in summary.access.notes[0]


def test_the_command_line_says_which_method_worked(district: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    with sha1_only(district) as (url, _provider):
        code = main(_oauth1(url, "--only", "OR-CORE-001,OR-AUTH-009", "--report-dir",
                            str(tmp_path)))
    assert code == 1
    access = json.loads((tmp_path / "results.json").read_text())["access"]
    assert access["auth"] == "oauth1" and access["signature_method"] == "HMAC-SHA1"
    printed = " ".join(capsys.readouterr().out.split())
    assert "access: OAuth 1.0a signed with HMAC-SHA1" in printed
    assert "OR-AUTH-009 failed: a request signed with HMAC-SHA256 answered 401" in printed
    assert "s-s3cret" not in printed + (tmp_path / "results.json").read_text()


def test_a_method_given_is_kept_and_its_refusal_stops_the_run(
        district: Path, capsys: pytest.CaptureFixture) -> None:
    with sha1_only(district) as (url, provider):
        code = main(_oauth1(url, "--signature-method", "HMAC-SHA256"))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and provider.methods == ["HMAC-SHA256"]
    assert 'answered 401 (WWW-Authenticate: OAuth realm="oneroster"; "unsupported signature ' \
        'method HMAC-SHA256")' in err
    assert "signed with HMAC-SHA256: check the consumer key and secret and " \
        "--signature-method" in err


def test_a_wrong_secret_refused_both_ways_says_both_methods_were_tried(
        district: Path, capsys: pytest.CaptureFixture) -> None:
    with Store(district) as store, \
            live_server(create_app(store, [SIGNER], Settings(allow_oauth1_sha1=True))) as url:
        code = main(["check", "provider", "--base-url", url, "--oauth1", "--version", "1.1",
                     "--client-id", "s-key", "--client-secret", "not-the-s3cret"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert '"OAuth signature does not match the request"' in err
    assert "signed with HMAC-SHA256 and with HMAC-SHA1 alike" in err
    assert "not-the-s3cret" not in err


def test_the_spec_method_passes_or_auth_009_on_the_mock(district: Path) -> None:
    with Store(district) as store, live_server(create_app(store, [SIGNER])) as url, \
            Target(url, "", "s-key", "s-s3cret", "1.1", auth="oauth1",
                   signature_method="auto") as target:
        summary = run_checks(target, select("OR-CORE-001,OR-AUTH-009"))
    assert [r.status for r in summary.results] == ["passed", "passed"]
    assert summary.access is not None and summary.access.signature_method == "HMAC-SHA256"
    assert summary.access.notes == ()
