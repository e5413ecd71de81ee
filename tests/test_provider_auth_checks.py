"""The auth semantics checks: the token URL's RFC 6749 error codes (OR-AUTH-010) and the
whole scope table of the rostering reads (OR-AUTH-011). The conformant mock passes them in
1.2 and 1.1; each broken provider (the mock with one defect, as ASGI middleware on a real
uvicorn server) is caught by its check and by nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store
from mock_provider.tokens import TokenIssuer

from .broken_providers import (
    ScopedDefect,
    bare_403_on_nested_reads,
    generic_token_errors,
    grants_every_scope,
    nested_reads_open_with_core,
    user_by_id_needs_roster,
)
from .conftest import make_district
from .live_server import live_server

CHECKED = "OR-AUTH,OR-CORE,OR-DISC,OR-ERR-001,OR-ERR-004"
CONNECTION = Connection(name="h", client_id="h", client_secret="h-s3cret",
                        scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)


def _run(district: Path, version: str = "1.2", defect: Callable | None = None) -> RunSummary:
    tokens = TokenIssuer()
    with Store(district) as store:
        app = create_app(store, [CONNECTION], tokens=tokens)
        served = ScopedDefect(app, tokens, CONNECTION, defect) if defect else app
        with live_server(served) as url, \
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
    summary = _run(district, defect=grants_every_scope)
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
