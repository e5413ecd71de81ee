"""Dates and terms: session trees nest, classes sit in a school year, enrollments inside their
class's terms, ``dateLastModified`` is UTC, and the delta filter on it works.

Session ``startDate`` is inclusive and ``endDate`` exclusive (as for enrollments), so a child
ending on its parent's end date is inside it. References that do not resolve are OR-REF-001's
business; these checks leave such records out rather than report them twice.
"""

from __future__ import annotations

import datetime as dt
import re

from ..engine import Finding, Outcome, passed
from ..exchange import Exchange
from .context import Context, Walk
from .support import Offenders, by_id, check, evidence, few, index_of, ref_id

# RFC 3339 date-time in UTC: 'Z' or '+00:00', optional fractional seconds.
UTC_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)")
DELTA_MAX_PAGES = 20
MAX_DEPTH = 16  # session tree depth followed at most (a cycle is OR-REF-004's finding)


def parse_date(value: object) -> dt.date | None:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_utc(value: object) -> dt.datetime | None:
    """A UTC ``dateLastModified`` as an aware datetime, or None when it is not one."""
    if not isinstance(value, str) or not UTC_DATE_TIME.fullmatch(value):
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _span(session: dict) -> tuple[dt.date, dt.date] | None:
    start, end = parse_date(session.get("startDate")), parse_date(session.get("endDate"))
    return (start, end) if start and end else None


@check("OR-DATE-001", "Academic sessions lie within their parent session's dates",
       "OneRoster 1.2 AcademicSessionDType: parent/children, startDate (inclusive), endDate "
       "(exclusive); 1.1 AcademicSession the same", severity="warning")
def sessions_nest(ctx: Context) -> Outcome:
    """A session's dates should lie within its parent's: a term inside its school year, a grading
    period inside its term (``startDate`` not before the parent's, ``endDate`` not after it).
    The spec implies this through the session tree rather than stating it, so it is a warning;
    consumers that place grading periods and line items by date misfile work when it fails.
    Fix: derive the parent's dates from its children, or clip the children to the parent."""
    walk = ctx.walk("academicSessions")
    sessions = by_id(walk)
    where = index_of(walk)
    offenders: list[str] = []
    pages: list[Exchange] = []
    for sid, session in sessions.items():
        parent = sessions.get(ref_id(session.get("parent")) or "")
        inner, outer = _span(session), _span(parent) if parent else None
        if inner and outer and (inner[0] < outer[0] or inner[1] > outer[1]):
            offenders.append(f"{sid} ({inner[0]}..{inner[1]}) outside its parent "
                             f"{parent['sourcedId']} ({outer[0]}..{outer[1]})")
            pages.append(walk.exchange_for(where[sid]))
    if offenders:
        raise Finding(f"{len(offenders)} sessions reach outside their parent: "
                      f"{few(offenders)}{walk.extent}", *evidence(*pages), items=offenders)
    return passed(f"{len(sessions)} sessions nest within their parents{walk.extent}")


def _school_year(sessions: dict[str, dict], sid: str) -> str | None:
    """The schoolYear session at or above ``sid``, or None."""
    seen: set[str] = set()
    node: str | None = sid
    while node in sessions and node not in seen and len(seen) < MAX_DEPTH:
        if sessions[node].get("type") == "schoolYear":
            return node
        seen.add(node)
        node = ref_id(sessions[node].get("parent"))
    return None


@check("OR-DATE-002", "Each class's terms belong to one school year",
       "OneRoster 1.2 ClassDType.terms: the terms within the associated school year; 1.1 "
       "Class.terms the same", severity="warning")
def class_terms_in_a_school_year(ctx: Context) -> Outcome:
    """A class's ``terms`` are "the terms or semesters within the associated school year":
    each must be a ``schoolYear`` session or have one among its ancestors (``parent``), and
    all of a class's terms must share that school year. Consumers file classes under a year by
    walking up from the terms; a term without a school year leaves the class homeless, so it is
    a warning. Fix: give every term a ``parent`` chain up to its school year."""
    sessions_walk, classes = ctx.walk("academicSessions"), ctx.walk("classes")
    sessions = by_id(sessions_walk)
    offenders: list[str] = []
    homeless: list[str] = []  # terms with no school year above them
    pages: list[Exchange] = []
    for index, klass in enumerate(classes.records):
        terms = klass.get("terms") if isinstance(klass.get("terms"), list) else []
        years = {t: _school_year(sessions, t) for t in map(ref_id, terms) if t in sessions}
        orphans = [t for t, year in years.items() if year is None]
        if orphans:
            offenders.append(f"{klass.get('sourcedId')} (term {orphans[0]} has no school year)")
            homeless += [t for t in orphans if t not in homeless]
        elif len(set(years.values())) > 1:
            offenders.append(f"{klass.get('sourcedId')} (terms in {len(set(years.values()))} "
                             "school years)")
        else:
            continue
        pages.append(classes.exchange_for(index))
    if offenders:
        pages.insert(1, sessions_walk.exchanges[0])  # the sessions, to follow the parents
        terms = f" (terms with no school year above them: {few(homeless)})" if homeless else ""
        raise Finding(f"{len(offenders)} classes have terms outside a school year{terms}: "
                      f"{few(offenders)}{classes.extent}{sessions_walk.extent}",
                      *evidence(*pages), items=offenders)
    return passed(f"the terms of {len(classes.records)} classes each belong to one school year"
                  f"{classes.extent}")


