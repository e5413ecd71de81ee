"""The integrity checks (references, identities, dates): the conformant mock passes them in
both versions, each deliberately broken provider is caught by exactly its check, and each
identity quirk of the mock's data is named by the check meant for it."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.checks import CHECKS, WalkLimits
from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import (
    Defect,
    add_primary_role,
    class_typed_as_course,
    delta_filter,
    drop_last,
    edit_class_members,
    edit_records,
    enrollment_before_its_term,
    grading_period_outside_its_term,
    local_modified_time,
    org_is_its_own_parent,
    term_without_school_year,
    without_record,
)
from .conftest import make_district
from .live_server import live_server

MINE = "OR-REF,OR-ID,OR-DATE"
MY_CHECKS = {c for c in CHECKS if c.startswith(("OR-REF-", "OR-ID-", "OR-DATE-"))}
FIRED = ("failed", "warning")


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


def _run(district: Path, version: str = "1.2", limits: WalkLimits | None = None,
         **defect) -> RunSummary:
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    store = Store(district)
    app = create_app(store, [connection])
    try:
        with live_server(Defect(app, **defect) if defect else app) as url:
            target = Target(url, f"{url}/oauth2/token", "h", "h-secret", version)
            try:
                return run_checks(target, select(MINE), limits=limits)
            finally:
                target.close()
    finally:
        store.close()


def _statuses(summary: RunSummary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def _fired(summary: RunSummary) -> set[str]:
    return {r.id for r in summary.results if r.status in FIRED}


def test_the_catalogue_has_the_integrity_checks() -> None:
    assert {"OR-REF-001", "OR-REF-002", "OR-REF-003", "OR-REF-004", "OR-ID-001", "OR-ID-002",
            "OR-ID-003", "OR-ID-004", "OR-ID-005", "OR-DATE-001", "OR-DATE-002",
            "OR-DATE-003", "OR-DATE-004", "OR-DATE-005", "OR-REF-005",
            "OR-DATE-006"} == MY_CHECKS
    for check_id in MY_CHECKS:
        check = CHECKS[check_id]
        assert check.explanation and "Fix" in check.explanation, check_id
        assert check.title and check.rule and check.severity in ("error", "warning")
    assert all(CHECKS[c].severity == "warning" for c in MY_CHECKS if c.startswith("OR-ID-"))


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes(district: Path, version: str) -> None:
    statuses = _statuses(_run(district, version))
    expected = {c: "passed" for c in MY_CHECKS}
    if version == "1.1":
        expected["OR-REF-003"] = "skipped"  # 1.1 users have one role
    assert statuses == expected


@pytest.mark.slow
def test_the_zoned_k12_district_passes(districts_dir: Path) -> None:
    """Several schools, shared teachers, parents with children in two buildings."""
    summary = _run(make_district(districts_dir, 42, 4_000))
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    users = next(r for r in summary.results if r.id == "OR-REF-003")
    assert int(users.message.split()[0]) > 8_000  # every user was read


def test_without_x_total_count_the_walks_still_finish(district: Path) -> None:
    summary = _run(district, drop_header=b"x-total-count")
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    assert all("partial" not in r.message for r in summary.results)


def test_walks_cut_short_say_so_and_never_invent_findings(district: Path) -> None:
    summary = _run(district, limits=WalkLimits(page_size=40, max_pages=2))
    assert not _fired(summary)
    statuses = _statuses(summary)
    assert statuses["OR-REF-002"] == "skipped"  # rosters need every enrollment
    messages = {r.id: r.message for r in summary.results}
    assert "partial" in messages["OR-REF-003"] and "partial" in messages["OR-ID-002"]
    assert "cut short" in messages["OR-REF-001"]
    assert "completeness not checked" in messages["OR-DATE-005"]


# --- deliberately broken providers -----------------------------------------------------------


def _first(district: Path, sql: str) -> str:
    conn = sqlite3.connect(district)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


def _a_teacher(district: Path) -> str:
    return _first(district, "SELECT user_id FROM enrollments WHERE role = 'teacher' "
                            "ORDER BY seq LIMIT 1")


DEFECTS: dict[str, tuple[Callable[[Path], dict], str]] = {
    "a referenced course is not served": (
        lambda d: {"response": edit_records("courses", without_record(_first(
            d, "SELECT sourcedId FROM courses WHERE hidden = 0 ORDER BY seq DESC")), 1)},
        "OR-REF-001"),
    "an enrollment's class is typed as a course": (
        lambda d: {"response": edit_records("enrollments", class_typed_as_course)}, "OR-REF-001"),
    "a teacher among a class's students": (
        lambda d: {"response": edit_class_members("students", lambda users: users.append(
            {**users[0], "sourcedId": _a_teacher(d)}))}, "OR-REF-002"),
    "a student left out of a class's students": (
        lambda d: {"response": edit_class_members("students", drop_last)}, "OR-REF-002"),
    "a user with two primary roles": (
        lambda d: {"response": edit_records("users", add_primary_role)}, "OR-REF-003"),
    "an org is its own parent": (
        lambda d: {"response": edit_records("orgs", org_is_its_own_parent, 1)}, "OR-REF-004"),
    "a grading period starts before its term": (
        lambda d: {"response": edit_records("academicSessions", grading_period_outside_its_term,
                                        7)}, "OR-DATE-001"),
    "a term outside any school year": (
        lambda d: {"response": edit_records("academicSessions", term_without_school_year, 7)},
        "OR-DATE-002"),
    "an enrollment begins before its class's terms": (
        lambda d: {"response": edit_records("enrollments", enrollment_before_its_term)},
        "OR-DATE-003"),
    "a dateLastModified without a zone": (
        lambda d: {"response": edit_records("courses", local_modified_time)}, "OR-DATE-004"),
    "the delta filter ignores its value": (
        lambda d: {"request": delta_filter(lambda f: "dateLastModified>'1970-01-01T00:00:00Z'")},
        "OR-DATE-005"),
    "the delta filter compares with >=": (
        lambda d: {"request": delta_filter(lambda f: f.replace(">", ">=", 1))}, "OR-DATE-005"),
}


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_check_alone(district: Path, name: str) -> None:
    make_defect, expected = DEFECTS[name]
    summary = _run(district, **make_defect(district))
    assert _fired(summary) == {expected}
    result = next(r for r in summary.results if r.id == expected)
    assert result.evidence and len(result.evidence) <= 3
    assert "h-secret" not in str(result.to_dict())
    others = {r.id: r.status for r in summary.results if r.id != expected}
    assert set(others.values()) <= {"passed"}, others


# --- the mock's own data quirks --------------------------------------------------------------

QUIRK_CHECKS = {
    "missing-username": "OR-ID-001",
    "duplicate-usernames": "OR-ID-002",
    "username-spaces": "OR-ID-003",
    "missing-email": "OR-ID-004",
    "null-email": "OR-ID-005",
    # 1.2 requires roles (minItems 1) on every user, tobedeleted ones included.
    "tobedeleted-no-roles": "OR-REF-003",
}


@pytest.mark.parametrize("quirk", sorted(QUIRK_CHECKS))
def test_each_identity_quirk_is_named_by_its_check(districts_dir: Path, quirk: str) -> None:
    path = make_district(districts_dir, 42, 60, frozenset({quirk}))
    with Store(path) as store:
        touched = store.quirk_manifest()[quirk]["sourcedIds"]
    summary = _run(path)
    expected = QUIRK_CHECKS[quirk]
    assert _fired(summary) == {expected}
    result = next(r for r in summary.results if r.id == expected)
    assert result.status == ("warning" if expected.startswith("OR-ID-") else "failed")
    named = re.findall(r"[0-9a-f]{8}-[0-9a-f-]{27}", result.message)
    assert named and set(named) <= set(touched)  # type: ignore[arg-type]
    assert result.message.startswith(f"{len(touched)} users")  # type: ignore[arg-type]


def test_a_user_without_roles_is_fine_in_1_1(districts_dir: Path) -> None:
    """1.1 users have one ``role`` (the mock keeps the student's), so nothing fires."""
    summary = _run(make_district(districts_dir, 42, 60, frozenset({"tobedeleted-no-roles"})),
                   "1.1")
    assert not _fired(summary)


def test_the_other_quirks_trip_none_of_these_checks(districts_dir: Path) -> None:
    quirks = frozenset({"long-codes", "odd-characters", "leading-zero-ids"})
    summary = _run(make_district(districts_dir, 42, 60, quirks))
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
