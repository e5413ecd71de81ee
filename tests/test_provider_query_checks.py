"""The querying checks (filters, sorting, field selection): the conformant mock passes them in
both versions, each deliberately broken provider is caught by exactly its check, and the
client-side filter evaluation agrees with the mock's own reference semantics."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.checks import CHECKS, Context, WalkLimits
from harness.checks.filtering import FILTER_FIELDS, OPERATORS, FilterPool
from harness.checks.sorting import out_of_order
from harness.model import RunSummary
from harness.oneroster import filters as checker
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.query import catalog, matches, parse_filter
from mock_provider.store import Store

from .broken_providers import (
    Params,
    QueryDefect,
    case_sensitive_contains,
    first_predicate_only,
    known_fields_only,
    malformed_filter_is_200,
    no_warnings,
    not_equal_as_equal,
    reversed_order,
    rewrite_filter,
    without_params,
)
from .conftest import examples, make_district
from .live_server import live_server

MINE = "OR-FILTER,OR-SORT,OR-FIELDS"
MY_CHECKS = {c for c in CHECKS if c.startswith(("OR-FILTER-", "OR-SORT-", "OR-FIELDS-"))}
FIRED = ("failed", "warning")


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _run(district: Path, version: str = "1.2", only: str = MINE,
         app_settings: Settings | None = None, limits: WalkLimits | None = None,
         **defect) -> RunSummary:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(district) as store:
        app = create_app(store, [connection], app_settings)
        with live_server(QueryDefect(app, **defect) if defect else app) as url:
            target = Target(url, f"{url}/oauth2/token", "h", "h-secret", version)
            try:
                return run_checks(target, select(only), limits=limits)
            finally:
                target.close()


def _statuses(summary: RunSummary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def _fired(summary: RunSummary) -> set[str]:
    return {r.id for r in summary.results if r.status in FIRED}


def test_the_catalogue_has_the_querying_checks() -> None:
    assert {"OR-FILTER-001", "OR-FILTER-002", "OR-FILTER-003", "OR-FILTER-004", "OR-FILTER-005",
            "OR-SORT-001",
            "OR-SORT-002", "OR-FIELDS-001", "OR-FIELDS-002", "OR-FIELDS-003",
            "OR-FIELDS-004"} == MY_CHECKS
    for check_id in MY_CHECKS:
        check = CHECKS[check_id]
        assert check.explanation and "Fix" in check.explanation, check_id
        assert check.title and check.rule
        assert check.severity == ("warning" if check_id in ("OR-FILTER-003", "OR-FILTER-004")
                                  else "error")


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes(district: Path, version: str) -> None:
    seen: list[Params] = []
    summary = _run(district, version, seen=seen)
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    generated = next(r for r in summary.results if r.id == "OR-FILTER-001")
    assert generated.message.startswith("12 generated filters (")
    assert "on /users" in generated.message and "on /enrollments" in generated.message
    # The generated filters use every operator, one predicate and both logicals.
    filters = [p["filter"] for p in seen if "filter" in p and p.get("offset") == "0"]
    parsed = [parse_filter(f) for f in filters]
    assert {p.op for f in parsed for p in f.predicates} == set(OPERATORS)
    assert {f.logical for f in parsed} == {None, "AND", "OR"}
    # The same data gets the same filters.
    again: list[Params] = []
    _run(district, version, only="OR-FILTER-001", seen=again)
    repeated = [p["filter"] for p in again if "filter" in p]
    assert repeated == [p["filter"] for p in seen if "filter" in p][:len(repeated)]


def test_ignoring_unknown_fields_with_all_data_passes_in_1_2(district: Path) -> None:
    """The mock's lenient switch: unknown ``fields`` names return every field (binding prose)."""
    summary = _run(district, app_settings=Settings(strict_fields=False))
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    result = next(r for r in summary.results if r.id == "OR-FIELDS-002")
    assert "200 with all fields" in result.message


# --- deliberately broken providers -----------------------------------------------------------


DEFECTS: dict[str, tuple[dict, str, tuple[str, ...]]] = {
    "a filter ignores its second predicate": (
        {"request": rewrite_filter(first_predicate_only)}, "OR-FILTER-001", ("1.2", "1.1")),
    "!= is read as =": (
        {"request": rewrite_filter(not_equal_as_equal)}, "OR-FILTER-001", ("1.2",)),
    "~ is case-sensitive": (
        {"response": case_sensitive_contains}, "OR-FILTER-003", ("1.2", "1.1")),
    "a malformed filter answers 200": (
        {"response": malformed_filter_is_200}, "OR-FILTER-002", ("1.2", "1.1")),
    "sort is ignored": ({"request": without_params("sort", "orderBy")}, "OR-SORT-001", ("1.2",)),
    "sort order is reversed": ({"request": reversed_order}, "OR-SORT-001", ("1.1",)),
    "fields is ignored": ({"request": without_params("fields")}, "OR-FIELDS-001", ("1.2",)),
    "unknown fields are dropped silently": (
        {"request": known_fields_only}, "OR-FIELDS-002", ("1.2", "1.1")),
    "1.1 leaves out the unknown-field warning": (
        {"response": no_warnings}, "OR-FIELDS-002", ("1.1",)),
    # The same defect drops the unknown-sort warning too (OR-SORT-002).
}
CASES = [(name, version) for name, (_, _, versions) in DEFECTS.items() for version in versions]


