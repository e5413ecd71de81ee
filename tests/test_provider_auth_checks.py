"""The auth semantics checks: the token URL's RFC 6749 error codes (OR-AUTH-010) and the
whole scope table of the rostering reads (OR-AUTH-011). The conformant mock passes them in
1.2 and 1.1; each broken provider (the mock with one defect, as ASGI middleware on a real
uvicorn server) is caught by its check and by nothing else."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.errors import OneRosterError, error_body
from mock_provider.store import Store
from mock_provider.tokens import TokenIssuer

from .broken_providers import answer_of, send_answer
from .conftest import make_district
from .live_server import live_server

CHECKED = "OR-AUTH,OR-CORE,OR-DISC,OR-ERR-001,OR-ERR-004"
CONNECTION = Connection(name="h", client_id="h", client_secret="h-s3cret",
                        scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
JSON = [(b"content-type", b"application/json")]
BASES = ("/ims/oneroster/rostering/v1p2", "/ims/oneroster/v1p1")


class Broken:
    """The mock with one auth defect. ``tokens`` is the mock's own issuer, so a defect can
    read which scopes a request's token holds (``scopes_of``) and issue a wider one."""

    def __init__(self, app, tokens: TokenIssuer, defect: Callable) -> None:
        self.app, self.tokens, self.defect = app, tokens, defect

    def scopes_of(self, scope: dict) -> frozenset[str]:
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        try:
            return self.tokens.verify(header.removeprefix("Bearer ")).scopes
        except OneRosterError:
            return frozenset()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.defect(self, scope, receive, send)


def _route(scope: dict) -> tuple[str, list[str]] | None:
    """(the version's base, the path's segments after it) of a OneRoster rostering path."""
    for base in BASES:
        if scope["path"].startswith(base + "/"):
            return base, [p for p in scope["path"][len(base):].split("/") if p]
    return None


def _short(scopes: frozenset[str]) -> set[str]:
    return {s.rsplit("/", 1)[-1] for s in scopes}


async def generic_token_errors(broken: Broken, scope, receive, send) -> None:
    """Every token refusal is a bare 400 invalid_request, whatever was wrong."""
    status, headers, body = await answer_of(broken.app, scope, receive)
    if scope["path"].endswith("/oauth2/token") and status != 200:
        status, body = 400, json.dumps({"error": "invalid_request"}).encode()
    await send_answer(send, status, headers, body)


async def nested_reads_open_with_core(broken: Broken, scope, receive, send) -> None:
    """A roster-core token reads the nested rosters (which need roster.readonly)."""
    route = _route(scope)
    if route and len(route[1]) >= 3 and _short(broken.scopes_of(scope)) == {
            "roster-core.readonly"}:
        wider = broken.tokens.issue(CONNECTION, CONNECTION.scopes).access_token
        scope = {**scope, "headers": [
            (k, f"Bearer {wider}".encode() if k == b"authorization" else v)
            for k, v in scope["headers"]]}
    await broken.app(scope, receive, send)


async def user_by_id_needs_roster(broken: Broken, scope, receive, send) -> None:
    """GET /users/{id} refused to a roster-core token (the provider requires roster)."""
    route = _route(scope)
    if route and len(route[1]) == 2 and route[1][0] == "users" and _short(
            broken.scopes_of(scope)) == {"roster-core.readonly"}:
        version = "1.1" if route[0].endswith("v1p1") else "1.2"
        body = error_body(OneRosterError(403, "forbidden", "roster.readonly needed"), version)
        await send_answer(send, 403, JSON, body)
        return
    await broken.app(scope, receive, send)


async def bare_403_on_nested_reads(broken: Broken, scope, receive, send) -> None:
    """The nested reads' 403s come without a status payload."""
    status, headers, body = await answer_of(broken.app, scope, receive)
    route = _route(scope)
    if route and len(route[1]) >= 3 and status == 403:
        headers, body = [(b"content-type", b"text/plain")], b"Forbidden"
    await send_answer(send, status, headers, body)


