"""Grade-book writes (OR-GB): the partner write flow a grade-passback LMS relies on, updates,
and the writes a provider must refuse.

What the checks write to (a class, a grading period, a category, a student) is chosen in
``gradebook_plan``; how they write, clean up and compare is ``gradebook_writer``. Every record
they write has an id of their own (``harness-<uuid4>``) and is deleted again before the check
ends; a connection that may not write the grade book skips them.

Severity follows whose rule it is: OneRoster's own (a write is stored, an update replaces, a
write naming unknown records or a malformed one is refused with a status payload) are errors;
Infinite Campus's (dates inside the term, unique titles, title length, enrolled students) are
warnings that the ``campus`` profile raises to errors (``harness.profiles``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ..engine import Finding, Offenders, Outcome, passed
from ..exchange import Exchange
from .context import Context, answered
from .gradebook_writer import (
    CREATED,
    RESULT_MAX,
    SINGULAR,
    UPDATED,
    Writer,
    at_noon,
    description,
    differences,
    gone,
    new_id,
    now,
    read_back,
    run_writes,
    short_title,
    stored,
)
from .support import check, evidence, few, status_payload_errors

REFUSED_BUT_NOT_A_REJECTION = (401, 429)  # credentials or load, not a verdict on the data
CAMPUS_TITLE_LENGTH = 50  # Infinite Campus's longest line item title

# (what, collection, the path's sourcedId, the JSON body): a write that must be refused.
Probe = tuple[str, str, str, Any]


def _enveloped(what: str, collection: str, record: dict) -> Probe:
    return what, collection, record["sourcedId"], {SINGULAR[collection]: record}


# --- OR-GB-001 --------------------------------------------------------------------------------


@check("OR-GB-001", "The partner grade-book write flow: create, read back, delete",
       "OneRoster 1.2 Gradebook REST binding: putLineItem, getLineItem, putResult, getResult, "
       "deleteResult, deleteLineItem (1.1: the same operations under /ims/oneroster/v1p1)")
def partner_write_flow(ctx: Context) -> Outcome:
    """What a grade-passback LMS does, on records of the checker's own (``harness-<uuid>``) in
    a class with an enrolled student: PUT a line item (201 or 200) filed under a grading period
    of the class's term and dated inside it, in a category the class uses, and read it back
    equal in every field sent; PUT a result ("fully graded", a score) for the enrolled student
    and read it back; DELETE the result and the line item (204 or 200), after which a read
    answers 404 or shows the record tobedeleted. Updates are OR-GB-004's. Skipped when the
    connection may not write the grade book (or the provider serves none, or serves it for
    reading only). Everything written is deleted again even when the check fails. Fix: store
    every field of a PUT as sent and make a DELETE stick."""
    return run_writes(ctx, _flow)


def _flow(writer: Writer) -> Outcome:
    writer.ensure_category()
    item_id, result_id = new_id(), new_id()
    item = writer.line_item(item_id, short_title())
    created = stored(writer, "lineItems", item, "creating a line item")
    read_back(writer, "lineItems", item, "after creating the line item")
    result = writer.result(result_id, item_id)
    stored(writer, "results", result, "creating a result for an enrolled student")
    read_back(writer, "results", result, "after creating the result")
    gone(writer, "results", result_id)
    deleted, item_after = gone(writer, "lineItems", item_id)
    how = "404" if item_after.status == 404 else "tobedeleted"
    return passed(f"line item and result created ({created.status}) and read back as sent, "
                  f"deleted ({deleted.status}; a read afterwards shows {how})",
                  created, deleted, item_after)


# --- refusals (OR-GB-002, 003; 005 below) ----------------------------------------------------


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


def _probe(writer: Writer, probes: list[Probe]
           ) -> tuple[list[tuple[str, Exchange]], list[Exchange]]:
    """PUT each write that must be refused: (problems, refusals)."""
    problems: list[tuple[str, Exchange]] = []
    refusals: list[Exchange] = []
    for what, collection, sid, body in probes:
        exchange = writer.put_body(collection, sid, body)
        problem = _rejected(exchange, writer.target.version, what)
        if problem:
            problems.append((problem, exchange))
        else:
            refusals.append(exchange)
    return problems, refusals


def _valid_line_item(writer: Writer) -> dict | None:
    """A line item of our own for the probes; None when the provider refused it."""
    writer.ensure_category()
    item = writer.line_item(new_id(), short_title())
    exchange = writer.put("lineItems", item)
    return item if exchange.status in CREATED else None


def _verdict(probes: list[Probe], problems: list[tuple[str, Exchange]],
             refusals: list[Exchange], note: str = "") -> Outcome:
    if problems:
        raise Finding(f"{len(problems)} of {len(probes)} writes that must be refused were not "
                      f"refused properly: {few([p for p, _ in problems])}{note}",
                      *evidence(*(e for _, e in problems)), items=[p for p, _ in problems])
    statuses = ", ".join(sorted({str(e.status) for e in refusals}))
    return passed(f"{len(probes)} bad writes refused ({statuses}, with status bodies): "
                  f"{', '.join(what for what, *_ in probes)}{note}", *evidence(*refusals))


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
    write the grade book (or the provider serves none, or serves it for reading only). Fix:
    resolve every GUIDRef of a write before storing it, and answer the status payload."""
    return run_writes(ctx, _unknown_references)