@pytest.mark.parametrize(("name", "version"), CASES)
def test_each_defect_is_caught_by_its_check_alone(district: Path, name: str,
                                                  version: str) -> None:
    defect, expected, _ = DEFECTS[name]
    summary = _run(district, version, **defect)
    also = {"1.1 leaves out the unknown-field warning": {"OR-SORT-002"},
            # Ignored everywhere: on single records and when blank too.
            "fields is ignored": {"OR-FIELDS-003", "OR-FIELDS-004"}}.get(name, set())
    assert _fired(summary) == {expected} | also
    result = next(r for r in summary.results if r.id == expected)
    assert result.status == ("warning" if expected == "OR-FILTER-003" else "failed")
    assert result.evidence and len(result.evidence) <= 3
    assert "h-secret" not in str(result.to_dict())
    others = {r.id: r.status for r in summary.results if r.id != expected and r.id not in also}
    assert set(others.values()) <= {"passed"}, others
    if expected == "OR-FILTER-001":  # the message names the filter and the counts
        assert re.search(r"filter (['\"]).+\1 on /\w+: expected \d+ records?, got \d+",
                         result.message)
        shown = unquote_plus(result.evidence[0].url)
        assert "filter=" in shown


# --- the client-side evaluation ---------------------------------------------------------------


@pytest.fixture(scope="module")
def pools(district: Path) -> dict[str, dict[str, FilterPool]]:
    """Filter pools (walks of /users and /enrollments) per version, read from the mock."""
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    found: dict[str, dict[str, FilterPool]] = {}
    with Store(district) as store, live_server(create_app(store, [connection])) as url:
        for version in ("1.2", "1.1"):
            target = Target(url, f"{url}/oauth2/token", "h", "h-secret", version)
            ctx = Context(target)
            found[version] = {c: FilterPool.build(c, ctx.walk(c), version)
                              for c in FILTER_FIELDS}
            target.close()
    return found


@st.composite
def _filters(draw, pools: dict[str, FilterPool]) -> tuple[FilterPool, checker.Filter]:
    pool = pools[draw(st.sampled_from(sorted(pools)))]

    def predicate() -> checker.Predicate:
        name = draw(st.sampled_from(sorted(pool.values)))
        op = draw(st.sampled_from(checker.ALLOWED[pool.cat.fields[name].kind]))
        value = draw(st.sampled_from(pool.values[name]))
        if op == "~":
            value = value[draw(st.integers(0, len(value) - 1)):][:draw(st.integers(1, 4))]
        return checker.Predicate(name, op, value)

    logical = draw(st.sampled_from((None, "AND", "OR")))
    first = predicate()
    return pool, (checker.Filter((first, predicate()), logical) if logical
                  else checker.Filter((first,)))


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_pools_cached_evaluation_agrees_with_record_by_record_and_the_mock(
        pools: dict[str, dict[str, FilterPool]], version: str) -> None:
    """The check's column-wise evaluation (``FilterPool.result``) is the checker's evaluator
    applied record by record, and on these served values agrees with the mock's ``matches``
    (the full cross-check is tests/test_filter_crosscheck.py)."""
    @settings(max_examples=examples(60))
    @given(_filters(pools[version]))
    def agree(case: tuple[FilterPool, checker.Filter]) -> None:
        pool, flt = case
        records = pool.walk.records
        one_by_one = {i for i, r in enumerate(records) if checker.matches(flt, r, pool.cat)}
        assert set(pool.result(flt)) == one_by_one
        mock_cat = catalog(pool.collection, version)
        assert {i for i, r in enumerate(records)
                if matches(parse_filter(str(flt)), r, mock_cat)} == one_by_one

    agree()


def test_sort_order_accepts_code_point_and_case_insensitive_collations() -> None:
    assert not out_of_order("Zed", "adams", "asc")  # code point order (Z before a)
    assert not out_of_order("adams", "Zed", "asc")  # case-insensitive order
    assert not out_of_order("Ana", "Ána", "asc") and not out_of_order("O'Neil", "Oakes", "asc")
    assert out_of_order("Smith", "Adams", "asc") and out_of_order("Adams", "Smith", "desc")
    assert not out_of_order("Smith", "Smith", "asc")


def test_walks_cut_short_never_invent_findings(district: Path) -> None:
    """Pages of 40 and walks of 2 pages: the filter check still judges what it read (every
    returned record must match) and says the walk was partial; nothing fires."""
    summary = _run(district, limits=WalkLimits(page_size=40, max_pages=2))
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    generated = next(r for r in summary.results if r.id == "OR-FILTER-001")
    assert "partial" in generated.message
