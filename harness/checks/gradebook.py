"""Grade-book writes (OR-GB): the partner write flow a grade-passback LMS relies on, and the
writes a provider must refuse.

These are the only checks that change the provider's data, so they are careful about it:

* They run only when the connection may write the grade book: when the token names its scopes
  and lacks ``gradebook.createput`` or ``gradebook.delete``, or when the first write of a check
  answers 401 or 403, the check is skipped (a rostering-only connection is not a finding).
* Every record they write has a fresh id of their own (``harness-<uuid4>``); they never
  modify or delete a record they did not create.
* Whatever a check wrote is deleted before the check ends, whether it passed or failed
  (results first, then line items, then a category of its own), and a refused write that the
  provider stored anyway is deleted too.

The class written to is the first one (in /classes order) with an active student enrollment
and a term with dates; the line items are dated inside its earliest term and filed in one of
the class's existing categories (a category of the checker's own when none can be found).
"""

from __future__ import annotations

import datetime as dt
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..engine import Finding, Outcome, passed
from ..target import BudgetExceeded, Exchange, Target
from .context import Context, answered
from .dates import parse_date
from .support import check, evidence, few, member, ref_id, status_payload_errors

ID_PREFIX = "harness-"
WRITE_SCOPES = ("gradebook.createput", "gradebook.delete")
WRITE_BUDGET = 25  # requests a check may need (OR-GB-001: 18 at most, cleanup included)
CREATED = (200, 201)  # PUT: the OpenAPI lists 201; 200 for an update is common practice
DELETED = (200, 204)  # DELETE: the OpenAPI lists 204; Google also accepts 200
REFUSED_BUT_NOT_A_REJECTION = (401, 429)  # credentials or load, not a verdict on the data
RESULT_MAX = 10.0
SINGULAR = {"categories": "category", "lineItems": "lineItem", "results": "result"}
SERVER_FIELDS = ("sourcedId", "status", "dateLastModified")
DATE_TIME_FIELDS = ("assignDate", "dueDate")


def new_id() -> str:
    return f"{ID_PREFIX}{uuid.uuid4()}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _at_noon(day: dt.date) -> str:
    return f"{day.isoformat()}T12:00:00Z"


# --- what to write to -----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """The class the checks write to and what its line items and results need."""

    class_id: str
    school_id: str | None
    term_id: str  # the class's earliest term: the line items are dated inside it
    start: dt.date  # that term's startDate (inclusive)
    end: dt.date  # its endDate (exclusive)
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


# The plan of each run (keyed by its target), shared by the three checks.
_PLANS: weakref.WeakKeyDictionary[Target, Plan | str] = weakref.WeakKeyDictionary()


def _active(record: dict) -> bool:
    return record.get("status", "active") == "active"


def _is_student(user: dict) -> bool:
    if user.get("role") == "student":  # 1.1
        return True
    roles = user.get("roles")
    return isinstance(roles, list) and any(
        isinstance(r, dict) and r.get("role") == "student" and r.get("roleType") == "primary"
        for r in roles)


def _choose(ctx: Context) -> Plan | str:
    """The plan, or why no class fits (a reason to skip)."""
    try:
        classes, enrollments = ctx.walk("classes"), ctx.walk("enrollments")
        sessions, users = ctx.walk("academicSessions"), ctx.walk("users")
    except Finding as finding:
        return f"the rostering collections could not be read ({finding.message})"
    session_span: dict[str, tuple[dt.date, dt.date]] = {}
    for session in sessions.records:
        start, end = parse_date(session.get("startDate")), parse_date(session.get("endDate"))
        sid = session.get("sourcedId")
        if isinstance(sid, str) and start and end and start < end and _active(session):
            session_span[sid] = (start, end)
    students = {u["sourcedId"] for u in users.records
                if isinstance(u.get("sourcedId"), str) and _active(u) and _is_student(u)}
    enrolled: dict[str, list[str]] = {}  # class -> active students, in /enrollments order
    anywhere: dict[str, set[str]] = {}  # class -> every user with an enrollment there
    for enrollment in enrollments.records:
        class_id, user_id = ref_id(enrollment.get("class")), ref_id(enrollment.get("user"))
        if class_id is None or user_id is None:
            continue
        anywhere.setdefault(class_id, set()).add(user_id)
        if enrollment.get("role") == "student" and _active(enrollment) and user_id in students:
            enrolled.setdefault(class_id, []).append(user_id)
    active_students = [sid for sids in enrolled.values() for sid in sids]
    for klass in classes.records:
        class_id = klass.get("sourcedId")
        if not isinstance(class_id, str) or not _active(klass) or not enrolled.get(class_id):
            continue
        terms = [t for t in (ref_id(r) for r in klass.get("terms") or [] if isinstance(r, dict))
                 if t in session_span]
        if not terms:
            continue
        first = min(terms, key=lambda t: session_span[t][0])
        start, end = session_span[first]
        # Only a complete walk shows that a student has no enrollment in the class.
        stranger = next((s for s in active_students if s not in anywhere[class_id]),
                        None) if enrollments.complete else None
        return Plan(class_id, ref_id(klass.get("school")), first, start, end,
                    max(session_span[t][1] for t in terms), enrolled[class_id][0], stranger,
                    _existing_category(ctx.target, class_id))
    return ("no class has an active student enrollment and a term with dates"
            + classes.extent + enrollments.extent)


