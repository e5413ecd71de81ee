"""What the grade-book checks (OR-GB) write to: a class, a student, and a line item every
provider should accept, chosen once per run from the provider's own rostering data.

The line items must be valid on any provider, Infinite Campus included, so they follow the
strictest reading of both versions:

* the class is the first one (in /classes order) with an active student enrollment and a term
  with dates;
* of its terms, the one holding today (UTC) is used, else the earliest; of that term's
  grading periods (active sessions of type ``gradingPeriod`` under the term, inside its dates),
  the one holding today, else the earliest. The line item's ``gradingPeriod`` is that grading
  period (1.1 requires one; Campus wants items tagged to a grading period), or the term when
  it has none;
* assignDate and dueDate fall inside that grading period (so inside the term as well), end
  day excluded;
* the category is one the class already uses: from getCategoriesForClass (1.2), else from the
  class's line items when the category itself can be read; otherwise the checks write a
  category of their own.
"""

from __future__ import annotations

import datetime as dt
import weakref
from dataclasses import dataclass
from urllib.parse import quote

from ..engine import Finding
from ..target import Target
from .context import Context, Walk
from .dates import parse_date
from .support import ref_id

Span = tuple[dt.date, dt.date]  # start (inclusive), end (exclusive)


@dataclass(frozen=True)
class Plan:
    """The class the checks write to and what its line items and results need."""

    class_id: str
    school_id: str | None
    term_id: str  # the class's term the line items belong to
    period_id: str  # the line items' gradingPeriod: a grading period of that term, or the term
    start: dt.date  # the grading period's (else the term's) startDate, inclusive
    end: dt.date  # its endDate, exclusive
    latest_end: dt.date  # the latest endDate of all the class's terms
    student_id: str  # a student actively enrolled in the class
    other_student_id: str | None  # an active student with no enrollment in the class
    category_id: str | None  # an existing category of the class (None: write our own)

    @property
    def assign_day(self) -> dt.date:
        return self.start + dt.timedelta(days=1) if (self.end - self.start).days >= 3 \
            else self.start

    @property
    def due_day(self) -> dt.date:
        return self.assign_day + dt.timedelta(days=max(0, min(7, (
            self.end - self.assign_day).days - 1)))

    @property
    def earlier_due_day(self) -> dt.date:
        """Another due date inside the period, for an update (the due day when none is)."""
        return max(self.assign_day, self.due_day - dt.timedelta(days=1))


# The plan of each run (keyed by its target), shared by the checks.
_PLANS: weakref.WeakKeyDictionary[Target, Plan | str] = weakref.WeakKeyDictionary()


def plan_for(ctx: Context) -> Plan | str:
    """The run's plan, or why no class fits (a reason to skip); chosen once per run."""
    if ctx.target not in _PLANS:
        _PLANS[ctx.target] = choose(ctx, dt.datetime.now(dt.UTC).date())
    return _PLANS[ctx.target]


def active(record: dict) -> bool:
    return record.get("status", "active") == "active"


def _is_student(user: dict) -> bool:
    if user.get("role") == "student":  # 1.1
        return True
    roles = user.get("roles")
    return isinstance(roles, list) and any(
        isinstance(r, dict) and r.get("role") == "student" and r.get("roleType") == "primary"
        for r in roles)


@dataclass(frozen=True)
class _Session:
    sid: str
    kind: object
    parent: str | None
    span: Span


def _sessions(walk: Walk) -> dict[str, _Session]:
    """The active sessions with usable dates, by sourcedId."""
    found: dict[str, _Session] = {}
    for session in walk.records:
        start, end = parse_date(session.get("startDate")), parse_date(session.get("endDate"))
        sid = session.get("sourcedId")
        if isinstance(sid, str) and start and end and start < end and active(session):
            found[sid] = _Session(sid, session.get("type"), ref_id(session.get("parent")),
                                  (start, end))
    return found


def _current(candidates: list[_Session], today: dt.date) -> _Session:
    """The candidate holding ``today``, else the earliest."""
    holding = [s for s in candidates if s.span[0] <= today < s.span[1]]
    return min(holding or candidates, key=lambda s: (s.span[0], s.sid))


