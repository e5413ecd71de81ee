"""The provider checker: the conformant mock passes every check, and each deliberately broken
provider (the mock with one defect) is caught by its check and by nothing else."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest

from harness.cli import main
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .asgi import answer_of, send_answer
from .conftest import make_district
from .live_server import live_server

Body = Callable[[str, dict], dict | None]


class Defect:
    """The mock with one deliberate defect, as ASGI middleware: it may rewrite the request
    (path, query, headers) and the JSON response of matching requests."""

    def __init__(self, app, request=None, response: Body | None = None,
                 drop_header: bytes | None = None,
                 rewrite_link: Callable[[str], str] | None = None,
                 accept_any_secret: bool = False) -> None:
        self.app, self.request, self.response, self.drop_header = app, request, response, \
            drop_header
        self.rewrite_link = rewrite_link
        self.accept_any_secret = accept_any_secret

    async def __call__(self, scope, receive, send) -> None:
        if self.accept_any_secret and scope["type"] == "http" and \
                scope["path"].endswith("/oauth2/token"):
            right = base64.b64encode(b"h:h-secret")
            scope = {**scope, "headers": [(k, b"Basic " + right if k == b"authorization" else v)
                                          for k, v in scope["headers"]]}
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if self.request:
            scope = self.request(dict(scope))
        status, headers, body = await answer_of(self.app, scope, receive)
        if self.drop_header:
            headers = [(k, v) for k, v in headers if k.lower() != self.drop_header]
        if self.rewrite_link:
            headers = [(k, self.rewrite_link(v.decode()).encode() if k.lower() == b"link"
                        else v) for k, v in headers]
        if self.response and body.strip().startswith((b"{", b"[")):  # not a bare 201/204
            changed = self.response(scope["path"], json.loads(body))
            if changed is not None:
                status, body = changed["status"], json.dumps(changed["body"]).encode()
        await send_answer(send, status, headers, body)


def _query(scope: dict, change: Callable[[dict], dict]) -> dict:
    params = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
    scope["query_string"] = urlencode(change(params)).encode()
    return scope


def _without_token_allowed(scope: dict) -> dict:
    headers = scope["headers"]
    if not any(k == b"authorization" for k, _ in headers):
        scope["headers"] = [*headers, (b"authorization", VALID_TOKEN["value"].encode())]
    return scope


def _extra_key(path: str, body: dict) -> dict | None:
    if path.endswith("/orgs") and isinstance(body.get("orgs"), list):
        return {"status": 200, "body": {**body, "note": "extra"}}
    return None


def _school_classes_as_orgs(path: str, body: dict) -> dict | None:
    if "/schools/" in path and path.endswith("/classes") and "classes" in body:
        return {"status": 200, "body": {"orgs": body["classes"]}}
    return None


def _unknown_route_is_200(path: str, body: dict) -> dict | None:
    if path.endswith("/noSuchCollection"):
        return {"status": 200, "body": {"ok": True}}
    return None


def _unknown_user_is_500(path: str, body: dict) -> dict | None:
    if "/users/" in path and "imsx_codeMajor" in body:
        return {"status": 500, "body": {"error": "boom"}}
    return None


# The mock's tokens live an hour: too long for OR-AUTH-006 to wait out (it is skipped).
SKIPPED_ON_MOCK = {"OR-AUTH-006"}


def expected_on_mock(checks) -> dict[str, str]:
    return {c.id: "skipped" if c.id in SKIPPED_ON_MOCK else "passed" for c in checks}


def _scopes_ignored(path: str, body: dict) -> dict | None:
    if path.endswith("/demographics") and "imsx_codeMajor" in body:
        return {"status": 200, "body": {"demographics": []}}
    return None


VALID_TOKEN: dict[str, str] = {}
DEFECTS = {
    "no X-Total-Count": ({"drop_header": b"x-total-count"}, {"OR-PAGE-002"}),
    "limit ignored": ({"request": lambda s: _query(s, lambda p: {
        **p, "limit": "10"} if p.get("limit") == "3" else p)}, {"OR-PAGE-001"}),
    # OR-API-001 (schemathesis) and OR-DISC-001 (every operation) also meet these.
    "extra key in orgs": ({"response": _extra_key},
                          {"OR-SCHEMA-001", "OR-API-001", "OR-DISC-001"}),
    # Whatever the method: OR-ERR-006's DELETE of an unknown user meets the 500 too.
    "unknown user is a 500": ({"response": _unknown_user_is_500},
                              {"OR-ERR-001", "OR-ERR-003", "OR-API-001", "OR-ERR-006"}),
    "a nested endpoint with the wrong envelope": ({"response": _school_classes_as_orgs},
                                                  {"OR-DISC-001"}),
    "limit=0 taken as the default": ({"request": lambda s: _query(s, lambda p: {
        **p, "limit": "100"} if p.get("limit") == "0" else p)}, {"OR-PAGE-006"}),
    "an unknown route answers 200": ({"response": _unknown_route_is_200}, {"OR-ERR-004"}),
    "scopes are not enforced": ({"response": _scopes_ignored}, {"OR-AUTH-005"}),
    "any secret gets a token": ({"accept_any_secret": True}, {"OR-AUTH-004"}),
    "next link loops back": ({"rewrite_link": lambda link: link.replace(
        "offset=100>", "offset=0>")}, {"OR-PAGE-004"}),
    "no token needed": ({"request": _without_token_allowed}, {"OR-AUTH-001"}),
}


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _serve(district: Path, **defect) -> Iterator[Target]:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    app = create_app(Store(district), [connection])
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


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_check_and_nothing_else(district: Path, name: str) -> None:
    defect, expected = DEFECTS[name]
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
    unknown = subprocess.run([sys.executable, "-m", "harness", "check", "provider", "--base-url",
                              "http://127.0.0.1:9", "--token-url", "http://127.0.0.1:9/token",
                              "--client-id", "x", "--client-secret", "s3cret"], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2
    assert len(unknown.stderr.strip().splitlines()) == 1 and "s3cret" not in unknown.stderr


class Slow:
    """A provider that takes its time over every OneRoster answer."""

    def __init__(self, app, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "/ims/oneroster/" in scope["path"]:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


def test_a_slow_provider_cannot_hold_the_run(district: Path) -> None:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12)
    app = Slow(create_app(Store(district), [connection]), 0.3)
    with live_server(app) as url:
        # A request timeout shorter than the answer: a finding, never a hang or a crash.
        impatient = Target(url, f"{url}/oauth2/token", "h", "h-secret", timeout=0.1)
        summary = run_checks(impatient, select("OR-PAGE-001"))
        impatient.close()
        assert summary.results[0].status == "failed"
        assert summary.results[0].message == "GET /users?limit=3 got no answer (timed out)"
        # A run time limit: the checks not started in time are skipped.
        patient = Target(url, f"{url}/oauth2/token", "h", "h-secret")
        summary = run_checks(patient, select("OR-PAGE,OR-ERR"), max_seconds=0.5)
        patient.close()
    statuses = [r.status for r in summary.results]
    assert "skipped" in statuses and statuses[0] != "skipped"


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
])
def test_check_provider_usage_errors_are_one_line(argv: list[str], message: str,
                                                  capsys: pytest.CaptureFixture) -> None:
    assert main(["check", "provider", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


class Hostile:
    """A provider that answers every OneRoster request with something that is not OneRoster."""

    def __init__(self, app, body: bytes, content_length: int | None = None) -> None:
        self.app, self.body, self.content_length = app, body, content_length

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        length = self.content_length if self.content_length is not None else len(self.body)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(length).encode())]})
        await send({"type": "http.response.body", "body": self.body})


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