def _existing_category(target: Target, class_id: str) -> str | None:
    """A category the class already uses: from getCategoriesForClass (1.2), else from the
    class's line items; None when neither answers one."""
    where = f"/classes/{quote(class_id, safe='')}"
    asks = [(f"{where}/lineItems", "lineItems")]
    if target.version == "1.2":
        asks.insert(0, (f"{where}/categories", "categories"))
    for path, envelope in asks:
        exchange = target.send("GET", path, {"limit": 5}, service="gradebook")
        body = exchange.json()
        records = body.get(envelope) if exchange.status == 200 and isinstance(body, dict) \
            else None
        for record in records if isinstance(records, list) else []:
            if not isinstance(record, dict) or not _active(record):
                continue
            found = record.get("sourcedId") if envelope == "categories" \
                else ref_id(record.get("category"))
            if isinstance(found, str):
                return found
    return None


def _plan(ctx: Context) -> Plan | str:
    if ctx.target not in _PLANS:
        _PLANS[ctx.target] = _choose(ctx)
    return _PLANS[ctx.target]


# --- writing, and cleaning up ---------------------------------------------------------------


class Skip(Exception):
    """The connection may not write the grade book: the check is skipped, not failed."""


@dataclass
class Writer:
    """One check's writes: the records it may have created, deleted again by ``cleanup``."""

    target: Target
    plan: Plan
    created: list[tuple[str, str]] = field(default_factory=list)  # (collection, id), in order
    writes: int = 0
    category_id: str | None = None

    # - bodies -

    def ref(self, collection: str, sid: str, kind: str, service: str = "rostering") -> dict:
        href = self.target.url(f"/{collection}/{quote(sid, safe='')}", service=service)
        return {"href": href, "sourcedId": sid, "type": kind}

    def line_item(self, sid: str, title: str, **changes: Any) -> dict:
        plan, v12 = self.plan, self.target.version == "1.2"
        body: dict[str, Any] = {
            "sourcedId": sid, "status": "active", "dateLastModified": _now(), "title": title,
            "description": "Written by oneroster-harness; deleted when the check ends",
            "assignDate": _at_noon(plan.assign_day), "dueDate": _at_noon(plan.due_day),
            "class": self.ref("classes", plan.class_id, "class"),
            "school": self.ref("orgs", plan.school_id, "org")
            if v12 and plan.school_id else None,
            "category": self.ref("categories", self.category_id or "", "category", "gradebook"),
            "gradingPeriod": self.ref("academicSessions", plan.term_id, "academicSession"),
            "resultValueMin": 0.0, "resultValueMax": RESULT_MAX,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def result(self, sid: str, line_item: str, student: str | None = None,
               **changes: Any) -> dict:
        body: dict[str, Any] = {
            "sourcedId": sid, "status": "active", "dateLastModified": _now(),
            "lineItem": self.ref("lineItems", line_item, "lineItem", "gradebook"),
            "student": self.ref("users", student or self.plan.student_id, "user"),
            "class": self.ref("classes", self.plan.class_id, "class")
            if self.target.version == "1.2" else None,
            "scoreStatus": "fully graded", "score": 8.5,
            "scoreDate": self.plan.due_day.isoformat(),
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    # - requests -

    def put(self, collection: str, record: dict) -> Exchange:
        """PUT one record. The first write of a check that answers 401 or 403 raises Skip;
        a write that may have stored something is remembered for ``cleanup``."""
        sid = record["sourcedId"]
        exchange = self.target.put(f"/{collection}/{quote(sid, safe='')}",
                                   {SINGULAR[collection]: record})
        self.writes += 1
        if self.writes == 1 and exchange.status in (401, 403):
            raise Skip(f"the provider refused the first grade-book write with "
                       f"{exchange.status} ({_description(exchange) or 'no description'}); "
                       "the connection may not write the grade book (scopes "
                       f"{' and '.join(WRITE_SCOPES)}, a supported connection"
                       + (", and for Infinite Campus a vendor key)"
                          if exchange.status == 401 else ")"))
        rejected = exchange.status is not None and 400 <= exchange.status < 500
        if not rejected and (collection, sid) not in self.created:
            self.created.append((collection, sid))
        return exchange

    def get(self, collection: str, sid: str) -> Exchange:
        return self.target.send("GET", f"/{collection}/{quote(sid, safe='')}",
                                service="gradebook")

    def delete(self, collection: str, sid: str) -> Exchange:
        exchange = self.target.delete(f"/{collection}/{quote(sid, safe='')}")
        if exchange.status in (*DELETED, 404) and (collection, sid) in self.created:
            self.created.remove((collection, sid))
        return exchange

    def ensure_category(self) -> Exchange | None:
        """Use the class's category, or write one of our own (the check's first write)."""
        if self.plan.category_id is not None:
            self.category_id = self.plan.category_id
            return None
        sid = new_id()
        exchange = self.put("categories", {
            "sourcedId": sid, "status": "active", "dateLastModified": _now(),
            "title": f"Harness {sid[len(ID_PREFIX):][:8]}"})
        if exchange.status not in CREATED:
            raise Finding(f"the class has no category a line item could use, and PUT "
                          f"/categories/{sid} {answered(exchange)}", exchange)
        self.category_id = sid
        return exchange

    def cleanup(self) -> list[str]:
        """DELETE what this check may have created, newest first (results before their line
        items); the records that could not be deleted."""
        left: list[str] = []
        for collection, sid in reversed(list(self.created)):
            try:
                exchange = self.delete(collection, sid)
            except BudgetExceeded:
                left.append(f"{collection}/{sid}")
                continue
            if exchange.status not in (*DELETED, 404):
                left.append(f"{collection}/{sid} (DELETE {answered(exchange)})")
        return left


def _description(exchange: Exchange) -> str:
    body = exchange.json()
    if isinstance(body, dict):
        if isinstance(body.get("imsx_description"), str):
            return body["imsx_description"][:160]
        infos = body.get("statusInfoSet")
        if isinstance(infos, list) and infos and isinstance(infos[0], dict):
            return str(infos[0].get("imsx_description", ""))[:160]
    return ""


def _writable(ctx: Context) -> tuple[Plan | None, str]:
    """(the plan, "") when the check may write, else (None, why it is skipped)."""
    target = ctx.target
    target.authenticate()
    granted = target.granted_scope
    if granted is not None:
        short = {scope.rsplit("/", 1)[-1] for scope in granted.split()}
        missing = [s for s in WRITE_SCOPES if s not in short]
        if missing:
            return None, (f"the token was not granted {' or '.join(missing)}: the connection "
                          "may not write the grade book")
    plan = _plan(ctx)
    if isinstance(plan, str):
        return None, plan
    if target.max_requests - target.requests < WRITE_BUDGET:
        return None, (f"fewer than {WRITE_BUDGET} requests of the run's budget are left, too "
                      "few to write and clean up again")
    return plan, ""


def _run(ctx: Context, body) -> Outcome:
    """Run ``body(writer)`` with cleanup whatever happens; Skip becomes a skipped outcome and
    records left behind are named in the message (a finding when the check otherwise
    passed, since nothing may stay behind)."""
    plan, why = _writable(ctx)
    if plan is None:
        return Outcome("skipped", why)
    writer = Writer(ctx.target, plan)
    left: list[str] = []
    try:
        try:
            outcome = body(writer)
        except Skip as skip:
            outcome = Outcome("skipped", str(skip))
        finally:
            left = writer.cleanup()
    except Finding as finding:
        finding.message += _left_note(left)
        raise
    if left and outcome.status == "passed":
        raise Finding(outcome.message + _left_note(left))
    outcome.message += _left_note(left)
    return outcome


def _left_note(left: list[str]) -> str:
    return f"; {len(left)} records the check wrote could not be deleted: {few(left)}" \
        if left else ""


# --- comparing what was sent with what comes back ---------------------------------------------


def _same(name: str, sent: Any, got: Any) -> bool:
    if isinstance(sent, dict) and "sourcedId" in sent:
        return ref_id(got) == sent["sourcedId"]
    if isinstance(sent, (int, float)) and not isinstance(sent, bool):
        return isinstance(got, (int, float)) and not isinstance(got, bool) \
            and abs(float(got) - float(sent)) < 1e-9
    if name in DATE_TIME_FIELDS and isinstance(got, str):
        try:
            return dt.datetime.fromisoformat(got.replace("Z", "+00:00")) == \
                dt.datetime.fromisoformat(sent.replace("Z", "+00:00"))
        except ValueError:
            return False
    if name == "scoreDate" and isinstance(got, str):
        return got[:10] == sent
    return got == sent


def _read_back(writer: Writer, collection: str, sent: dict, what: str) -> Exchange:
    """GET the record and compare it with what was sent; Finding on any difference."""
    sid = sent["sourcedId"]
    exchange = writer.get(collection, sid)
    key = SINGULAR[collection]
    body = exchange.json()
    record = member(body, key)
    if exchange.status != 200 or not isinstance(record, dict):
        raise Finding(f"{what}: GET /{collection}/{sid} {answered(exchange)} without a "
                      f"{key!r} object", exchange)
    differ = [f"{name} is {record.get(name)!r}, sent {value!r}"
              for name, value in sent.items()
              if name not in SERVER_FIELDS and not _same(name, value, record.get(name))]
    if record.get("sourcedId") != sid:
        differ.insert(0, f"sourcedId is {record.get('sourcedId')!r}")
    if record.get("status") != "active":
        differ.append(f"status is {record.get('status')!r}, not 'active'")
    if differ:
        raise Finding(f"{what}: the {key} read back differs from what was written: "
                      f"{few(differ)}", exchange, items=differ)
    return exchange


def _stored(writer: Writer, collection: str, record: dict, what: str) -> Exchange:
    exchange = writer.put(collection, record)
    if exchange.status not in CREATED:
        raise Finding(f"{what}: PUT /{collection}/{record['sourcedId']} answered "
                      f"{exchange.status} ({_description(exchange) or exchange.text[:120]})",
                      exchange)
    return exchange


def _gone(writer: Writer, collection: str, sid: str) -> tuple[Exchange, Exchange]:
    """DELETE a record and check a read afterwards: 404, or the record marked tobedeleted."""
    deleted = writer.delete(collection, sid)
    if deleted.status not in DELETED:
        raise Finding(f"DELETE /{collection}/{sid} {answered(deleted)}", deleted)
    after = writer.get(collection, sid)
    body = after.json()
    record = member(body, SINGULAR[collection])
    if after.status == 404 or (after.status == 200 and isinstance(record, dict)
                               and record.get("status") == "tobedeleted"):
        return deleted, after
    shown = record.get("status") if isinstance(record, dict) else None
    raise Finding(f"DELETE /{collection}/{sid} {answered(deleted)}, but a read afterwards "
                  f"answers {after.status}" + (f" with status {shown!r}" if shown else "")
                  + " (expected 404, or the record marked tobedeleted)", deleted, after)


# --- the checks -------------------------------------------------------------------------------


@check("OR-GB-001", "The partner grade-book write flow: create, read back, update, delete",
       "OneRoster 1.2 Gradebook REST binding: putLineItem, getLineItem, putResult, getResult, "
       "deleteResult, deleteLineItem (1.1: the same operations under /ims/oneroster/v1p1)")
def partner_write_flow(ctx: Context) -> Outcome:
    """What a grade-passback LMS does, on records of the checker's own (``harness-<uuid>``) in
    a class with an enrolled student: PUT a line item dated inside the class's term (201 or
    200) and read it back equal in every field sent; PUT it again with a new title (200 or 201)
    and read the new title back; PUT a result ("fully graded", a score) for the enrolled student
    and read it back; update it with extra credit (a score above the line item's
    resultValueMax, which Infinite Campus keeps; a provider may refuse it with a 4xx status
    body, and that is noted, not failed) and then as "exempt"; DELETE the result and the line
    item (204 or 200), after which a read answers 404 or shows the record tobedeleted. Skipped
    when the connection may not write the grade book. Everything written is deleted again even
    when the check fails. Fix: store every field of a PUT as sent, treat a PUT to an existing
    sourcedId as an update, and make a DELETE stick."""
    return _run(ctx, _flow)


def _flow(writer: Writer) -> Outcome:
    writer.ensure_category()
    short = uuid.uuid4().hex[:8]
    item_id, result_id = new_id(), new_id()
    item = writer.line_item(item_id, f"Harness {short}")
    created = _stored(writer, "lineItems", item, "creating a line item")
    _read_back(writer, "lineItems", item, "after creating the line item")
    item = {**item, "title": f"Harness {short} (revised)", "dateLastModified": _now()}
    updated = _stored(writer, "lineItems", item, "updating the line item's title")
    _read_back(writer, "lineItems", item, "after changing the line item's title")

    result = writer.result(result_id, item_id)
    _stored(writer, "results", result, "creating a result for an enrolled student")
    _read_back(writer, "results", result, "after creating the result")
    notes = []
    extra = {**result, "score": RESULT_MAX + 2, "dateLastModified": _now()}
    answer = writer.put("results", extra)
    if answer.status in CREATED:
        _read_back(writer, "results", extra, "after giving extra credit")
        notes.append("extra credit kept")
    elif answer.status is not None and 400 <= answer.status < 500 \
            and not status_payload_errors(answer, writer.target.version):
        notes.append(f"extra credit refused with {answer.status}")
    else:
        raise Finding(f"a result scored above the line item's resultValueMax ({RESULT_MAX:g}) "
                      f"{answered(answer)}: neither stored nor refused with a status "
                      "body", answer)
    exempt = {**result, "scoreStatus": "exempt", "dateLastModified": _now(),
              "score": None if writer.target.version == "1.2" else 0.0,
              "comment": "Excused"}
    exempt = {k: v for k, v in exempt.items() if v is not None}
    _stored(writer, "results", exempt, "marking the result exempt")
    _read_back(writer, "results", exempt, "after marking the result exempt")

    _gone(writer, "results", result_id)
    deleted, item_after = _gone(writer, "lineItems", item_id)
    how = "404" if item_after.status == 404 else "tobedeleted"
    return passed(f"line item and result created ({created.status}), read back, updated "
                  f"({updated.status}), {', '.join(notes)}, exempt, deleted ({deleted.status}; "
                  f"a read afterwards shows {how})", created, deleted, item_after)


def _rejected(exchange: Exchange, version: str, what: str) -> str | None:
    """None when ``exchange`` is a proper refusal: a 4xx (not 401 or 429) with a status body."""
    status = exchange.status
    if status is None or not 400 <= status < 500 or status in REFUSED_BUT_NOT_A_REJECTION:
        how = {None: "no answer"}.get(status, f"{status}")
        return f"{what} answered {how}" + (" (accepted)" if status and status < 300 else "")
    errors = status_payload_errors(exchange, version)
    if errors:
        return f"{what} answered {status} without a status body ({errors[0]})"
    return None


def _probe(writer: Writer, probes: list[tuple[str, str, dict]]
           ) -> tuple[list[tuple[str, Exchange]], list[Exchange]]:
    """PUT each (what, collection, record) that must be refused: (problems, refusals)."""
    problems: list[tuple[str, Exchange]] = []
    refusals: list[Exchange] = []
    for what, collection, record in probes:
        exchange = writer.put(collection, record)
        problem = _rejected(exchange, writer.target.version, what)
        if problem:
            problems.append((problem, exchange))
        else:
            refusals.append(exchange)
    return problems, refusals


def _valid_line_item(writer: Writer) -> dict | None:
    """A line item of our own for the probes; None when the provider refused it."""
    writer.ensure_category()
    item = writer.line_item(new_id(), f"Harness {uuid.uuid4().hex[:8]}")
    exchange = writer.put("lineItems", item)
    return item if exchange.status in CREATED else None


def _verdict(probes: list[tuple[str, str, dict]], problems: list[tuple[str, Exchange]],
             refusals: list[Exchange], note: str = "") -> Outcome:
    if problems:
        raise Finding(f"{len(problems)} of {len(probes)} writes that must be refused were not "
                      f"refused properly: {few([p for p, _ in problems])}{note}",
                      *evidence(*(e for _, e in problems)), items=[p for p, _ in problems])
    statuses = ", ".join(sorted({str(e.status) for e in refusals}))
    return passed(f"{len(probes)} bad writes refused ({statuses}, with status bodies): "
                  f"{', '.join(what for what, _, _ in probes)}{note}", *evidence(*refusals))


NO_LINE_ITEM = ("the provider did not accept the line item the probes need (OR-GB-001 shows "
                "why)")


@check("OR-GB-002", "Grade-book writes naming unknown records are refused with a 4xx status",
       "OneRoster 1.2 Gradebook REST binding: putLineItem / putResult answer 422 invaliddata or "
       "404 unknownobject (imsx_StatusInfo) when a reference does not resolve")
def unknown_references_refused(ctx: Context) -> Outcome:
    """Writes whose references do not resolve must be refused with a 4xx (typically 422
    invaliddata or 404 unknownobject; 401 and 429 do not count) and the spec's status body
    (imsx_StatusInfo in 1.2, statusInfoSet in 1.1), never stored (2xx) and never a 500: a line
    item for a class that does not exist, a result for a student that does not exist, and a
    result for a line item that does not exist. The probes use ids of the checker's own;
    anything a provider stores anyway is deleted again. Skipped when the connection may not
    write the grade book. Fix: resolve every GUIDRef of a write before storing it, and answer
    the status payload."""
    return _run(ctx, _unknown_references)


def _unknown_references(writer: Writer) -> Outcome:
    item = _valid_line_item(writer)
    if item is None:
        return Outcome("skipped", NO_LINE_ITEM)
    title = f"Harness {uuid.uuid4().hex[:8]}"
    probes = [
        ("a line item for an unknown class", "lineItems",
         writer.line_item(new_id(), title, **{"class": writer.ref("classes", new_id(),
                                                                  "class")})),
        ("a result for an unknown student", "results",
         writer.result(new_id(), item["sourcedId"], student=new_id())),
        ("a result for an unknown line item", "results", writer.result(new_id(), new_id())),
    ]
    return _verdict(probes, *_probe(writer, probes))


@check("OR-GB-003", "Campus write rules: dates inside the class's terms, enrolled students, "
       "unique titles", "Infinite Campus grade-book write rules (campus-notes §1.5, §4 item 9); "
       "OneRoster itself states none of them", severity="warning")
def campus_write_rules(ctx: Context) -> Outcome:
    """Infinite Campus refuses grade-book writes that OneRoster itself does not forbid, and a
    Campus-like provider should refuse them with a 4xx (not 401 or 429) and a status body: a
    line item whose dueDate falls after the class's terms (a week after the latest term end;
    terms run from the earliest start to the latest end, end day excluded); a result for an
    active student who is not enrolled in the line item's class; a second line item with the
    title of an active one already in the class. The probes use ids of the checker's own;
    anything a provider stores anyway is deleted again. A warning: the spec does not require
    these rules (it only suggests the enrollment one), but an LMS written against Campus
    expects the refusals. Skipped when the connection may not write the grade book. Fix: check
    dates against the class's terms, the student against the class roster and the title
    against the class's line items before storing."""
    return _run(ctx, _campus_rules)


def _campus_rules(writer: Writer) -> Outcome:
    item = _valid_line_item(writer)
    if item is None:
        return Outcome("skipped", NO_LINE_ITEM)
    plan = writer.plan
    outside = plan.latest_end + dt.timedelta(days=7)
    probes: list[tuple[str, str, dict]] = [
        (f"a line item due {outside.isoformat()}, after the class's terms (ending "
         f"{plan.latest_end.isoformat()}, exclusive)", "lineItems",
         writer.line_item(new_id(), f"Harness {uuid.uuid4().hex[:8]}",
                          dueDate=_at_noon(outside))),
        (f"a second line item titled {item['title']!r} in the class", "lineItems",
         writer.line_item(new_id(), item["title"])),
    ]
    note = ""
    if plan.other_student_id is not None:
        probes.append(("a result for a student not enrolled in the class", "results",
                       writer.result(new_id(), item["sourcedId"],
                                     student=plan.other_student_id)))
    else:
        note = (" (no result for a student outside the class was tried: none was found, or "
                "the enrollments could not all be read)")
    return _verdict(probes, *_probe(writer, probes), note)