def grading_period_of(term: _Session, sessions: dict[str, _Session],
                      today: dt.date) -> _Session:
    """The term's grading period to file line items under (see the module docstring), or the
    term itself when it has none."""
    periods = [s for s in sessions.values()
               if s.kind == "gradingPeriod" and s.parent in (term.sid, None)
               and term.span[0] <= s.span[0] and s.span[1] <= term.span[1]]
    return _current(periods, today) if periods else term


def choose(ctx: Context, today: dt.date) -> Plan | str:
    """The plan, or why no class fits (a reason to skip)."""
    try:
        classes, enrollments = ctx.walk("classes"), ctx.walk("enrollments")
        sessions_walk, users = ctx.walk("academicSessions"), ctx.walk("users")
    except Finding as finding:
        return f"the rostering collections could not be read ({finding.message})"
    sessions = _sessions(sessions_walk)
    students = {u["sourcedId"] for u in users.records
                if isinstance(u.get("sourcedId"), str) and active(u) and _is_student(u)}
    enrolled: dict[str, list[str]] = {}  # class -> active students, in /enrollments order
    anywhere: dict[str, set[str]] = {}  # class -> every user with an enrollment there
    for enrollment in enrollments.records:
        class_id, user_id = ref_id(enrollment.get("class")), ref_id(enrollment.get("user"))
        if class_id is None or user_id is None:
            continue
        anywhere.setdefault(class_id, set()).add(user_id)
        if enrollment.get("role") == "student" and active(enrollment) and user_id in students:
            enrolled.setdefault(class_id, []).append(user_id)
    active_students = [sid for sids in enrolled.values() for sid in sids]
    for klass in classes.records:
        class_id = klass.get("sourcedId")
        if not isinstance(class_id, str) or not active(klass) or not enrolled.get(class_id):
            continue
        terms = [sessions[t] for t in (ref_id(r) for r in klass.get("terms") or []
                                       if isinstance(r, dict)) if t in sessions]
        if not terms:
            continue
        term = _current(terms, today)
        period = grading_period_of(term, sessions, today)
        # Only a complete walk shows that a student has no enrollment in the class.
        stranger = next((s for s in active_students if s not in anywhere[class_id]),
                        None) if enrollments.complete else None
        return Plan(class_id, ref_id(klass.get("school")), term.sid, period.sid,
                    period.span[0], period.span[1], max(t.span[1] for t in terms),
                    enrolled[class_id][0], stranger, existing_category(ctx.target, class_id))
    return ("no class has an active student enrollment and a term with dates"
            + classes.extent + enrollments.extent)


def existing_category(target: Target, class_id: str) -> str | None:
    """A category the class already uses: from getCategoriesForClass (1.2), else from the
    class's line items, provided the category itself reads back active (Campus 1.1 files
    every line item under a category it does not serve); None when none is found."""
    where = f"/classes/{quote(class_id, safe='')}"
    if target.version == "1.2":
        for record in _records(target, f"{where}/categories", "categories"):
            if isinstance(record.get("sourcedId"), str):
                return record["sourcedId"]
    tried: set[str] = set()
    for record in _records(target, f"{where}/lineItems", "lineItems"):
        found = ref_id(record.get("category"))
        if found is None or found in tried:
            continue
        tried.add(found)
        exchange = target.send("GET", f"/categories/{quote(found, safe='')}",
                               service="gradebook")
        body = exchange.json()
        category = body.get("category") if isinstance(body, dict) else None
        if exchange.status == 200 and isinstance(category, dict) and active(category):
            return found
    return None


def _records(target: Target, path: str, envelope: str) -> list[dict]:
    """The active records of a first page (empty when it is not a 200 with the envelope)."""
    exchange = target.send("GET", path, {"limit": 5}, service="gradebook")
    body = exchange.json()
    records = body.get(envelope) if exchange.status == 200 and isinstance(body, dict) else None
    return [r for r in records if isinstance(r, dict) and active(r)] \
        if isinstance(records, list) else []
