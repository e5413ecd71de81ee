"""Checks that real providers taught us (the checker-accuracy issue): 401s without
WWW-Authenticate, a case-sensitive Bearer, HTML answers to other methods, 500s on client
mistakes, fields ignored on single records, a blank fields= accepted, parents without agents,
a user without a primary role at one of its orgs, class terms pointing at a grading period.
Each broken provider is the conformant mock with one defect, caught by its check and by
nothing else; the conformant mock passes them all in 1.2 and 1.1."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.checks import WalkLimits
from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import (
    Broken,
    bad_date_is_500,
    blank_fields_ignored,
    case_sensitive_bearer,
    datetimes_only_as_served,
    delta_filter_at_finer_precision,
    dotted_filters_refused,
    fields_ignored_on_single_records,
    html_for_other_methods,
    limits_taken_as_given,
    nested_class_rosters_not_offered,
    nothing_after_the_one_stamp,
    offset_ignored,
    one_stamp_for_everyone,
    parents_without_agents,
    relative_hrefs_in,
    scores_compared_as_text,
    second_clause_ignored,
    second_org_without_primary,
    sorts_always_throttled,
    status_payload_in_1_1_spelling,
    students_only,
    terms_at_a_grading_period,
)
from .conftest import make_district
from .live_server import live_server

NEW = ("OR-AUTH-007,OR-AUTH-008,OR-ERR-005,OR-ERR-006,OR-ERR-007,OR-FIELDS-003,OR-FIELDS-004,"
       "OR-REF-003,OR-REF-005,OR-DATE-006")
# Checks that also judge what these defects touch, run beside the new ones so that "caught by
# nothing else" means something: the shared walks, errors, auth and dates checks.
NEIGHBOURS = "OR-AUTH-001,OR-AUTH-002,OR-ERR-001,OR-ERR-003,OR-FIELDS-001,OR-REF,OR-DATE"


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _ids(district: Path) -> tuple[str, str]:
    """(the district org, a grading period) of the served district."""
    with Store(district) as store:
        org = store.conn.execute("SELECT sourcedId FROM orgs WHERE type = 'district'").fetchone()
        period = store.conn.execute("SELECT sourcedId FROM academicSessions WHERE "
                                    "type = 'gradingPeriod' AND NOT hidden").fetchone()
    return org[0], period[0]


def _run(district: Path, version: str = "1.2", only: str = f"{NEW},{NEIGHBOURS}",
         seed: int = 42, limits: WalkLimits | None = None, **defect) -> RunSummary:
    """The checks ``only`` against the mock with one defect (or none)."""
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(district) as store:
        app = create_app(store, [connection])
        with live_server(Broken(app, **defect) if defect else app) as url, \
                Target(url, f"{url}/oauth2/token", "h", "h-secret", version) as target:
            return run_checks(target, select(only), seed=seed, limits=limits)


def _fired(summary: RunSummary) -> set[str]:
    return {r.id for r in summary.results if r.status in ("failed", "warning")}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes_them_all(district: Path, version: str) -> None:
    summary = _run(district, version)
    assert not _fired(summary), [(r.id, r.message) for r in summary.results
                                 if r.status != "passed"]
    skipped = {r.id for r in summary.results if r.status == "skipped"}
    assert skipped == ({"OR-REF-003"} if version == "1.1" else set())  # 1.1: one role


DEFECTS: dict[str, tuple[Callable[[Path], dict], set[str]]] = {
    "a 401 without WWW-Authenticate": (lambda d: {"drop_header": b"www-authenticate"},
                                       {"OR-AUTH-007"}),
    "a case-sensitive Bearer": (lambda d: {"request": case_sensitive_bearer}, {"OR-AUTH-008"}),
    "HTML 404s for other methods": (lambda d: {"request": html_for_other_methods},
                                    {"OR-ERR-006", "OR-ERR-007"}),
    "405 without Allow": (lambda d: {"drop_header": b"allow"}, {"OR-ERR-007"}),
    "a bad date in a filter is a 500": (lambda d: {"request": bad_date_is_500},
                                        {"OR-ERR-005", "OR-ERR-003"}),
    "fields ignored on single records": (lambda d: {
        "request": fields_ignored_on_single_records}, {"OR-FIELDS-003"}),
    "a blank fields= answers every field": (lambda d: {"request": blank_fields_ignored},
                                            {"OR-FIELDS-004"}),
    "parents without agents": (lambda d: {"response": parents_without_agents},
                               {"OR-REF-005"}),
    "no primary role at a second org": (lambda d: {
        "response": second_org_without_primary(_ids(d)[0])}, {"OR-REF-003"}),
    # The class's enrollments then run past its (wrong) term: OR-DATE-003 says so too.
    "class terms at a grading period": (lambda d: {
        "response": terms_at_a_grading_period(_ids(d)[1])}, {"OR-DATE-006", "OR-DATE-003"}),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_check_and_nothing_else(district: Path, name: str) -> None:
    build, expected = DEFECTS[name]
    summary = _run(district, **build(district))
    assert _fired(summary) == expected, [(r.id, r.message) for r in summary.results
                                          if r.status in ("failed", "warning")]


def test_every_offender_is_listed_with_its_evidence(district: Path) -> None:
    summary = _run(district, response=parents_without_agents)
    found = next(r for r in summary.results if r.id == "OR-REF-005")
    with Store(district) as store:
        parents = {row[0] for row in store.conn.execute(
            "SELECT sourcedId FROM users WHERE role IN ('parent', 'guardian') AND NOT hidden")}
    assert len(found.items) == len(parents) > 3
    assert {item.split()[0] for item in found.items} == parents
    assert found.message.startswith(f"{len(parents)} users break the agents rules")
    assert found.evidence and all("***" in e.curl for e in found.evidence)


def test_a_delta_filter_that_cannot_be_judged_is_skipped_not_passed(district: Path) -> None:
    """Every user carries one stamp, so dateLastModified>'that stamp' rightly selects nobody:
    nothing tells that from a filter that always answers an empty page."""
    summary = _run(district, request=nothing_after_the_one_stamp,
                   response=one_stamp_for_everyone)
    delta = next(r for r in summary.results if r.id == "OR-DATE-005")
    assert delta.status == "skipped"
    assert "every user has the same dateLastModified" in delta.message


def test_a_failing_compound_filter_names_the_clause_the_provider_drops(district: Path) -> None:
    summary = _run(district, only="OR-FILTER-001", request=second_clause_ignored)
    result = summary.results[0]
    assert result.status == "failed"
    dropped = [item for item in result.items if " AND " in item.split(" on /")[0]]
    assert dropped and all("each clause alone agrees, so the provider does not join them "
                           "with AND (it answered what " in item for item in dropped)
    assert not [item for item in result.items if item not in dropped]  # OR and single agree


def test_a_short_collection_without_x_total_count_is_not_a_short_page(district: Path) -> None:
    summary = _run(district, only="OR-PAGE-005", drop_header=b"x-total-count",
                   request=students_only)
    result = summary.results[0]
    assert (result.status, result.message) == (
        "passed", "limit=100 gave 60 of 60 users (by a walk of /users)")


def test_every_invalid_paging_value_accepted_is_listed(district: Path) -> None:
    summary = _run(district, only="OR-PAGE-006", request=limits_taken_as_given)
    result = summary.results[0]
    assert result.message.startswith("2 of 5 invalid paging values were not refused")
    assert [i.split()[0] for i in result.items] == ["/orgs?limit=0", "/orgs?limit=-1"]


def test_a_delta_filter_at_a_finer_precision_than_served_is_named(district: Path) -> None:
    summary = _run(district, request=delta_filter_at_finer_precision,
                   response=one_stamp_for_everyone)
    delta = next(r for r in summary.results if r.id == "OR-DATE-005")
    assert delta.status == "failed"
    assert "every one is served with exactly that dateLastModified, so the provider compares " \
           "at a finer precision than it serves" in delta.message


def test_a_1_2_status_payload_in_the_1_1_spelling_is_named_as_such(district: Path) -> None:
    summary = _run(district, response=status_payload_in_1_1_spelling)
    for check_id in ("OR-ERR-005", "OR-ERR-006"):  # client mistakes, other methods
        result = next(r for r in summary.results if r.id == check_id)
        assert result.status == "failed" and result.items
        assert all("it carries imsx_codeMinor, the 1.1 spelling; 1.2 puts the code in "
                   "imsx_CodeMinor" in item for item in result.items), result.items


def test_a_walk_that_meets_the_same_records_again_is_a_finding_not_data(district: Path) -> None:
    """Pages of 40 from a provider that ignores offset: the shared walks stop at the first
    repeated page instead of judging copies of the first 40 records."""
    summary = _run(district, only="OR-REF-003,OR-ID-002", request=offset_ignored,
                   limits=WalkLimits(page_size=40, max_pages=10))
    for result in summary.results:
        assert result.status in ("failed", "warning"), result
        assert "at offset 40 repeats 40 records already read on earlier pages: the provider " \
               "ignores offset" in result.message


def test_generated_filters_write_served_instants_other_iso_ways(district: Path) -> None:
    summary = _run(district, only="OR-FILTER-001", request=datetimes_only_as_served)
    result = summary.results[0]
    assert result.status == "failed"
    assert result.items and all(("+00:00'" in item or ".000Z'" in item) and "answered 400" in item
                                for item in result.items), result.items


def test_relative_hrefs_are_a_warning_of_their_own_not_a_broken_schema(district: Path) -> None:
    summary = _run(district, only="OR-SCHEMA,OR-DISC-001,OR-API-001,OR-CORE",
                   response=relative_hrefs_in)
    statuses = {r.id: r.status for r in summary.results}
    assert statuses == {"OR-SCHEMA-001": "passed", "OR-SCHEMA-002": "warning",
                        "OR-DISC-001": "passed", "OR-API-001": "passed",
                        "OR-CORE-001": "passed", "OR-CORE-002": "passed"}
    warning = next(r for r in summary.results if r.id == "OR-SCHEMA-002")
    assert warning.items and all(": '/" in item for item in warning.items)
    assert warning.message.startswith(f"{len(warning.items)} of {len(warning.items)} hrefs")


def test_a_read_the_provider_does_not_offer_says_nothing_about_scopes(district: Path) -> None:
    """Seen on an independent 1.2 provider serving 22 of the 41 reads: a 404 to every token
    is OR-DISC-001's 'not offered', not a scope-table finding."""
    summary = _run(district, only="OR-AUTH-011,OR-DISC-001",
                   request=nested_class_rosters_not_offered)
    results = {r.id: r for r in summary.results}
    assert results["OR-AUTH-011"].status == "passed", results["OR-AUTH-011"].message
    # /classes/{id}/students and /schools/{id}/classes/{id}/students
    assert "2 reads not offered (404/405/501) left out" in results["OR-AUTH-011"].message
    assert "not offered: /classes/{classSourcedId}/students" in results["OR-DISC-001"].message


