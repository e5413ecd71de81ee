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
from mock_provider.flavors import profile_for
from mock_provider.state import mock_state
from mock_provider.store import Store
from specs import validator

from .broken_providers import (
    Before,
    GradebookDefect,
    answer_of,
    delete_does_nothing,
    malformed_answered_with_html,
    no_grade_book,
    read_only_grade_book,
    schema_error_is_500,
    send_answer,
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
         prepare: Callable[[Target], None] | None = None, auth: str = "oauth2",
         only: str | None = MINE, profiles: str | None = None) -> RunSummary:
    store = Store(path)
    if campus:
        settings = Settings(profile=profile_for("infinite-campus", "d"))
    app = create_app(store, [connection], settings or Settings())
    try:
        with live_server(defect(app) if defect else app) as url:
            base, token_url = url, f"{url}/oauth2/token"
            if campus:
                layout = "v1p2" if version == "1.2" else "v1p1"
                base, token_url = (f"{url}/campus/api/oneroster/{layout}/d",
                                   f"{url}/campus/oauth2/token?appName=d")
            target = Target(base, "" if auth == "oauth1" else token_url, connection.client_id,
                            connection.client_secret, version, vendor_key=vendor_key,
                            auth=auth)
            try:
                if prepare:
                    target.token()
                    prepare(target)
                return run_checks(target, select(only, profiles))
            finally:
                target.close()
    finally:
        mock_state(app).close()
        store.close()


