"""The provider checker: the conformant mock passes every check, and each deliberately broken
provider (the mock with one defect) is caught by its check and by nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.runner import run_checks, select
from harness.target import MAX_BODY, Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import (
    VALID_TOKEN,
    Defect,
    Hostile,
    Slow,
    by_id_answers,
    by_id_in_a_list,
    extra_key_in_orgs,
    huge_refusals_of_users,
    rewrite_query,
    school_classes_as_orgs,
    scopes_ignored,
    unknown_filter_field_is_200,
    unknown_route_is_200,
    unknown_user_is_500,
    without_token_allowed,
)
from .conftest import make_district
from .live_server import live_server

# The mock's tokens live an hour: too long for OR-AUTH-006 to wait out (it is skipped);
# OR-AUTH-009 judges OAuth 1.0a signing, and these runs use client credentials.
SKIPPED_ON_MOCK = {"OR-AUTH-006", "OR-AUTH-009"}


def expected_on_mock(checks) -> dict[str, str]:
    return {c.id: "skipped" if c.id in SKIPPED_ON_MOCK else "passed" for c in checks}


DEFECTS = {
    "no X-Total-Count": ({"drop_header": b"x-total-count"}, {"OR-PAGE-002"}),
    "limit ignored": ({"request": lambda s: rewrite_query(s, lambda p: {
        **p, "limit": "10"} if p.get("limit") == "3" else p)}, {"OR-PAGE-001"}),
    # OR-API-001 (schemathesis) and OR-DISC-001 (every operation) also meet these.
    "extra key in orgs": ({"response": extra_key_in_orgs},
                          {"OR-SCHEMA-001", "OR-API-001", "OR-DISC-001"}),
    # Whatever the method: OR-ERR-006's DELETE of an unknown user meets the 500 too, and so
    # do the 403s OR-AUTH-011 expects under /users/ for a token without the scope.
    "unknown user is a 500": ({"response": unknown_user_is_500},
                              {"OR-ERR-001", "OR-ERR-003", "OR-API-001", "OR-ERR-006",
                               "OR-AUTH-011"}),
    "a nested endpoint with the wrong envelope": ({"response": school_classes_as_orgs},
                                                  {"OR-DISC-001"}),
    "limit=0 taken as the default": ({"request": lambda s: rewrite_query(s, lambda p: {
        **p, "limit": "100"} if p.get("limit") == "0" else p)}, {"OR-PAGE-006"}),
    "an unknown route answers 200": ({"response": unknown_route_is_200}, {"OR-ERR-004"}),
    # OR-AUTH-011 asks /demographics with a roster.readonly token, OR-AUTH-005 with a
    # roster-core.readonly one: both see the 200.
    "scopes are not enforced": ({"response": scopes_ignored}, {"OR-AUTH-005", "OR-AUTH-011"}),
    "any secret gets a token": ({"accept_any_secret": True}, {"OR-AUTH-004"}),
    "next link loops back": ({"rewrite_link": lambda link: link.replace(
        "offset=100>", "offset=0>")}, {"OR-PAGE-004"}),
    "no token needed": ({"request": without_token_allowed}, {"OR-AUTH-001"}),
    "any bearer token is accepted": ({"accept_any_token": True}, {"OR-AUTH-002"}),
    "get-by-id answers another record": (
        lambda d: {"request": by_id_answers("courses", _last("courses", d))}, {"OR-CORE-002"}),
    # OR-DISC-001 asks every operation, /courses/{sourcedId} among them, with the same id.
    "get-by-id answers a list": ({"response": by_id_in_a_list("courses", "course")},
                                 {"OR-CORE-002", "OR-DISC-001"}),
    "an unknown filter field answers 200": ({"response": unknown_filter_field_is_200},
                                            {"OR-ERR-002"}),
    # The refusal's status and headers stay right (OR-AUTH-002, OR-AUTH-007 pass): only its
    # size is wrong, one byte over what the checker reads.
    "a refusal larger than the answer cap": (
        {"response": huge_refusals_of_users(MAX_BODY + 1)}, {"OR-SIZE-001"}),
}


def _last(collection: str, district: Path) -> str:
    """The sourcedId of the collection's last served record (never its first)."""
    with Store(district) as store:
        return store.conn.execute(f"SELECT sourcedId FROM {collection} WHERE hidden = 0 "
                                  "ORDER BY seq DESC LIMIT 1").fetchone()[0]


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _serve(district: Path, **defect) -> Iterator[Target]:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    app = create_app(Store(district), [connection], close_store=True)
    with live_server(Defect(app, **defect) if defect else app) as url:
        target = Target(url, f"{url}/oauth2/token", "h", "h-secret")
        VALID_TOKEN["value"] = f"Bearer {target.token()}"
        try:
            yield target
        finally:
            target.close()