def _run(district: Path, version: str = "1.2", defect: Callable | None = None) -> RunSummary:
    tokens = TokenIssuer()
    with Store(district) as store:
        app = create_app(store, [CONNECTION], tokens=tokens)
        with live_server(Broken(app, tokens, defect) if defect else app) as url, \
                Target(url, f"{url}/oauth2/token", "h", "h-s3cret", version) as target:
            return run_checks(target, select(CHECKED))


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _fired(summary: RunSummary) -> set[str]:
    return {r.id for r in summary.results if r.status in ("failed", "warning")}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes_the_auth_semantics(district: Path, version: str) -> None:
    summary = _run(district, version)
    assert not _fired(summary), [(r.id, r.message) for r in summary.results
                                 if r.status != "passed"]
    results = {r.id: r for r in summary.results}
    assert results["OR-AUTH-010"].status == "passed"
    table = results["OR-AUTH-011"]
    assert table.status == "passed"
    # 22 core reads x 2 scopes, 17 nested and 2 demographics reads x 1, one refusal each.
    assert table.message.startswith("104 requests over 41 rostering reads")


DEFECTS: dict[str, tuple[Callable, str, str]] = {
    "token refusals without their error codes": (
        generic_token_errors, "OR-AUTH-010",
        "3 of 3 token refusals do not carry their RFC 6749 error: a wrong client secret "
        "answered 400 with error 'invalid_request', not 'invalid_client'"),
    "nested reads open with roster-core": (
        nested_reads_open_with_core, "OR-AUTH-011",
        "17 of 104 requests over 41 rostering reads broke the scope table: GET "
        "/classes/{classSourcedId}/students with a token holding only roster-core.readonly "
        "(none of its scopes) answered 200, not 403"),
    "a user by id refused to roster-core": (
        user_by_id_needs_roster, "OR-AUTH-011",
        "1 of 104 requests over 41 rostering reads broke the scope table: GET "
        "/users/{sourcedId} with a token holding roster-core.readonly (one of its scopes) "
        "answered 403"),
    "bare 403s on nested reads": (
        bare_403_on_nested_reads, "OR-AUTH-011",
        "17 of 104 requests over 41 rostering reads broke the scope table: GET "
        "/classes/{classSourcedId}/students: the 403 is not a status payload: the body is "
        "not JSON (text/plain)"),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_auth_defect_is_caught_by_its_check_and_nothing_else(district: Path,
                                                                  name: str) -> None:
    defect, expected, message = DEFECTS[name]
    summary = _run(district, defect=defect)
    assert _fired(summary) == {expected}, [(r.id, r.message) for r in summary.results
                                           if r.status in ("failed", "warning")]
    found = next(r for r in summary.results if r.id == expected)
    assert found.message.startswith(message), found.message
    assert found.evidence and all("h-s3cret" not in e.curl for e in found.evidence)


def test_a_provider_that_does_not_narrow_tokens_skips_the_scope_table(district: Path) -> None:
    async def grants_everything(broken: Broken, scope, receive, send) -> None:
        status, headers, body = await answer_of(broken.app, scope, receive)
        if scope["path"].endswith("/oauth2/token") and status == 200:
            answer = json.loads(body)
            answer["scope"] = " ".join(sorted(CONNECTION.scopes))
            body = json.dumps(answer).encode()
        await send_answer(send, status, headers, body)

    summary = _run(district, defect=grants_everything)
    results = {r.id: r for r in summary.results}
    assert results["OR-AUTH-011"].status == "skipped"
    assert "does not narrow tokens to the scope asked for" in results["OR-AUTH-011"].message
    assert results["OR-AUTH-005"].status == "skipped"


def test_the_scope_table_stays_within_its_share_of_the_budget(district: Path) -> None:
    with Store(district) as store, live_server(create_app(store, [CONNECTION])) as url, \
            Target(url, f"{url}/oauth2/token", "h", "h-s3cret", max_requests=160) as target:
        summary = run_checks(target, select("OR-AUTH-011"))
    [table] = summary.results
    assert table.status == "passed", table.message
    asked = int(table.message.split()[0])
    # 160 requests: the probe, three token requests and the first pages leave about 150,
    # a quarter of which this check may spend.
    assert 30 <= asked <= 40 and "more left unasked (the run's budget)" in table.message
    assert target.requests < 60
