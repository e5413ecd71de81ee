"""Data-quality warnings: each of the mock's data quirks that no spec forbids (long codes,
awkward characters, leading zeros) is named by the check meant for it, and the plain district
raises none."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.model import CheckResult
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

QUIRK_CHECKS = {"long-codes": "OR-DATA-001", "odd-characters": "OR-DATA-002",
                "leading-zero-ids": "OR-DATA-003"}


def _results(district: Path) -> dict[str, CheckResult]:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12)
    store = Store(district)
    with live_server(create_app(store, [connection])) as url, \
            Target(url, f"{url}/oauth2/token", "h", "h-secret") as target:
        summary = run_checks(target, select("OR-DATA"))
    store.close()
    return {r.id: r for r in summary.results}


def _statuses(district: Path) -> dict[str, str]:
    return {check_id: r.status for check_id, r in _results(district).items()}


def test_the_plain_district_raises_no_data_warning(districts_dir: Path) -> None:
    assert set(_statuses(make_district(districts_dir, 42, 60)).values()) == {"passed"}


@pytest.mark.parametrize("quirk", sorted(QUIRK_CHECKS))
def test_each_data_quirk_is_named_by_its_check(districts_dir: Path, quirk: str) -> None:
    statuses = _statuses(make_district(districts_dir, 42, 60, frozenset({quirk})))
    expected = QUIRK_CHECKS[quirk]
    assert {c for c, s in statuses.items() if s != "passed"} == {expected}
    assert statuses[expected] == "warning"  # the spec allows it; consumers stumble


def test_a_finding_lists_every_offender_not_the_first_few(districts_dir: Path) -> None:
    district = make_district(districts_dir, 42, 400, frozenset({"long-codes"}))
    result = _results(district)["OR-DATA-001"]
    with Store(district) as store:
        long_codes = {row[0] for row in store.conn.execute(
            "SELECT sourcedId, classCode FROM classes WHERE NOT hidden")
            if len(row[1] or "") > 50}
    assert len(long_codes) > 3  # more than a message names
    assert result.message.startswith(f"{len(long_codes)} classes") and "more" in result.message
    assert sorted(result.items) == sorted(long_codes)