def test_the_conformant_mock_passes_every_check(district: Path) -> None:
    for target in _serve(district):
        summary = run_checks(target, select(None))
    assert {r.id: r.status for r in summary.results} == expected_on_mock(select(None))
    assert summary.conformant


@pytest.mark.parametrize("profiles", ["spec,campus", "google,schoology,canvas"])
def test_the_conformant_mock_passes_every_profile(district: Path, profiles: str) -> None:
    checks = select(None, profiles)
    for target in _serve(district):
        summary = run_checks(target, checks)
    assert {r.id: r.status for r in summary.results} == expected_on_mock(checks)
    if "google" in profiles:
        assert {"OR-GGL-001", "OR-GGL-002"} <= {r.id for r in summary.results}
    if "schoology" in profiles:
        assert next(c for c in checks if c.id == "OR-ID-003").severity == "error"


# Streams 64 MB through the checker: about 2 s more than the others.
SLOW_DEFECTS = frozenset({"a refusal larger than the answer cap"})


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_DEFECTS
                                  else n for n in sorted(DEFECTS)])
def test_each_defect_is_caught_by_its_check_and_nothing_else(district: Path, name: str) -> None:
    defect, expected = DEFECTS[name]
    if callable(defect):  # built from the served district's records
        defect = defect(district)
    for target in _serve(district, **defect):
        summary = run_checks(target, select(None))
    failed = {r.id for r in summary.results if r.status == "failed"}
    assert failed == expected
    assert not summary.conformant
    token = VALID_TOKEN["value"].removeprefix("Bearer ")
    for result in summary.results:
        if result.status == "failed":
            assert result.evidence, "a failure shows the exchange behind it"
            printed = json.dumps(result.to_dict())
            assert "h-secret" not in printed and token not in printed


def test_the_command_line_writes_reports_and_exits_by_verdict(tmp_path: Path) -> None:
    env = {**os.environ, "CI": "true", "COLUMNS": "160"}
    done = subprocess.run([sys.executable, "-m", "harness", "check", "provider", "--mock",
                           "--size", "tiny", "--report-dir", "out", "--only", "OR-PAGE,OR-ERR"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["id"] for r in results["results"]} == {c.id for c in select("OR-PAGE,OR-ERR")}
    assert {"OR-PAGE-001", "OR-ERR-001"} <= {r["id"] for r in results["results"]}
    assert (tmp_path / "out" / "junit.xml").is_file()
    assert (tmp_path / "out" / "report.html").is_file()


def test_an_unreachable_provider_is_one_line_without_the_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)  # wherever a report would go, it is not the checkout
    code = main(["check", "provider", "--base-url", "http://127.0.0.1:9", "--token-url",
                 "http://127.0.0.1:9/token", "--client-id", "x", "--client-secret", "s3cret"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "s3cret" not in err


def test_a_slow_provider_cannot_hold_the_run(district: Path) -> None:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12)
    app = Slow(create_app(Store(district), [connection], close_store=True), 0.3)
    with live_server(app) as url:
        # A request timeout shorter than the answer: a finding, never a hang or a crash.
        impatient = Target(url, f"{url}/oauth2/token", "h", "h-secret", timeout=0.1)
        summary = run_checks(impatient, select("OR-PAGE-001"))
        impatient.close()
        assert summary.results[0].status == "failed"
        assert summary.results[0].message == (
            "GET /users?limit=3 got no answer (timed out: the answer did not arrive whole "
            "within 0.1 s, --timeout)")
        # A run time limit: the checks not started in time are skipped.
        patient = Target(url, f"{url}/oauth2/token", "h", "h-secret")
        summary = run_checks(patient, select("OR-PAGE,OR-ERR"), max_seconds=0.5)
        patient.close()
    statuses = [r.status for r in summary.results]
    assert "skipped" in statuses and statuses[0] != "skipped"


@pytest.mark.slow  # three whole runs of the catalogue: 3-6 s
def test_static_token_oauth1_and_concurrency_runs_pass_on_the_mock(district: Path) -> None:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11, oauth1=True)
    store = Store(district)
    with live_server(create_app(store, [connection])) as url:
        with Target(url, f"{url}/oauth2/token", "h", "h-secret") as first:
            token = first.token()
        runs = {
            "bearer": Target(url, "", "", token, auth="bearer"),
            "oauth1": Target(url, "", "h", "h-secret", "1.1", auth="oauth1"),
            "parallel": Target(url, f"{url}/oauth2/token", "h", "h-secret", concurrency=3),
        }
        for name, target in runs.items():
            with target:
                summary = run_checks(target, select(None))
                bad = {r.id: r.message for r in summary.results if r.status == "failed"}
                assert bad == {}, name
                curl = target.get("/orgs").evidence().curl
                assert ("OAuth ***" if name == "oauth1" else "Bearer ***") in curl
                assert token not in curl and "h-secret" not in curl
    store.close()