@check("OR-DATE-003", "Enrollment dates lie within the class's terms",
       "OneRoster 1.2 EnrollmentDType.beginDate/endDate: within the period of the class's "
       "academic session; 1.1 Enrollment has the same dates, the rule is written in 1.2")
def enrollments_within_terms(ctx: Context) -> Outcome:
    """An enrollment's ``beginDate`` (inclusive) and ``endDate`` (exclusive), when given, "must
    be within the period of the associated Academic Session for the class": on or after the
    earliest ``startDate`` of the class's terms and on or before the latest ``endDate``, with
    ``beginDate`` not after ``endDate``. A date that is not a ``YYYY-MM-DD`` date is reported
    too. Consumers use these dates to show who is in the class today. Fix: clip enrollment dates
    to the class's terms (a late joiner starts later, a leaver ends earlier, never outside)."""
    enrollments, classes = ctx.walk("enrollments"), ctx.walk("classes")
    sessions = by_id(ctx.walk("academicSessions"))
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for klass in classes.records:
        refs = klass.get("terms") if isinstance(klass.get("terms"), list) else []
        terms = [_span(sessions[t]) for t in map(ref_id, refs) if t in sessions]
        if terms and all(terms):
            spans[klass.get("sourcedId")] = (min(s[0] for s in terms),  # type: ignore[index]
                                            max(s[1] for s in terms))  # type: ignore[index]
    offenders: list[str] = []
    pages: list[Exchange] = []
    checked = 0
    for index, enrollment in enumerate(enrollments.records):
        span = spans.get(ref_id(enrollment.get("class")) or "")
        if span is None:
            continue
        problems = []
        for key in ("beginDate", "endDate"):
            if key in enrollment and parse_date(enrollment[key]) is None:
                problems.append(f"{key} {enrollment[key]!r} is not a date")
        begin, end = parse_date(enrollment.get("beginDate")), parse_date(enrollment.get("endDate"))
        if begin and not span[0] <= begin < span[1]:
            problems.append(f"beginDate {begin} outside {span[0]}..{span[1]}")
        if end and not span[0] < end <= span[1]:
            problems.append(f"endDate {end} outside {span[0]}..{span[1]}")
        if begin and end and begin > end:
            problems.append(f"beginDate {begin} after endDate {end}")
        checked += 1
        if problems:
            offenders.append(f"{enrollment.get('sourcedId')} ({problems[0]})")
            pages.append(enrollments.exchange_for(index))
    if offenders:
        raise Finding(f"{len(offenders)} enrollments have dates outside their class's terms: "
                      f"{few(offenders)}{enrollments.extent}", *evidence(*pages), items=offenders)
    return passed(f"{checked} enrollments lie within their class's terms{enrollments.extent}")


@check("OR-DATE-004", "Every dateLastModified is an RFC 3339 date-time in UTC",
       "OneRoster 1.2 Base: dateLastModified, a DateTime that MUST contain the UTC timezone; "
       "1.1 Base the same")
def modified_dates_are_utc(ctx: Context) -> Outcome:
    """Every record's ``dateLastModified`` must be a date-time with seconds and the UTC zone,
    written ``Z`` or ``+00:00`` (``2026-09-01T12:00:00Z``); a local time, another offset or a
    bare date is reported. It is the delta-sync watermark: a consumer keeps the latest value
    it has seen and asks for newer records, which only works when every value is in one zone.
    Fix: store modification times in UTC and print them with a ``Z``."""
    bad: list[str] = []
    pages: list[Exchange] = []
    counted = 0
    partial: list[str] = []
    for collection in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments"):
        walk: Walk = ctx.walk(collection)
        partial += [collection] if not walk.complete else []
        for index, record in enumerate(walk.records):
            counted += 1
            value = record.get("dateLastModified")
            if parse_utc(value) is None:
                bad.append(f"{collection}/{record.get('sourcedId')} ({value!r})")
                pages.append(walk.exchange_for(index))
    note = f" (walks cut short: {', '.join(partial)})" if partial else ""
    if bad:
        raise Finding(f"{len(bad)} records have a dateLastModified that is not a UTC date-time: "
                      f"{few(bad)}{note}", *evidence(*pages), items=bad)
    return passed(f"{counted} dateLastModified values are UTC date-times{note}")


@check("OR-DATE-005", "filter=dateLastModified>'X' returns exactly the users modified after X",
       "OneRoster 1.2 REST binding §3.5 filtering; dateLastModified as the delta watermark; "
       "1.1 the same filter grammar and field")
