"""The grade-book write checks (OR-GB): the conformant mock passes them in both versions and in
the Campus flavor, a connection that may not write skips them, each deliberately broken
provider is caught by exactly its check, and no run leaves a record of the checker's behind.

These tests write to their district, so each gets a private copy of the tiny one."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from harness.auth import ClientCredentials
from harness.checks import CHECKS
from harness.model import RunSummary
from harness.runner import run_checks, select
from harness.target import BudgetExceeded, Target
from mock_provider.app import Settings, create_app
from mock_provider.connections import (
    ALL_SCOPES_V11,
    ALL_SCOPES_V12,
    SCOPE_PREFIX_V12,
    Connection,
)
from mock_provider.profiles import profile_for
from mock_provider.state import mock_state
from mock_provider.store import Store

from .broken_providers import (
    GradebookDefect,
    delete_does_nothing,
    unknown_class_is_500,
    unknown_student_accepted,
    updates_not_stored,
)
from .conftest import make_district
from .live_server import live_server

MINE = "OR-GB"
MY_CHECKS = {c for c in CHECKS if c.startswith("OR-GB-")}
FIRED = ("failed", "warning")
WRITTEN_TABLES = ("categories", "lineItems", "results", "scoreScales", "assessmentLineItems",
                  "assessmentResults")
ROSTER_ONLY = frozenset(s for s in ALL_SCOPES_V12 | ALL_SCOPES_V11 if "/scope/roster" in s)
FULL = Connection(name="h", client_id="h", client_secret="h-secret",
                  scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
VENDOR_SECRET = "vendor-secret-7f3a"


@pytest.fixture()
def district(districts_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny district (60 students, one high school)."""
    copy = tmp_path / "district.sqlite"
    source = sqlite3.connect(make_district(districts_dir, 42, 60))
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    return copy


def _fingerprint(path: Path) -> tuple[str, int]:
    """(the content hash of every table, how many grade-book rows have a harness id)."""
    store = Store(path)
    try:
        left = sum(store.conn.execute(f"SELECT count(*) FROM {table} WHERE sourcedId LIKE "
                                      "'harness-%'").fetchone()[0] for table in WRITTEN_TABLES)
        return store.content_hash(), left
    finally:
        store.close()


def _run(path: Path, version: str = "1.2", connection: Connection = FULL,
         settings: Settings | None = None, defect: Callable[[object], object] | None = None,
         campus: bool = False, vendor_key: str | None = None,
         prepare: Callable[[Target], None] | None = None) -> RunSummary:
    store = Store(path)
    if campus:
        settings = Settings(profile=profile_for("infinite-campus", "d"))
    app = create_app(store, [connection], settings or Settings())
    try:
        with live_server(defect(app) if defect else app) as url:
            base, token_url = url, f"{url}/oauth2/token"
            if campus:
                base, token_url = (f"{url}/campus/api/oneroster/v1p2/d",
                                   f"{url}/campus/oauth2/token?appName=d")
            target = Target(base, token_url, connection.client_id, connection.client_secret,
                            version, vendor_key=vendor_key)
            try:
                if prepare:
                    target.token()
                    prepare(target)
                return run_checks(target, select(MINE))
            finally:
                target.close()
    finally:
        mock_state(app).close()
        store.close()


def _statuses(summary: RunSummary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def test_the_catalogue_has_the_grade_book_checks() -> None:
    assert {"OR-GB-001", "OR-GB-002", "OR-GB-003"} == MY_CHECKS
    assert {c: CHECKS[c].severity for c in MY_CHECKS} == {
        "OR-GB-001": "error", "OR-GB-002": "error", "OR-GB-003": "warning"}
    for check_id in MY_CHECKS:
        check = CHECKS[check_id]
        assert check.title and check.rule and "Fix" in check.explanation, check_id
        assert "Skipped when the connection may not write" in check.explanation


# --- the conformant mock ------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_conformant_mock_passes_and_is_left_as_it_was(district: Path, version: str) -> None:
    before = _fingerprint(district)
    summary = _run(district, version)
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}, [
        (r.id, r.message) for r in summary.results]
    assert _fingerprint(district) == before
    messages = {r.id: r.message for r in summary.results}
    assert "updated (200)" in messages["OR-GB-001"] and "extra credit kept" in messages[
        "OR-GB-001"]
    assert "3 bad writes refused (422" in messages["OR-GB-002"]
    assert "not enrolled" in messages["OR-GB-003"] and "after the class's terms" in messages[
        "OR-GB-003"]
    printed = json.dumps([r.to_dict() for r in summary.results])
    assert "h-secret" not in printed and "-X PUT" in printed and "--data" in printed


def test_a_rostering_only_connection_skips_them(district: Path) -> None:
    before = _fingerprint(district)
    roster = Connection(name="r", client_id="r", client_secret="r-secret", scopes=ROSTER_ONLY,
                        connection_type="unsupported")
    summary = _run(district, connection=roster)
    assert _statuses(summary) == {c: "skipped" for c in MY_CHECKS}
    assert all("gradebook.createput" in r.message for r in summary.results)
    assert _fingerprint(district) == before