def test_refused_filters_on_dotted_fields_are_a_warning_not_a_filter_failure(
        district: Path) -> None:
    """Seen on an independent 1.2 provider: school.sourcedId and grades refused with a clean
    400. The spec's examples name plain fields, so OR-FILTER-001 does not judge those filters
    and OR-FILTER-004 warns."""
    for seed in range(1, 9):  # until a generated filter names a dotted field (bounded)
        summary = _run(district, only="OR-FILTER-001,OR-FILTER-004", seed=seed,
                       request=dotted_filters_refused)
        results = {r.id: r for r in summary.results}
        assert results["OR-FILTER-001"].status == "passed", results["OR-FILTER-001"].message
        if "not judged" in results["OR-FILTER-001"].message:
            break
    assert "on dotted or list fields refused with a 4xx, not judged" in \
        results["OR-FILTER-001"].message
    assert results["OR-FILTER-004"].status == "warning"
    assert results["OR-FILTER-004"].message.startswith("2 of 2 filters on dotted or list")


def test_a_rate_limit_that_never_lifts_skips_the_check_instead_of_failing_it(
        district: Path) -> None:
    """Seen on an independent 1.2 provider (100 requests a minute): a check that still meets
    429 after waiting as asked cannot conclude; OR-LOAD-001 reports the rate limit."""
    summary = _run(district, only="OR-SORT-002,OR-LOAD", request=sorts_always_throttled)
    results = {r.id: r for r in summary.results}
    assert results["OR-SORT-002"].status == "skipped"
    assert "kept answering 429" in results["OR-SORT-002"].message
    assert results["OR-LOAD-001"].status == "warning"
    # ...and every one of those 429s was an HTML page, not a status payload.
    assert results["OR-LOAD-002"].status == "failed"
    assert results["OR-LOAD-002"].message.startswith("3 of 3 429 answer(s) carry no status")
    assert all("the body is not JSON (text/html)" in i for i in results["OR-LOAD-002"].items)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_numbers_in_filters_compare_as_numbers(district: Path, version: str) -> None:
    assert _run(district, version, only="OR-FILTER-005").results[0].status == "passed"
    broken = _run(district, version, only="OR-FILTER-005", request=scores_compared_as_text)
    result = broken.results[0]
    assert result.status == "failed"
    assert [i.split(":")[0] for i in result.items] == ["filter score<'9'", "filter score<'9.0'"]
    assert all("results not below" in i for i in result.items)
