"""Every fault the mock can inject (the consumer scenarios' misbehaviour, also `serve
--faults`) is caught by the provider check that names it, and by nothing else: the checker
works around a fault (new token, waiting out a 429, one retry after a 5xx) and reports it once,
instead of failing every check that happened to meet it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.middleware.faults import FaultPlan
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

FAULTS = {
    "tokens expire early": (FaultPlan(token_uses=40), {"OR-AUTH-003": "failed"}),
    # Schemathesis's generated requests (OR-API-001) go through the Target too: the retried
    # 5xx answers are reported once, by OR-ERR-003.
    "server errors": (FaultPlan(server_error_every=50), {"OR-ERR-003": "failed"}),
    "rate limited": (FaultPlan(rate_limit_every=60, retry_after=1.0),
                     {"OR-LOAD-001": "warning"}),
    "pages capped at 7": (FaultPlan(page_cap=7), {"OR-PAGE-005": "warning"}),
    "first write fails": (FaultPlan(fail_first_write=True), {"OR-ERR-003": "failed"}),
}


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _serve(district: Path, plan: FaultPlan) -> Iterator[Target]:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    store = Store(district)
    try:
        with live_server(create_app(store, [connection], faults=plan)) as url:
            target = Target(url, f"{url}/oauth2/token", "h", "h-secret", max_requests=4_000)
            try:
                yield target
            finally:
                target.close()
    finally:
        store.close()


# Waiting out the Retry-After of every 60th answer (4-5 s), a pause after every 50th (3 s).
SLOW_FAULTS = frozenset({"rate limited", "server errors"})


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_FAULTS
                                  else n for n in sorted(FAULTS)])
def test_each_fault_is_reported_by_its_check_alone(district: Path, name: str) -> None:
    plan, expected = FAULTS[name]
    for target in _serve(district, plan):
        summary = run_checks(target, select(None))
    reported = {r.id: r.status for r in summary.results if r.status in ("failed", "warning")}
    assert reported == expected, {r.id: r.message for r in summary.results
                                  if r.status in ("failed", "warning")}
    assert summary.conformant == ("failed" not in expected.values())