def delta_filter_works(ctx: Context) -> Outcome:
    """Delta sync: ``GET /users?filter=dateLastModified>'X'``, for an X taken from the data
    (the median of the users' distinct ``dateLastModified`` values, exactly as served), must
    return every user whose ``dateLastModified`` is later than X and no other (not the users at
    X itself: the operator is strict). It is compared with the full walk of /users; when that
    walk is cut short only the returned users are checked, and when every user has the same
    ``dateLastModified`` the check is skipped (nothing tells a working filter from one that
    returns nothing). A filter that is ignored, compares
    as text in another zone, or drops records makes consumers miss changes or re-import
    everything. Fix: compare ``dateLastModified`` as a UTC instant against the parsed value."""
    users = ctx.walk("users")
    stamps = sorted({stamp for r in users.records
                     if (stamp := parse_utc(r.get("dateLastModified"))) is not None})
    if not stamps:
        return Outcome("skipped", "no user with a UTC dateLastModified to filter by")
    pivot_time = stamps[(len(stamps) - 1) // 2]  # the median instant, with later ones after it
    pivot = next(r["dateLastModified"] for r in users.records
                 if parse_utc(r.get("dateLastModified")) == pivot_time)
    try:
        delta = ctx.walk_pages("/users", "users", {"filter": f"dateLastModified>'{pivot}'"},
                               max_pages=DELTA_MAX_PAGES)
    except Finding as finding:
        refused = Finding(f"the delta filter dateLastModified>'{pivot}' failed: "
                          f"{finding.message}")
        refused.evidence = finding.evidence
        raise refused from None
    shown = delta.exchanges[0]
    known = {r.get("sourcedId"): parse_utc(r.get("dateLastModified")) for r in users.records}
    returned: dict[str, dt.datetime | None] = {
        r["sourcedId"]: parse_utc(r.get("dateLastModified")) for r in delta.records
        if isinstance(r.get("sourcedId"), str)}
    too_old = sorted(f"{sid} ({stamp.isoformat()})" for sid, stamp in returned.items()
                     if stamp is not None and stamp <= pivot_time)
    if too_old:
        at_pivot = all(stamp == pivot_time for sid, stamp in returned.items()
                       if stamp is not None and stamp <= pivot_time)
        cause = (": every one is served with exactly that dateLastModified, so the provider "
                 "compares at a finer precision than it serves (e.g. microseconds stored, "
                 "milliseconds served), and a delta sync re-reads them each time"
                 if at_pivot else "")
        raise Finding(f"filter dateLastModified>'{pivot}' returned {len(too_old)} users "
                      f"modified at or before it{cause}: {few(too_old)}", shown,
                      items=too_old)
    if len(stamps) < 2:
        return Outcome("skipped", f"every user has the same dateLastModified ({pivot}): a filter "
                                  "that works cannot be told from one that returns nothing",
                       [shown.evidence()])
    if not (users.complete and delta.complete):
        return passed(f"every one of {len(returned)} users returned is later than {pivot} "
                      f"(completeness not checked: a walk was cut short){users.extent}")
    expected = {sid for sid, stamp in known.items() if stamp is not None and stamp > pivot_time}
    missing = sorted(s for s in expected - set(returned) if isinstance(s, str))
    if missing:
        raise Finding(f"filter dateLastModified>'{pivot}' left out {len(missing)} of the "
                      f"{len(expected)} users modified after it: {few(missing)}", shown,
                      items=missing)
    return passed(f"dateLastModified>'{pivot}' returned exactly the {len(expected)} of "
                  f"{len(users.records)} users modified after it", shown)


TERM_TYPES = frozenset({"term", "semester"})


@check("OR-DATE-006", "A class's terms are terms or semesters",
       "OneRoster 1.2 ClassDType.terms: the links to the set of terms or semesters within the "
       "associated school year; 1.1 Class.terms the same")
def class_terms_are_terms(ctx: Context) -> Outcome:
    """Each session a class lists in ``terms`` must be of type ``term`` or ``semester`` (or
    an ``ext:`` type of the provider's own): not a ``gradingPeriod``, which consumers would
    take as the class's whole span and so end the class after a quarter, nor the
    ``schoolYear`` itself, which the terms sit within. Sessions that do not resolve are
    OR-REF-001's business and left out. Fix: point ``terms`` at the term or semester
    sessions the class meets in; grading periods are found under those terms."""
    sessions_walk, classes = ctx.walk("academicSessions"), ctx.walk("classes")
    sessions = by_id(sessions_walk)
    offenders = Offenders()
    for index, klass in enumerate(classes.records):
        terms = klass.get("terms") if isinstance(klass.get("terms"), list) else []
        wrong = [f"{t} ({sessions[t].get('type')})" for t in map(ref_id, terms)
                 if t in sessions and str(sessions[t].get("type")) not in TERM_TYPES
                 and not str(sessions[t].get("type")).startswith("ext:")]
        if wrong:
            offenders.add(f"{klass.get('sourcedId')}: {', '.join(wrong)}",
                          classes.exchange_for(index))
    offenders.raise_if_any(lambda n: f"{n} classes list sessions other than terms or "
                                     "semesters in terms", classes.extent + sessions_walk.extent)
    return passed(f"the terms of {len(classes.records)} classes are terms or semesters"
                  f"{classes.extent}")
