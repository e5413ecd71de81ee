"""What the grade-book checks write to (harness/checks/gradebook_plan.py): the line items are
filed under a grading period of the class's current term and dated inside it, or under the
term when it has none, and in a category that the provider really serves."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from harness.checks.context import Context, Walk
from harness.checks.gradebook_plan import Plan, choose
from harness.target import Target

FALL, SPRING, YEAR = "term-fall", "term-spring", "year"


def _ref(sid: str) -> dict:
    return {"href": f"http://p/x/{sid}", "sourcedId": sid, "type": "x"}


def _session(sid: str, kind: str, start: str, end: str, parent: str | None = None) -> dict:
    return {"sourcedId": sid, "status": "active", "type": kind, "startDate": start,
            "endDate": end, **({"parent": _ref(parent)} if parent else {})}


SESSIONS = [
    _session(YEAR, "schoolYear", "2026-08-19", "2027-06-04"),
    _session(FALL, "term", "2026-08-19", "2026-12-19", YEAR),
    _session(SPRING, "term", "2027-01-05", "2027-06-04", YEAR),
    _session("q1", "gradingPeriod", "2026-08-19", "2026-10-17", FALL),
    _session("q2", "gradingPeriod", "2026-10-19", "2026-12-19", FALL),
    _session("q3", "gradingPeriod", "2027-01-05", "2027-03-13", SPRING),
    # Inside the spring term's dates, but under another term: not the spring term's.
    _session("stray", "gradingPeriod", "2027-03-15", "2027-04-01", FALL),
]


def _walk(name: str, records: list[dict]) -> Walk:
    return Walk(f"/{name}", records, [], [0], complete=True)


def _context(sessions: list[dict], terms: list[str], categories: dict[str, list[dict]],
             served: set[str]) -> Context:
    """A 1.2 provider whose class c1 (terms ``terms``) has student s1; ``categories`` are the
    first pages of its categories and line items, ``served`` the categories GET answers."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for suffix, records in categories.items():
            if path.endswith(suffix):
                return httpx.Response(200, json={suffix.rsplit("/", 1)[1]: records})
        if "/categories/" in path:
            sid = path.rsplit("/", 1)[1]
            if sid in served:
                return httpx.Response(200, json={"category": {"sourcedId": sid,
                                                              "status": "active"}})
        return httpx.Response(404, json={})

    target = Target("http://p", "", "", "token", auth="bearer",
                    client=httpx.Client(transport=httpx.MockTransport(handler)))
    ctx = Context(target)
    ctx.walks = {
        "classes": _walk("classes", [{"sourcedId": "c1", "status": "active",
                                      "school": _ref("sch"),
                                      "terms": [_ref(t) for t in terms]}]),
        "enrollments": _walk("enrollments", [
            {"sourcedId": "e1", "status": "active", "role": "student", "class": _ref("c1"),
             "user": _ref("s1")},
            {"sourcedId": "e2", "status": "active", "role": "student", "class": _ref("c2"),
             "user": _ref("s2")}]),
        "academicSessions": _walk("academicSessions", sessions),
        "users": _walk("users", [
            {"sourcedId": sid, "status": "active",
             "roles": [{"role": "student", "roleType": "primary", "org": _ref("sch")}]}
            for sid in ("s1", "s2")]),
    }
    return ctx


def _plan(today: str, terms: tuple[str, ...] = (FALL, SPRING), sessions: list[dict] = SESSIONS,
          categories: dict[str, list[dict]] | None = None, served: frozenset[str] = frozenset()
          ) -> Plan:
    plan = choose(_context(sessions, list(terms), categories or {}, set(served)),
                  dt.date.fromisoformat(today))
    assert isinstance(plan, Plan), plan
    return plan


@pytest.mark.parametrize("today, period, term", [
    ("2026-11-02", "q2", FALL),  # the grading period holding today
    ("2026-10-18", "q1", FALL),  # a day between periods: the term's earliest
    ("2027-02-01", "q3", SPRING),  # the term holding today, and its period
    ("2027-05-01", "q3", SPRING),  # 'stray' lies in spring's dates but under fall
    ("2025-01-01", "q1", FALL),  # no term holds today: the earliest
])
def test_the_line_items_go_under_a_grading_period_of_the_current_term(
        today: str, period: str, term: str) -> None:
    plan = _plan(today)
    assert (plan.period_id, plan.term_id) == (period, term)
    spans = {s["sourcedId"]: (s["startDate"], s["endDate"]) for s in SESSIONS}
    start, end = (dt.date.fromisoformat(d) for d in spans[period])
    assert (plan.start, plan.end) == (start, end)
    for day in (plan.assign_day, plan.due_day, plan.earlier_due_day):
        assert start <= day < end
    assert plan.assign_day <= plan.earlier_due_day <= plan.due_day
    assert plan.latest_end == dt.date(2027, 6, 4)
    assert (plan.student_id, plan.other_student_id) == ("s1", "s2")


def test_a_term_without_grading_periods_is_used_itself() -> None:
    plain = [s for s in SESSIONS if s["type"] != "gradingPeriod"]
    plan = _plan("2026-11-02", sessions=plain)
    assert plan.period_id == plan.term_id == FALL
    assert (plan.start, plan.end) == (dt.date(2026, 8, 19), dt.date(2026, 12, 19))


def test_a_one_day_period_still_dates_inside_it() -> None:
    short = [*SESSIONS[:3], _session("day", "gradingPeriod", "2026-09-01", "2026-09-02", FALL)]
    plan = _plan("2026-09-01", sessions=short)
    assert plan.period_id == "day"
    assert plan.assign_day == plan.due_day == plan.earlier_due_day == dt.date(2026, 9, 1)


def test_the_category_is_one_the_provider_serves() -> None:
    listed = {"/classes/c1/categories": [{"sourcedId": "cat-1", "status": "active"}]}
    assert _plan("2026-11-02", categories=listed).category_id == "cat-1"
    # Without getCategoriesForClass: a line item's category, once it reads back (Campus 1.1
    # files line items under a category it does not serve).
    items = {"/classes/c1/lineItems": [
        {"sourcedId": "li-1", "status": "active", "category": _ref("00000000-zero")},
        {"sourcedId": "li-2", "status": "active", "category": _ref("cat-2")}]}
    assert _plan("2026-11-02", categories=items, served={"cat-2"}).category_id == "cat-2"
    assert _plan("2026-11-02", categories=items).category_id is None