def test_a_refused_first_write_is_a_skip_not_a_failure(district: Path) -> None:
    """A token that does not name its scopes, for a connection that may only read grades."""
    before = _fingerprint(district)
    reader = Connection(name="g", client_id="g", client_secret="g-secret", version="1.2",
                        scopes=frozenset(s for s in ROSTER_ONLY if "/v1p2/" in s)
                        | {SCOPE_PREFIX_V12 + "gradebook.readonly"})

    def forget_scopes(target: Target) -> None:
        assert isinstance(target.credentials, ClientCredentials)
        target.credentials.scope = None  # as if the token answer had named no scope

    summary = _run(district, connection=reader, prepare=forget_scopes)
    assert _statuses(summary) == {c: "skipped" for c in MY_CHECKS}
    assert all("refused the first grade-book write with 403" in r.message
               for r in summary.results)
    assert _fingerprint(district) == before


def test_the_campus_flavor_needs_the_vendor_key(district: Path) -> None:
    before = _fingerprint(district)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12, vendor_key=f"vk:{VENDOR_SECRET}")
    keyed = _run(district, connection=lms, campus=True, vendor_key=f"vk:{VENDOR_SECRET}")
    assert _statuses(keyed) == {c: "passed" for c in MY_CHECKS}
    printed = json.dumps([r.to_dict() for r in keyed.results])
    assert VENDOR_SECRET not in printed and "x-vendor-authorization: ***" in printed
    unkeyed = _run(district, connection=lms, campus=True)
    assert _statuses(unkeyed) == {c: "skipped" for c in MY_CHECKS}
    assert all("401" in r.message and "vendor key" in r.message for r in unkeyed.results)
    assert _fingerprint(district) == before


# --- deliberately broken providers -----------------------------------------------------------


# name -> (how to run the broken provider, the check that catches it, words of its message,
# whether the checker can still clean up after itself)
BROKEN: dict[str, tuple[dict, str, tuple[str, ...], bool]] = {
    "line item outside the term accepted": (
        {"settings": Settings(disabled_rules=frozenset({"dates_within_class_terms"}))},
        "OR-GB-003", ("after the class's terms", "answered 201 (accepted)"), True),
    "result for an unknown student accepted": (
        {"defect": lambda app: GradebookDefect(app, after=unknown_student_accepted)},
        "OR-GB-002", ("a result for an unknown student answered 201 (accepted)",), True),
    "DELETE does nothing": (
        {"defect": lambda app: GradebookDefect(app, before=delete_does_nothing)},
        "OR-GB-001", ("DELETE /results/", "answers 200 with status 'active'"), False),
    "PUT update not stored": (
        {"defect": lambda app: GradebookDefect(app, before=updates_not_stored())},
        "OR-GB-001", ("after changing the line item's title", "(revised)"), True),
    "500 on a negative write": (
        {"defect": lambda app: GradebookDefect(app, after=unknown_class_is_500)},
        "OR-GB-002", ("a line item for an unknown class answered 500",), True),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_broken_provider_is_caught_by_exactly_its_check(district: Path, name: str) -> None:
    how, expected, words, cleans_up = BROKEN[name]
    before = _fingerprint(district)
    summary = _run(district, **how)
    statuses = _statuses(summary)
    fired = {c for c, status in statuses.items() if status in FIRED}
    assert fired == {expected}, [(r.id, r.status, r.message) for r in summary.results]
    assert all(statuses[c] == "passed" for c in MY_CHECKS - {expected})
    result = next(r for r in summary.results if r.id == expected)
    for word in words:
        assert word in result.message, (word, result.message)
    assert result.evidence, "a finding shows the exchanges behind it"
    assert "h-secret" not in json.dumps(result.to_dict())
    if cleans_up:  # whatever the broken provider stored, the checker deleted again
        assert _fingerprint(district) == before


# --- Target.send --------------------------------------------------------------------------


def test_send_counts_against_the_budget_and_its_evidence_is_masked() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "tok-123", "scope": "a b"})
        seen.append(request)
        return httpx.Response(201)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    target = Target("http://p", "http://p/token", "id", "secret", max_requests=2,
                    client=client, vendor_key=f"vk:{VENDOR_SECRET}")
    sent = {"lineItem": {"sourcedId": "li-1", "title": "It's due"}}
    exchange = target.send("put", "/lineItems/li-1", json=sent, service="gradebook")
    assert target.granted_scope == "a b" and target.requests == 1
    assert str(seen[0].url) == "http://p/ims/oneroster/gradebook/v1p2/lineItems/li-1"
    assert json.loads(seen[0].content) == sent
    assert seen[0].headers["x-vendor-authorization"] == f"vk:{VENDOR_SECRET}"
    assert seen[0].headers["authorization"] == "Bearer tok-123"
    curl = exchange.evidence().curl
    assert curl.startswith("curl -s -X PUT -H 'Authorization: Bearer ***' "
                           "-H 'x-vendor-authorization: ***'")
    assert """--data '{"lineItem":{"sourcedId":"li-1","title":"It'\\''s due"}}'""" in curl
    assert "tok-123" not in curl and VENDOR_SECRET not in curl
    target.delete("/lineItems/li-1")
    assert seen[1].method == "DELETE" and target.requests == 2
    with pytest.raises(BudgetExceeded):
        target.send("GET", "/classes")
    # Rostering calls carry no vendor key; 1.1 keeps the grade book under its one base.
    old = Target("http://p", "http://p/token", "id", "secret", "1.1",
                 client=httpx.Client(transport=httpx.MockTransport(handler)),
                 vendor_key="vk:x")
    old.send("GET", "/classes")
    assert "x-vendor-authorization" not in seen[2].headers
    assert old.url("/lineItems", service="gradebook") == "http://p/ims/oneroster/v1p1/lineItems"
    assert old.url("/classes") == "http://p/ims/oneroster/v1p1/classes"