@pytest.mark.parametrize("argv, message", [
    (["--mock", "--profile", "nope"], "unknown profile 'nope'"),
    (["--mock", "--concurrency", "9"], "--concurrency is at most 5"),
    (["--base-url", "http://127.0.0.1:9", "--oauth1", "--client-id", "a",
      "--client-secret", "b"], "add --version 1.1"),
    (["--base-url", "http://127.0.0.1:9", "--oauth1", "--token", "t"], "not both"),
    (["--base-url", "http://127.0.0.1:9"], "give --token-url, --client-id, --client-secret"),
    (["--mock", "--token", "t"], "drop --base-url/--token-url/--token/--oauth1"),
    (["--base-url", "http://127.0.0.1:9", "--token-url", "http://127.0.0.1:9/token",
      "--client-id", "a", "--client-secret", "b", "--signature-method", "HMAC-SHA1"],
     "--signature-method applies to OAuth 1.0a: add --oauth1"),
])
def test_check_provider_usage_errors_are_one_line(argv: list[str], message: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "provider", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("body, length", [
    (b"<html><body>Service Unavailable</body></html>", None),  # not JSON
    (b'{"users": [{"sourcedId": "x"', None),  # truncated JSON
    (b'{"users": [], "orgs": 7, "classes": null}', None),  # JSON of the wrong shapes
    (b'{"users": []}', 500),  # the body ends before its Content-Length
])
def test_a_hostile_provider_gets_findings_not_a_crash(district: Path, body: bytes,
                                                      length: int | None) -> None:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12)
    store = Store(district)
    hostile = Hostile(create_app(store, [connection]), body, length)
    with live_server(hostile) as url, Target(url, f"{url}/oauth2/token", "h", "h-secret",
                                             timeout=2) as target:
        summary = run_checks(target, select(None, "spec,campus,google"))
    store.close()
    crashed = {r.id: r.message for r in summary.results if "could not complete" in r.message}
    assert crashed == {}
    assert not summary.conformant
    assert {"OR-CORE-001", "OR-SCHEMA-001"} <= {r.id for r in summary.failed}


def test_short_lived_tokens_are_refused_once_expired(district: Path) -> None:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12, token_lifetime=1)
    store = Store(district)
    with live_server(create_app(store, [connection])) as url, \
            Target(url, f"{url}/oauth2/token", "h", "h-secret") as target:
        summary = run_checks(target, select("OR-AUTH-006"))
    store.close()
    assert summary.results[0].status == "passed", summary.results[0].message