def _statuses(summary: RunSummary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def test_the_catalogue_has_the_grade_book_checks() -> None:
    assert {"OR-GB-001", "OR-GB-002", "OR-GB-003", "OR-GB-004", "OR-GB-005"} == MY_CHECKS
    assert {c: CHECKS[c].severity for c in MY_CHECKS} == {
        "OR-GB-001": "error", "OR-GB-002": "error", "OR-GB-003": "warning",
        "OR-GB-004": "error", "OR-GB-005": "error"}
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
    assert "created (201) and read back as sent, deleted (204" in messages["OR-GB-001"]
    assert "updated (200)" in messages["OR-GB-004"] and "extra credit kept" in messages[
        "OR-GB-004"]
    assert "3 bad writes refused (422" in messages["OR-GB-002"]
    assert "not enrolled" in messages["OR-GB-003"] and "after the class's terms" in messages[
        "OR-GB-003"] and "51 characters" in messages["OR-GB-003"]
    assert "6 bad writes refused (400" in messages["OR-GB-005"]
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


# Issue 18: the Campus flavor failed our own checker on 1.1 (its grade-book writes did not take
# the Campus ids its reads serve). The whole default catalogue must pass the mock in every
# layout: flavor x version x credentials (OAuth 1.0a exists only in 1.1). The Campus rows run
# with the campus profile too, so Campus's own rules are errors there.
LAYOUTS = [("standard", "1.2", "oauth2"), ("standard", "1.1", "oauth2"),
           ("standard", "1.1", "oauth1"), ("infinite-campus", "1.2", "oauth2"),
           ("infinite-campus", "1.1", "oauth2"), ("infinite-campus", "1.1", "oauth1")]


@pytest.mark.parametrize("flavor, version, auth", LAYOUTS)
def test_the_whole_catalogue_passes_the_mock_in_every_layout(
        district: Path, flavor: str, version: str, auth: str) -> None:
    campus = flavor == "infinite-campus"
    connection = Connection(name="h", client_id="h", client_secret="h-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11, oauth1=True,
                            vendor_key=f"vk:{VENDOR_SECRET}" if campus else None)
    before = _fingerprint(district)
    summary = _run(district, version, connection, campus=campus, auth=auth,
                   vendor_key=f"vk:{VENDOR_SECRET}" if campus else None, only=None,
                   profiles="spec,campus" if campus else "spec")
    found = {r.id: (r.status, r.message) for r in summary.results
             if r.status in FIRED or (r.id in MY_CHECKS and r.status != "passed")}
    assert found == {}
    assert summary.conformant
    assert _fingerprint(district) == before


def test_no_campus_rule_fails_a_spec_run(district: Path) -> None:
    """A provider that applies none of Campus's write rules is conformant to the spec: the
    Campus rules are a warning there, and errors only under the campus profile."""
    lenient = Settings(disabled_rules=frozenset({
        "dates_within_class_terms", "title_max_length", "title_unique_in_class",
        "result_student_enrolled"}))
    spec = _run(district, settings=lenient)
    assert _statuses(spec) == {**{c: "passed" for c in MY_CHECKS}, "OR-GB-003": "warning"}
    assert spec.conformant
    warned = next(r for r in spec.results if r.id == "OR-GB-003")
    assert warned.message.startswith("4 of 4 writes that must be refused")
    assert len(warned.items) == 4
    campus = _run(district, settings=lenient, profiles="spec,campus")
    assert _statuses(campus)["OR-GB-003"] == "failed" and not campus.conformant


# --- the checker's own writes ---------------------------------------------------------------


class WriteRecorder:
    """The mock, recording every grade-book PUT: (path, the JSON sent, the mock's status)."""

    def __init__(self, app) -> None:
        self.app = app
        self.puts: list[tuple[str, object, int]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "PUT":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recorded() -> dict:
            message = await receive()
            chunks.append(message.get("body", b""))
            return message

        status, headers, body = await answer_of(self.app, scope, recorded)
        try:
            sent = json.loads(b"".join(chunks))
        except ValueError:
            sent = None
        self.puts.append((scope["path"], sent, status))
        await send_answer(send, status, headers, body)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_checkers_own_writes_are_valid_where_campus_is_strictest(district: Path,
                                                                     version: str) -> None:
    """Every line item and result the checker meant to be stored is valid against the
    version's schema, names a grading period of the class's term, is dated inside it, and is
    filed in a category that exists; every result is for a student of the class."""
    recorder: list[WriteRecorder] = []

    def record(app):
        recorder.append(WriteRecorder(app))
        return recorder[0]

    summary = _run(district, version, defect=record)
    assert _statuses(summary) == {c: "passed" for c in MY_CHECKS}
    store = Store(district)
    conn = store.conn
    own_categories = {path.rsplit("/", 1)[1] for path, _, status in recorder[0].puts
                      if "/categories/" in path and status in (200, 201)}
    stored = [(path, body) for path, body, status in recorder[0].puts if status in (200, 201)]
    kinds = {"lineItems": ("SingleLineItemDType", "lineItem"),
             "results": ("SingleResultDType", "result")}
    checked = {"lineItems": 0, "results": 0}
    try:
        for path, body in stored:
            collection = path.rsplit("/", 2)[1]
            if collection not in kinds:
                continue
            name = kinds[collection][0 if version == "1.2" else 1]
            errors = [e.message for e in validator(version, name).iter_errors(body)]
            assert errors == [], (path, errors)
            record_ = body[kinds[collection][1]]
            klass = record_.get("class", {}).get("sourcedId")
            checked[collection] += 1
            if collection == "results":
                student = record_["student"]["sourcedId"]
                item_class = conn.execute("SELECT class_id FROM lineItems WHERE sourcedId = ?",
                                          (record_["lineItem"]["sourcedId"],)).fetchone()
                assert item_class is None or conn.execute(
                    "SELECT 1 FROM enrollments WHERE class_id = ? AND user_id = ? AND role = "
                    "'student'", (item_class[0], student)).fetchone()
                continue
            period = conn.execute(
                "SELECT type, startDate, endDate, parent_id FROM academicSessions "
                "WHERE sourcedId = ?", (record_["gradingPeriod"]["sourcedId"],)).fetchone()
            terms = {r[0] for r in conn.execute(
                "SELECT term_id FROM class_terms WHERE class_id = ?", (klass,))}
            assert period[0] == "gradingPeriod" and period[3] in terms
            for moment in (record_["assignDate"], record_["dueDate"]):
                assert period[1] <= moment[:10] < period[2], (moment, period)
            category = record_["category"]["sourcedId"]
            assert category in own_categories or conn.execute(
                "SELECT 1 FROM categories WHERE sourcedId = ? AND class_id = ?",
                (category, klass)).fetchone()
            assert {"resultValueMin", "resultValueMax"} <= set(record_)
    finally:
        store.close()
    assert checked["lineItems"] >= 5 and checked["results"] >= 2


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
    "line item update not stored": (
        {"defect": lambda app: GradebookDefect(app, before=updates_not_stored("lineItems"))},
        "OR-GB-004", ("updates were not stored as sent", "line item: title is", "(revised)"),
        True),
    "result update not stored": (
        {"defect": lambda app: GradebookDefect(app, before=updates_not_stored("results"))},
        "OR-GB-004", ("result: score is 8.5, sent 9.25",), True),
    "category update not stored": (
        {"defect": lambda app: GradebookDefect(app, before=updates_not_stored("categories"))},
        "OR-GB-004", ("1 updates were not stored", "category: title is", "(renamed)"), True),
    "51-character title accepted": (
        {"settings": Settings(disabled_rules=frozenset({"title_max_length"}))},
        "OR-GB-003", ("titled with 51 characters (Campus takes at most 50) answered 201",),
        True),
    "duplicate title accepted": (
        {"settings": Settings(disabled_rules=frozenset({"title_unique_in_class"}))},
        "OR-GB-003", ("a second line item titled 'Harness", "answered 201 (accepted)"), True),
    "malformed writes answered with HTML": (
        {"defect": lambda app: GradebookDefect(app, after=malformed_answered_with_html)},
        "OR-GB-005", ("6 of 6 writes", "not JSON (NaN for a number) answered 400 without a "
                      "status body (the body is not JSON"), True),
    "schema errors are a 500": (
        {"defect": lambda app: GradebookDefect(app, after=schema_error_is_500)},
        "OR-GB-005", ("2 of 6 writes", "a result whose score is text answered 500",
                      "scoreStatus 'fully_graded' answered 500"), True),
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


def test_every_update_not_stored_is_listed(district: Path) -> None:
    defect = updates_not_stored("categories", "lineItems", "results")
    summary = _run(district, defect=lambda app: GradebookDefect(app, before=defect))
    result = next(r for r in summary.results if r.id == "OR-GB-004")
    assert result.status == "failed"
    kinds = {item.split(":", 1)[0] for item in result.items}
    assert kinds == {"category", "line item", "result", "result with extra credit"}
    fields = {item.split(": ", 1)[1].split(" is ", 1)[0] for item in result.items}
    assert {"title", "description", "dueDate", "resultValueMax", "score", "comment",
            "scoreStatus"} <= fields
    assert result.message.startswith(f"{len(result.items)} updates were not stored as sent")
    assert f"and {len(result.items) - 3} more" in result.message


@pytest.mark.parametrize("before, words", [
    (no_grade_book, "the provider serves no grade book (GET /lineItems answered 404"),
    (read_only_grade_book, "does not take grade-book writes: the first PUT /"),
])
def test_a_provider_without_grade_book_writes_skips_them(district: Path, before: Before,
                                                         words: str) -> None:
    """A rostering-only provider, or one whose grade book is for reading only (OneRoster's
    Gradebook Pull), is not a finding."""
    fingerprint = _fingerprint(district)
    summary = _run(district, defect=lambda app: GradebookDefect(app, before=before))
    assert _statuses(summary) == {c: "skipped" for c in MY_CHECKS}
    assert all(words in r.message for r in summary.results), [r.message for r in
                                                              summary.results]
    assert _fingerprint(district) == fingerprint


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