def _unknown_references(writer: Writer) -> Outcome:
    item = _valid_line_item(writer)
    if item is None:
        return Outcome("skipped", NO_LINE_ITEM)
    probes = [
        _enveloped("a line item for an unknown class", "lineItems",
                   writer.line_item(new_id(), short_title(), **{
                       "class": writer.ref("classes", new_id(), "class")})),
        _enveloped("a result for an unknown student", "results",
                   writer.result(new_id(), item["sourcedId"], student=new_id())),
        _enveloped("a result for an unknown line item", "results",
                   writer.result(new_id(), new_id())),
    ]
    return _verdict(probes, *_probe(writer, probes))


@check("OR-GB-003", "Campus write rules: dates inside the class's terms, enrolled students, "
       "unique titles, titles of at most 50 characters",
       "Infinite Campus grade-book write rules (campus-notes §1.5, §4 item 9); OneRoster "
       "itself states none of them", severity="warning")
def campus_write_rules(ctx: Context) -> Outcome:
    """Infinite Campus refuses grade-book writes that OneRoster itself does not forbid, and a
    Campus-like provider should refuse them with a 4xx (not 401 or 429) and a status body: a
    line item whose dueDate falls after the class's terms (a week after the latest term end;
    terms run from the earliest start to the latest end, end day excluded); a second line item
    with the title of an active one already in the class; a line item whose title is 51
    characters long (Campus takes at most 50); a result for an active student who is not
    enrolled in the line item's class. The probes use ids of the checker's own; anything a
    provider stores anyway is deleted again. A warning under the ``spec`` profile (the spec
    does not require these rules; it only suggests the enrollment one) and an error under
    ``campus``, since an LMS written against Campus expects the refusals. Skipped when the
    connection may not write the grade book (or the provider serves none, or serves it for
    reading only). Fix: check dates against the class's terms, the student against the class
    roster and the title against the class's line items and Campus's length before storing."""
    return run_writes(ctx, _campus_rules)


def _campus_rules(writer: Writer) -> Outcome:
    item = _valid_line_item(writer)
    if item is None:
        return Outcome("skipped", NO_LINE_ITEM)
    plan = writer.plan
    outside = plan.latest_end + dt.timedelta(days=7)
    long_title = f"Harness {uuid.uuid4().hex} {'x' * CAMPUS_TITLE_LENGTH}"[
        :CAMPUS_TITLE_LENGTH + 1]
    probes = [
        _enveloped(f"a line item due {outside.isoformat()}, after the class's terms (ending "
                   f"{plan.latest_end.isoformat()}, exclusive)", "lineItems",
                   writer.line_item(new_id(), short_title(), dueDate=at_noon(outside))),
        _enveloped(f"a second line item titled {item['title']!r} in the class", "lineItems",
                   writer.line_item(new_id(), item["title"])),
        _enveloped(f"a line item titled with {len(long_title)} characters (Campus takes at "
                   f"most {CAMPUS_TITLE_LENGTH})", "lineItems",
                   writer.line_item(new_id(), long_title)),
    ]
    note = ""
    if plan.other_student_id is not None:
        probes.append(_enveloped("a result for a student not enrolled in the class", "results",
                                 writer.result(new_id(), item["sourcedId"],
                                               student=plan.other_student_id)))
    else:
        note = (" (no result for a student outside the class was tried: none was found, or "
                "the enrollments could not all be read)")
    return _verdict(probes, *_probe(writer, probes), note)


