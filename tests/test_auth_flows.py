"""The checker's credentials (harness.auth) against the real mock over HTTP: OAuth 1.0a signed
by oauthlib with HMAC-SHA256 and HMAC-SHA1, OAuth 2.0 client credentials fetched once, kept,
and renewed once on a 401, and every secret masked in what the checker shows."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from harness.auth import ClientCredentials, CredentialsError, OAuth1Signature
from harness.cli import main
from harness.runner import run_checks, select
from harness.target import Target, TargetError
from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

SIGNER = Connection(name="lms", client_id="lms-key", client_secret="lms-s3cret",
                    scopes=ALL_SCOPES_V11 | ALL_SCOPES_V12, oauth1=True)
SHORT_LIVED = Connection(name="brief", client_id="brief", client_secret="brief-s3cret",
                         scopes=ALL_SCOPES_V12, token_lifetime=1)
FILTER = {"filter": "familyName='O Brien' AND status='active'", "limit": 5, "sort": "givenName"}


@pytest.fixture(scope="module")
def store(districts_dir: Path) -> Iterator[Store]:
    with Store(make_district(districts_dir, 42, 60)) as opened:
        yield opened


def _serve(store: Store, *, sha1: bool = False):
    settings = Settings(allow_oauth1_sha1=sha1)
    return live_server(create_app(store, [SIGNER, SHORT_LIVED], settings))


def _oauth_params(header: str) -> dict[str, str]:
    pairs = (part.strip().split("=", 1) for part in header.removeprefix("OAuth ").split(","))
    return {name: unquote(value.strip('"')) for name, value in pairs}


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_oauth1_signatures_are_accepted_by_the_mock(store: Store, method: str) -> None:
    with _serve(store, sha1=True) as url, Target(url, "", "lms-key", "lms-s3cret", "1.1",
                                                 auth="oauth1", signature_method=method) as t:
        plain = t.get("/users", {"limit": 2})
        quoted = t.get("/users", FILTER)  # quotes, spaces and AND in the signed query
        again = t.get("/users", {"limit": 2})  # a fresh nonce each time: no replay refusal
    assert [plain.status, quoted.status, again.status] == [200, 200, 200], quoted.text
    assert len(plain.json()["users"]) == 2
    params = _oauth_params(OAuth1Signature("k", "s", method).authorization("GET", url))
    assert params["oauth_signature_method"] == method and params["oauth_version"] == "1.0"
    assert "oauth_token" not in params  # two-legged, as OneRoster signs
    curl = quoted.evidence().curl
    assert "Authorization: OAuth ***" in curl
    assert "lms-s3cret" not in curl and "oauth_signature" not in curl


def test_oauth1_signs_queries_httpx_leaves_unescaped(store: Store) -> None:
    # httpx sends [ and ] in a query as they are; oauthlib would refuse to sign them raw.
    with _serve(store) as url, httpx.Client(auth=OAuth1Signature("lms-key", "lms-s3cret")) as c:
        answer = c.get(f"{url}/ims/oneroster/v1p1/users?filter=givenName='[Ann] é'&limit=1")
    assert answer.status_code == 200, answer.text
    assert "[Ann]" in str(answer.request.url)


def test_sha1_is_refused_where_the_provider_allows_only_sha256(store: Store) -> None:
    with _serve(store) as url, Target(url, "", "lms-key", "lms-s3cret", "1.1", auth="oauth1",
                                      signature_method="HMAC-SHA1") as target:
        refused = target.get("/users", {"limit": 2})
    assert refused.status == 401 and "HMAC-SHA1 is not accepted" in refused.text


def test_a_wrong_consumer_secret_is_refused_and_never_shown(store: Store) -> None:
    with _serve(store) as url, Target(url, "", "lms-key", "not-the-s3cret", "1.1",
                                      auth="oauth1") as target:
        refused = target.get("/orgs")
    assert refused.status == 401 and "signature does not match" in refused.text
    assert "not-the-s3cret" not in json.dumps(refused.evidence().__dict__)


def test_unknown_signature_methods_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="HMAC-SHA256, HMAC-SHA1"):
        OAuth1Signature("k", "s", "PLAINTEXT")


def test_the_oauth1_catalogue_passes_on_the_mock_with_sha1(store: Store) -> None:
    with _serve(store, sha1=True) as url, Target(url, "", "lms-key", "lms-s3cret", "1.1",
                                                 auth="oauth1",
                                                 signature_method="HMAC-SHA1") as target:
        summary = run_checks(target, select(None))
    assert {r.id: r.message for r in summary.results if r.status == "failed"} == {}
    assert "lms-s3cret" not in json.dumps([r.to_dict() for r in summary.results])


def _counting_client(seen: list[str]) -> httpx.Client:
    return httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]})


def test_client_credentials_fetch_once_keep_the_answer_and_renew_once(store: Store) -> None:
    seen: list[str] = []
    with _serve(store) as url, _counting_client(seen) as token_client:
        flow = ClientCredentials(f"{url}/oauth2/token", "brief", "brief-s3cret",
                                 client=token_client)
        with httpx.Client(base_url=url, auth=flow) as client:
            first = client.get("/ims/oneroster/rostering/v1p2/orgs")
            second = client.get("/ims/oneroster/rostering/v1p2/orgs")
            assert seen == ["/oauth2/token"]  # fetched once, then reused
            assert flow.expires_in == 1 and flow.scope and "roster-core" in flow.scope
            time.sleep(1.5)  # the token has expired: the provider answers 401
            late = client.get("/ims/oneroster/rostering/v1p2/orgs")
    assert [first.status_code, second.status_code, late.status_code] == [200, 200, 200]
    assert seen == ["/oauth2/token", "/oauth2/token"]  # one renewal, then the retry passed
    assert [r.status_code for r in late.history] == [401]


def test_the_target_renews_a_refused_token_itself_and_reports_it(store: Store) -> None:
    with _serve(store) as url, Target(url, f"{url}/oauth2/token", "brief",
                                      "brief-s3cret") as target:
        target.authenticate()
        time.sleep(1.5)
        late = target.get("/orgs")
        assert late.status == 200 and target.requests == 2  # the retry counts
    [incident] = target.incidents
    assert incident.kind == "token-refused" and incident.exchange.status == 401
    assert "issued for 1 s" in incident.detail and not incident.premature


def test_refused_client_credentials_are_one_line_without_the_secret(store: Store) -> None:
    with _serve(store) as url:
        flow = ClientCredentials(f"{url}/oauth2/token", "brief", "wrong-s3cret")
        with pytest.raises(CredentialsError) as refused:
            flow.token()
        flow.close()
        with Target(url, f"{url}/oauth2/token", "brief", "wrong-s3cret") as target, \
                pytest.raises(TargetError) as stopped:
            target.authenticate()
    for error in (refused.value, stopped.value):
        assert "answered 401" in str(error) and "wrong-s3cret" not in str(error)


def test_the_command_line_signs_with_the_method_asked_for(store: Store, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    argv = ["check", "provider", "--oauth1", "--version", "1.1", "--client-id", "lms-key",
            "--client-secret", "lms-s3cret", "--only", "OR-CORE,OR-PAGE",
            "--report-dir", str(tmp_path)]
    with _serve(store) as url:
        assert main([*argv, "--base-url", url]) == 0  # HMAC-SHA256 unless told otherwise
        assert "lms-s3cret" not in (tmp_path / "results.json").read_text()
        assert "lms-s3cret" not in (tmp_path / "report.html").read_text()
        capsys.readouterr()
        # Told to sign with HMAC-SHA1, which this provider refuses: the run stops at once.
        assert main([*argv, "--base-url", url, "--signature-method", "HMAC-SHA1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HMAC-SHA1 is not accepted" in err
    assert "signed with HMAC-SHA1" in err and "--signature-method" in err
    assert "lms-s3cret" not in err