# --- OR-GB-004 and 005 -------------------------------------------------------------------------


@check("OR-GB-004", "A PUT to an existing record replaces it: line items, results and "
       "categories read back as updated",
       "OneRoster 1.2 Gradebook REST binding: putLineItem, putResult, putCategory replace the "
       "record with that sourcedId (1.1: the same PUTs under /ims/oneroster/v1p1)")
def updates_are_stored(ctx: Context) -> Outcome:
    """An LMS corrects what it sent by PUTting the record again under the same sourcedId. On
    records of the checker's own (``harness-<uuid>``): a category gets a new title; a line item
    a new title, description, dueDate (still inside its grading period) and resultValueMax; a
    result a new score and comment, then extra credit (a score above the line item's
    resultValueMax, which Infinite Campus and Google keep; a provider may refuse it with a 4xx
    status body, and that is noted, not failed), then "exempt". Each update must be answered
    200, 201 or 204 and read back equal in every field sent; every difference of every record
    is listed. Skipped when the connection may not write the grade book (or the provider
    serves none, or serves it for reading only). Everything written is deleted again. Fix:
    treat a PUT to an existing sourcedId as a full replacement and store every field as
    sent."""
    return run_writes(ctx, _updates)


class _Updates:
    """The records OR-GB-004 creates and updates, and what went wrong with them."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.offenders = Offenders()
        self.statuses: set[int] = set()
        self.notes: list[str] = []
        self.last: Exchange | None = None

    def create(self, label: str, collection: str, record: dict) -> bool:
        exchange = self.writer.put(collection, record)
        if exchange.status in CREATED:
            return True
        self.offenders.add(f"{label}: creating it, PUT /{collection}/{record['sourcedId']} "
                           f"{answered(exchange)} ({description(exchange) or 'no description'})",
                           exchange)
        return False

    def update(self, label: str, collection: str, record: dict, **changes: Any) -> dict:
        """PUT ``record`` with ``changes`` and read it back; offenders for what went wrong.
        The record as last sent."""
        changed = {k: v for k, v in {**record, **changes, "dateLastModified": now()}.items()
                   if v is not None}
        exchange = self.writer.put(collection, changed)
        if exchange.status not in UPDATED:
            self.offenders.add(f"{label}: the update PUT /{collection}/{record['sourcedId']} "
                               f"{answered(exchange)} ({description(exchange) or 'no body'})",
                               exchange)
            return changed
        self.statuses.add(exchange.status)
        self.check(label, collection, changed, exchange)
        return changed

    def check(self, label: str, collection: str, sent: dict, put: Exchange) -> None:
        differ, got = differences(self.writer, collection, sent)
        for difference in differ:
            self.offenders.add(f"{label}: {difference}", got, put)
        self.last = got


def _updates(writer: Writer) -> Outcome:
    run = _Updates(writer)
    category = writer.category(new_id(), short_title())
    if run.create("category", "categories", category):
        run.update("category", "categories", category, title=category["title"] + " (renamed)")
    writer.ensure_category()
    plan, limit = writer.plan, RESULT_MAX * 2
    item = writer.line_item(new_id(), short_title())
    if run.create("line item", "lineItems", item):
        run.update("line item", "lineItems", item, title=item["title"] + " (revised)",
                   description="Revised by oneroster-harness",
                   dueDate=at_noon(plan.earlier_due_day), resultValueMax=limit)
        _result_updates(run, item["sourcedId"], limit)
    run.offenders.raise_if_any(lambda n: f"{n} updates were not stored as sent")
    statuses = ", ".join(str(s) for s in sorted(run.statuses))
    return passed(f"a category, a line item and a result updated ({statuses}) and read back "
                  f"as sent: the category's title; the line item's title, description, "
                  f"dueDate and resultValueMax; the result's score and comment, "
                  f"{', '.join(run.notes)}, exempt", *evidence(run.last))


def _result_updates(run: _Updates, item_id: str, limit: float) -> None:
    writer = run.writer
    result = writer.result(new_id(), item_id)
    if not run.create("result", "results", result):
        return
    result = run.update("result", "results", result, score=9.25,
                        comment="Revised by oneroster-harness")
    extra = {**result, "score": limit + 2, "dateLastModified": now()}
    answer = writer.put("results", extra)
    if answer.status in UPDATED:
        run.check("result with extra credit", "results", extra, answer)
        run.notes.append("extra credit kept")
        result = extra
    elif answer.status is not None and 400 <= answer.status < 500 \
            and answer.status not in REFUSED_BUT_NOT_A_REJECTION \
            and not status_payload_errors(answer, writer.target.version):
        run.notes.append(f"extra credit refused with {answer.status}")
    else:
        run.offenders.add(f"result: a score above the line item's resultValueMax "
                          f"({limit:g}) {answered(answer)}: neither stored nor refused with "
                          "a status body", answer)
    # 1.1 requires a score even for an exempt result; 1.2 lets it go.
    run.update("result", "results", result, scoreStatus="exempt", comment="Excused",
               score=None if writer.target.version == "1.2" else 0.0)


@check("OR-GB-005", "Malformed grade-book writes are refused with a 4xx status payload",
       "OneRoster 1.2 Gradebook REST binding: a PUT body is the singular envelope holding a "
       "record valid against its schema, else 400 (or 422) invaliddata with imsx_StatusInfo "
       "(1.1: statusInfoSet)")
def malformed_writes_refused(ctx: Context) -> Outcome:
    """The mistakes a grade-passback client makes must be refused with a 4xx (not 401 or 429)
    and the version's status body, never stored, never a 5xx and never an HTML page: a line
    item body that is not JSON (``NaN`` for a number), a line item sent without its envelope,
    a line item under the plural envelope key ``lineItems``, a result whose envelope holds a
    list, a result whose score is text, and a result whose scoreStatus is ``fully_graded``
    (the spec spells it ``fully graded``). Each is otherwise valid: the results are for an
    enrolled student on a line item of the checker's own. Every write not refused properly is
    listed. Anything a provider stores anyway is deleted again. Skipped when the connection may
    not write the grade book (or the provider serves none, or serves it for reading only).
    Fix: parse the body strictly, check the envelope and the schema before anything else, and
    answer the status payload."""
    return run_writes(ctx, _malformed)


def _malformed(writer: Writer) -> Outcome:
    item = _valid_line_item(writer)
    if item is None:
        return Outcome("skipped", NO_LINE_ITEM)
    not_json = writer.line_item(new_id(), short_title(), resultValueMax=float("nan"))
    bare = writer.line_item(new_id(), short_title())
    plural = writer.line_item(new_id(), short_title())
    listed = writer.result(new_id(), item["sourcedId"])
    probes: list[Probe] = [
        ("a line item whose body is not JSON (NaN for a number)", "lineItems",
         not_json["sourcedId"], {"lineItem": not_json}),
        ("a line item without its envelope", "lineItems", bare["sourcedId"], bare),
        ("a line item under the envelope key 'lineItems'", "lineItems", plural["sourcedId"],
         {"lineItems": plural}),
        ("a result whose envelope holds a list", "results", listed["sourcedId"],
         {"result": [listed]}),
        _enveloped("a result whose score is text", "results",
                   writer.result(new_id(), item["sourcedId"], score="high")),
        _enveloped("a result with scoreStatus 'fully_graded'", "results",
                   writer.result(new_id(), item["sourcedId"], scoreStatus="fully_graded")),
    ]
    return _verdict(probes, *_probe(writer, probes))
