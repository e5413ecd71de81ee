"""Grade-book writes: PUT (create or replace) and DELETE of line items, results, categories and
score scales, OneRoster 1.2 and 1.1, and of assessment line items and assessment results (1.2
only; scopes ``assessment.createput`` / ``assessment.delete``).

What a PUT does, in order:

1. Shape (400): the body is JSON holding the singular envelope (``{"lineItem": {...}}``); the
   body's ``sourcedId`` equals the path's or is absent (the path's is used).
2. The server's fields are set: ``sourcedId``, ``status: "active"`` and ``dateLastModified``
   (UTC, now by the wall clock but never before the district clock, meta ``clock``). Whatever
   the client sent for these two is replaced. A line item sent without a category gets the
   class's "Uncategorized" category (rule ``uncategorized_default``; the category, sourcedId
   ``uncategorized-<classId>``, is created on first use).
3. Schema (400): the completed envelope is validated against the official schema of the
   version (1.2 ``Single*DType``, 1.1 ``lineItem`` / ``result`` / ``category``); the error
   names the first error's path and message.
4. Rules (422, 403): see ``rules.py``.
5. Storage, all in one ``BEGIN IMMEDIATE`` transaction on the writer connection, committed
   before the response: both JSON forms (incoming GUIDRefs stored as compact refs), written
   through ``mock_provider.editor.RecordEditor`` (which derives the indexed columns from them);
   a new record gets ``seq = max(seq) + 1``, a replaced one keeps its seq. A rejected write
   changes nothing.

The other version's form is derived: 1.1 line items get ``gradingPeriod`` (the 1.2
``gradingPeriod``, else ``academicSession``, else the class's grading period or term holding
the due date) and ``resultValueMin/Max`` (default 0.0 and 100.0); 1.1 results get ``score``
(0.0 when the 1.2 result has none, as the generated district does for exempt results); 1.2 line
items written over 1.1 get ``school`` (the class's school) and 1.2 results ``class`` (the line
item's class). Score scales and assessments have no 1.1 form.

Assessment line items check their ``class``, ``parentAssessmentLineItem`` (not the record
itself) and ``scoreScale`` references; assessment results their ``assessmentLineItem``,
``student`` and ``scoreScale``, and, when the assessment line item has a class, that the student
is enrolled in it (``result_student_enrolled``). A score above the line item's
``resultValueMax`` is kept as sent (extra credit).

DELETE removes the row (a later GET answers 404; deletions do not show in delta reads).
Deleting a line item keeps its results, as Campus keeps scores already posted, unless the
request says ``?cascade=true`` (likewise an assessment line item and its results).
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jsonschema.exceptions import best_match

from specs import schema_v11, schema_v12, validator

from ..bodies import BodyError, loads_strict
from ..district.provenance import count_write
from ..district.records import timestamp
from ..editor import RecordEditor
from ..errors import OneRosterError
from ..record_forms import doc_sql
from ..refs import ref
from ..tables import RECORD_TABLES, index_statements
from ..writer import in_transaction, open_writer
from .rules import RuleSet, broken, malformed

T = TypeVar("T")
Scope = tuple[str, tuple[str, ...]]  # an SQL condition and its parameters ("" for none)


@dataclass(frozen=True)
class Kind:
    table: str
    key: str  # the singular envelope key
    type_v12: str  # the record's 1.2 schema, e.g. "LineItemDType"
    type_v11: str | None  # the record's 1.1 definition, e.g. "LineItem"

    @property
    def envelope_v12(self) -> str:
        return "Single" + self.type_v12

    @property
    def envelope_v11(self) -> str | None:
        return self.key if self.type_v11 else None


KINDS: dict[str, Kind] = {
    "lineItems": Kind("lineItems", "lineItem", "LineItemDType", "LineItem"),
    "results": Kind("results", "result", "ResultDType", "Result"),
    "categories": Kind("categories", "category", "CategoryDType", "Category"),
    "scoreScales": Kind("scoreScales", "scoreScale", "ScoreScaleDType", None),
    "assessmentLineItems": Kind("assessmentLineItems", "assessmentLineItem",
                                "AssessmentLineItemDType", None),
    "assessmentResults": Kind("assessmentResults", "assessmentResult", "AssessmentResultDType",
                              None),
}
V11_KINDS = ("lineItems", "results", "categories")


@dataclass(frozen=True)
class RefTarget:
    """What a reference field points at."""

    ref_kind: str  # refs.REF_KINDS key for the compact form
    table: str
    label: str  # how errors name it
    where: str = ""  # extra SQL condition (the right sub-type)
    types: frozenset[str] = frozenset()  # GUIDRef "type" values accepted


def _t(ref_kind: str, table: str, label: str, where: str = "", *types: str) -> RefTarget:
    return RefTarget(ref_kind, table, label, where, frozenset(types or (ref_kind,)))


TARGETS: dict[str, RefTarget] = {
    "class": _t("class", "classes", "class"),
    "school": _t("org", "orgs", "school", "type = 'school'"),
    "category": _t("category", "categories", "category"),
    "gradingPeriod": _t("academicSession", "academicSessions", "gradingPeriod", "",
                        "academicSession", "term", "gradingPeriod"),
    "academicSession": _t("academicSession", "academicSessions", "academicSession"),
    "scoreScale": _t("scoreScale", "scoreScales", "scoreScale"),
    "lineItem": _t("lineItem", "lineItems", "lineItem"),
    "student": _t("user", "users", "student", "role = 'student'", "user", "student"),
    "course": _t("course", "courses", "course"),
    "assessmentLineItem": _t("assessmentLineItem", "assessmentLineItems", "assessmentLineItem"),
    "parentAssessmentLineItem": _t("assessmentLineItem", "assessmentLineItems",
                                   "parentAssessmentLineItem"),
}
REF_FIELDS = {
    "lineItems": ("class", "school", "category", "gradingPeriod", "academicSession",
                  "scoreScale"),
    "results": ("lineItem", "student", "class", "scoreScale"),
    "categories": (),
    "scoreScales": ("class", "course"),
    "assessmentLineItems": ("class", "parentAssessmentLineItem", "scoreScale"),
    "assessmentResults": ("assessmentLineItem", "student", "scoreScale"),
}
UNCATEGORIZED = "Uncategorized"


def uncategorized_id(class_id: str) -> str:
    return f"uncategorized-{class_id}"


@cache
def _properties(version: str, type_name: str) -> frozenset[str]:
    schema = schema_v12(type_name) if version == "1.2" else schema_v11(type_name)
    return frozenset(schema["properties"])


# --- the request --------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteRequest:
    version: str  # "1.2" or "1.1"
    table: str
    sourced_id: str
    base_url: str  # scheme, host and the flavor's prefix, for hrefs the server fills in
    rules: RuleSet = field(default_factory=RuleSet)
    # Per table, the caller's school scope (school_scope.school_scope); absent: whole district.
    scopes: dict[str, Scope] = field(default_factory=dict)

    @property
    def kind(self) -> Kind:
        return KINDS[self.table]

    def scope(self, table: str) -> Scope:
        return self.scopes.get(table, ("", ()))


def _enveloped(raw: bytes, key: str) -> Any:
    """What a JSON body holds under its one envelope key, or a 400 naming the shape problem."""
    try:
        body = loads_strict(raw)
    except BodyError as exc:
        raise malformed("json_body", exc.message) from None
    if not isinstance(body, dict):
        raise malformed("json_body", f"the request body is a JSON {type(body).__name__}, "
                                     "not an object")
    if key not in body:
        found = ", ".join(sorted(body)) or "nothing"
        raise malformed("envelope", f"expected the envelope key {key!r}, found {found}")
    extra = sorted(set(body) - {key})
    if extra:
        raise malformed("envelope", f"unexpected key {extra[0]!r} beside {key!r}")
    return body[key]


def parse_body(raw: bytes, req: WriteRequest) -> dict[str, Any]:
    """The record inside a PUT body, or a 400 naming what is wrong with its shape."""
    key = req.kind.key
    record = _enveloped(raw, key)
    if not isinstance(record, dict):
        raise malformed("envelope", f"{key} must be an object, not {type(record).__name__}")
    given = record.get("sourcedId")
    if given is not None and given != req.sourced_id:
        raise malformed("sourcedid_matches_path", f"the body's sourcedId {given!r} differs from "
                                                  f"the path's {req.sourced_id!r}")
    return record


# --- time ---------------------------------------------------------------------------------


def write_time(conn: sqlite3.Connection) -> str:
    """Now (UTC, whole seconds), but never before the district clock."""
    now = int(time.time())
    row = conn.execute("SELECT value FROM meta WHERE key = 'clock'").fetchone()
    if row is not None:
        with contextlib.suppress(ValueError):
            now = max(now, calendar.timegm(time.strptime(row[0], "%Y-%m-%dT%H:%M:%SZ")))
    return timestamp(now)


def _utc(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


# --- checks -------------------------------------------------------------------------------


def _ref_id(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("sourcedId"), str):
        return value["sourcedId"]
    return None


def _check_schema(req: WriteRequest, record: dict[str, Any]) -> None:
    kind = req.kind
    name = kind.envelope_v12 if req.version == "1.2" else kind.envelope_v11
    assert name is not None
    error = best_match(validator(req.version, name).iter_errors({kind.key: record}))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or kind.key
        raise malformed("schema", f"{where}: {error.message}")


class WriteRules:
    """The rule checks of one PUT, reading the district inside the write transaction."""

    def __init__(self, conn: sqlite3.Connection, req: WriteRequest,
                 record: dict[str, Any]) -> None:
        self.conn = conn
        self.req = req
        self.rules = req.rules
        self.record = record

    def on(self, rule: str) -> bool:
        return self.rules.on(rule)

    def reference(self, name: str, skip: bool = False) -> str | None:
        """The sourcedId a reference field names (None when absent), checked by
        ``reference_exists`` unless ``skip``."""
        value = self.record.get(name)
        sid = _ref_id(value)
        if sid is None or skip or not self.on("reference_exists"):
            return sid
        target = TARGETS[name]
        sent_type = value.get("type")
        if sent_type not in target.types:
            wanted = " or ".join(sorted(target.types))
            raise broken("reference_exists",
                         f"{name} {sid} has type {sent_type!r}, expected {wanted}")
        scope_sql, scope_params = self.req.scope(target.table)
        where = f" AND {target.where}" if target.where else ""
        row = self.conn.execute(
            f"SELECT status, hidden, {scope_sql or '1'} FROM {target.table} "
            f"WHERE sourcedId = ?{where}", (*scope_params, sid)).fetchone()
        if row is None or row[1] or not row[2]:
            raise broken("reference_exists", f"unknown {target.label} {sid}")
        if row[0] != "active":
            raise broken("reference_exists", f"{target.label} {sid} is {row[0]}, not active")
        return sid

    def title(self, line_item: bool = False) -> str:
        title = self.record.get("title")
        text = title if isinstance(title, str) else ""
        if self.on("title_required") and not text.strip():
            raise broken("title_required", f"{self.req.kind.key} {self.req.sourced_id} has a "
                                           f"blank title {text!r}")
        limit = self.rules.max_title_length
        if line_item and self.on("title_max_length") and len(text) > limit:
            raise broken("title_max_length", f"title {text!r} has {len(text)} characters, "
                                             f"more than {limit}")
        return text

    # - class context -

    def class_row(self, class_id: str | None) -> tuple[str | None, list[tuple[str, str, str]]]:
        """(school, terms as (id, start, end)) of a class; (None, []) when unknown."""
        if class_id is None:
            return None, []
        row = self.conn.execute("SELECT school_id FROM classes WHERE sourcedId = ?",
                                (class_id,)).fetchone()
        if row is None:
            return None, []
        terms = self.conn.execute(
            "SELECT s.sourcedId, s.startDate, s.endDate FROM class_terms t "
            "JOIN academicSessions s ON s.sourcedId = t.term_id WHERE t.class_id = ? "
            "ORDER BY s.startDate", (class_id,)).fetchall()
        return row[0], terms

    def term_tree(self, terms: list[tuple[str, str, str]]) -> dict[str, tuple[str, str, str]]:
        """Sessions of a class's term tree: id -> (type, start, end)."""
        ids = [t[0] for t in terms]
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT sourcedId, type, startDate, endDate FROM academicSessions "
            f"WHERE sourcedId IN ({marks}) OR parent_id IN ({marks}) OR sourcedId IN "
            f"(SELECT parent_id FROM academicSessions WHERE sourcedId IN ({marks}))",
            (*ids, *ids, *ids)).fetchall()
        return {sid: (kind, start, end) for sid, kind, start, end in rows}


def _check_line_item(c: WriteRules, auto_category: bool) -> dict[str, Any]:
    rec = c.record
    title = c.title(line_item=True)
    class_id = c.reference("class")
    school_id = c.reference("school")
    c.reference("category", skip=auto_category)
    grading_period = c.reference("gradingPeriod")
    session = c.reference("academicSession")
    c.reference("scoreScale")
    class_school, terms = c.class_row(class_id)
    if (c.on("line_item_school_matches_class") and school_id is not None
            and class_school is not None and school_id != class_school):
        raise broken("line_item_school_matches_class",
                     f"school {school_id} is not the school {class_school} of class {class_id}")
    assign, due = _utc(rec["assignDate"]), _utc(rec["dueDate"])
    if c.on("assign_before_due") and assign > due:
        raise broken("assign_before_due",
                     f"assignDate {rec['assignDate']} is after dueDate {rec['dueDate']}")
    tree = c.term_tree(terms)
    if c.on("line_item_session_in_class_terms") and terms:
        for name, sid in (("gradingPeriod", grading_period), ("academicSession", session)):
            if sid is not None and sid not in tree:
                listed = ", ".join(t[0] for t in terms)
                raise broken("line_item_session_in_class_terms",
                             f"{name} {sid} is not in the term tree of class {class_id} "
                             f"(terms {listed})")
    if c.on("dates_within_class_terms") and terms:
        start, end = min(t[1] for t in terms), max(t[2] for t in terms)
        periods = [(s, e) for kind, s, e in tree.values() if kind == "gradingPeriod"]
        for name, moment in (("assignDate", assign), ("dueDate", due)):
            day = moment.date().isoformat()
            inside = start <= day < end or any(s <= day < e for s, e in periods)
            if not inside:
                raise broken("dates_within_class_terms",
                             f"{name} {day} is outside term {start}..{end} of class {class_id}")
    if c.on("title_unique_in_class") and class_id is not None:
        clash = c.conn.execute(
            "SELECT sourcedId FROM lineItems WHERE class_id = ? AND title = ? AND status = "
            "'active' AND hidden = 0 AND sourcedId != ? LIMIT 1",
            (class_id, title, c.req.sourced_id)).fetchone()
        if clash is not None:
            raise broken("title_unique_in_class", f"title {title!r} is already used by line "
                                                  f"item {clash[0]} in class {class_id}")
    gp_id = grading_period or session
    if gp_id is None and terms:
        # The 1.1 form needs a grading period: the class's one holding the due date, else its
        # first term.
        day = due.date().isoformat()
        holding = [sid for sid, (kind, s, e) in tree.items()
                   if kind == "gradingPeriod" and s <= day < e]
        gp_id = holding[0] if holding else terms[0][0]
    return {"class_id": class_id, "school_id": school_id or class_school,
            "class_school": class_school, "grading_period": gp_id}


def _check_result(c: WriteRules) -> dict[str, Any]:
    line_item = c.reference("lineItem")
    student = c.reference("student")
    class_id = c.reference("class")
    c.reference("scoreScale")
    row = c.conn.execute("SELECT class_id FROM lineItems WHERE sourcedId = ?",
                         (line_item,)).fetchone()
    item_class = row[0] if row else None
    if (c.on("result_class_matches_line_item") and class_id is not None
            and item_class is not None and class_id != item_class):
        raise broken("result_class_matches_line_item",
                     f"class {class_id} is not the class {item_class} of line item {line_item}")
    _student_enrolled(c, student, item_class, f"line item {line_item}")
    return {"line_item": line_item, "student": student, "class_id": class_id or item_class}


def _student_enrolled(c: WriteRules, student: str | None, class_id: str | None,
                      of_what: str) -> None:
    """The ``result_student_enrolled`` rule: a score is for a student of the item's class."""
    if not c.on("result_student_enrolled") or class_id is None or student is None:
        return
    enrolled = c.conn.execute(
        "SELECT 1 FROM enrollments WHERE class_id = ? AND user_id = ? AND role = 'student' "
        "AND status = 'active' AND hidden = 0", (class_id, student)).fetchone()
    if enrolled is None:
        raise broken("result_student_enrolled", f"student {student} is not enrolled as a "
                                                f"student in class {class_id} of {of_what}")


def _check_assessment_line_item(c: WriteRules) -> dict[str, Any]:
    c.reference("class")
    c.reference("scoreScale")
    parent = c.reference("parentAssessmentLineItem")
    if parent == c.req.sourced_id and c.on("reference_exists"):
        raise broken("reference_exists", f"assessment line item {parent} cannot be its own "
                                         "parentAssessmentLineItem")
    return {}


def _check_assessment_result(c: WriteRules) -> dict[str, Any]:
    line_item = c.reference("assessmentLineItem")
    student = c.reference("student")
    c.reference("scoreScale")
    row = c.conn.execute("SELECT class_id FROM assessmentLineItems WHERE sourcedId = ?",
                         (line_item,)).fetchone()
    item_class = row[0] if row else None
    _student_enrolled(c, student, item_class, f"assessment line item {line_item}")
    return {}


# --- storage ------------------------------------------------------------------------------


def _compact(record: dict[str, Any], table: str) -> dict[str, Any]:
    """The record with its GUIDRefs in the store's compact form."""
    out = dict(record)
    for name in REF_FIELDS[table]:
        sid = _ref_id(record.get(name))
        if sid is not None:
            out[name] = ref(TARGETS[name].ref_kind, sid)
    return out


def _only(record: dict[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k in keys}


def _forms(req: WriteRequest, record: dict[str, Any],
           facts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the 1.2 form, the 1.1 form or None), both with compact refs."""
    kind, table = req.kind, req.table
    stored = _compact(record, table)
    if req.version == "1.2":
        j12 = stored
        if kind.type_v11 is None:
            return j12, None
        j11 = _only(j12, _properties("1.1", kind.type_v11))
    else:
        j11 = stored
        j12 = _only(j11, _properties("1.2", kind.type_v12))
    if table == "lineItems":
        if "gradingPeriod" not in j11 and facts["grading_period"] is not None:
            j11["gradingPeriod"] = ref("academicSession", facts["grading_period"])
        j11.setdefault("resultValueMin", 0.0)
        j11.setdefault("resultValueMax", 100.0)
        if "school" not in j12 and facts["class_school"] is not None:
            j12["school"] = ref("org", facts["class_school"])
    elif table == "results":
        j11.setdefault("score", 0.0)
        if "class" not in j12 and facts["class_id"] is not None:
            j12["class"] = ref("class", facts["class_id"])
    return j12, j11


def _ensure_uncategorized(out: RecordEditor, class_id: str, now: str) -> None:
    sid = uncategorized_id(class_id)
    if out.exists("categories", sid):
        return
    obj = {"sourcedId": sid, "status": "active", "dateLastModified": now,
           "title": UNCATEGORIZED}
    out.add("categories", obj, class_id=class_id)


def _existing(conn: sqlite3.Connection, req: WriteRequest) -> tuple | None:
    """The stored row's (hidden, in the caller's scope, class_id or None), or None."""
    scope_sql, scope_params = req.scope(req.table)
    class_col = "class_id" if "class_id" in RECORD_TABLES[req.table] else "NULL"
    return conn.execute(
        f"SELECT hidden, {scope_sql or '1'}, {class_col} FROM {req.table} WHERE sourcedId = ?",
        (*scope_params, req.sourced_id)).fetchone()


def _unknown_record(req: WriteRequest) -> OneRosterError:
    """The answer for a sourcedId the caller cannot see, as a GET of it gives."""
    return OneRosterError(404, "unknownobject", f"Unknown Object: no {req.table} record with "
                                                f"sourcedId {req.sourced_id!r}")


def put_record(conn: sqlite3.Connection, req: WriteRequest, sent: dict[str, Any]) -> bool:
    """Check and store one PUT inside the caller's transaction; True when it created the
    record. Raises OneRosterError (nothing written) when the write is refused.

    A sourcedId taken by a record the caller cannot see (hidden, or outside its schools) is
    checked as a new record would be, so every refusal reads as for an id never used; only
    a write that would then be stored is refused, 404 unknownobject as a GET of it answers
    (rule ``sourcedid_not_hidden``)."""
    now = write_time(conn)
    existing = _existing(conn, req)
    unseen = existing is not None and bool(existing[0] or not existing[1])
    if unseen:
        existing = None
    server = {"sourcedId": req.sourced_id, "status": "active", "dateLastModified": now}
    record = {**server, **{k: v for k, v in sent.items() if k not in server}}
    auto_category = None
    if req.table == "lineItems" and "category" not in record and req.rules.on(
            "uncategorized_default"):
        class_id = _ref_id(record.get("class"))
        if class_id is not None:
            auto_category = uncategorized_id(class_id)
            service = "v1p1" if req.version == "1.1" else "gradebook/v1p2"
            record["category"] = {
                "href": f"{req.base_url}/ims/oneroster/{service}/categories/"
                        f"{quote(auto_category, safe='')}",
                "sourcedId": auto_category, "type": "category"}
    _check_schema(req, record)
    rules = WriteRules(conn, req, record)
    facts: dict[str, Any]
    if req.table == "lineItems":
        facts = _check_line_item(rules, auto_category is not None)
    elif req.table == "results":
        facts = _check_result(rules)
    elif req.table == "categories":
        rules.title()
        facts = {"class_id": existing[2] if existing else None}
    elif req.table == "assessmentLineItems":
        facts = _check_assessment_line_item(rules)
    elif req.table == "assessmentResults":
        facts = _check_assessment_result(rules)
    else:
        rules.title()
        rules.reference("class")
        rules.reference("course")
        facts = {}
    if unseen:
        raise _unknown_record(req)
    out = RecordEditor(conn)
    if auto_category is not None:
        _ensure_uncategorized(out, auto_category.removeprefix("uncategorized-"), now)
    j12, j11 = _forms(req, record, facts)
    v11 = None if j11 is None or j11 == j12 else j11
    # A category's class is not part of its JSON: it stays the one it was created under.
    stored = {"class_id": facts["class_id"]} if req.table == "categories" else {}
    if existing is None:
        out.add(req.table, j12, v11, **stored)
    else:
        out.replace(req.table, j12, v11, **stored)
    return existing is None


def delete_record(conn: sqlite3.Connection, req: WriteRequest, cascade: bool = False) -> None:
    """Remove one record inside the caller's transaction; 404 when there is none to see."""
    existing = _existing(conn, req)
    if existing is None or existing[0] or not existing[1]:
        raise _unknown_record(req)
    out = RecordEditor(conn)
    out.delete(req.table, "sourcedId = ?", (req.sourced_id,))
    if cascade and req.table == "lineItems":
        out.delete("results", "lineItem_id = ?", (req.sourced_id,))
    if cascade and req.table == "assessmentLineItems":
        out.delete("assessmentResults", "assessmentLineItem_id = ?", (req.sourced_id,))


# --- bulk POST ------------------------------------------------------------------------------
#
# The four 1.2 collection POSTs (postLineItemsForClass, postLineItemsForSchool,
# postResultsForLineItem, postResultsForAcademicSessionForClass) send a plural envelope
# (``{"lineItems": [...]}``) and get 201 with ``{"sourcedIdPairs": [{"suppliedSourcedId",
# "allocatedSourcedId"}]}``. Each record goes through the same checks and storage as a PUT
# (``put_record``), all records of one POST in ONE transaction: when any record is refused,
# none is stored, and the refusal names the rule first and then the record, e.g.
# ``reference_exists: lineItems[2] (sourcedId li-9): unknown class nope``.
#
# Allocation: every record must carry its supplied ``sourcedId`` (the pair needs it). A
# supplied sourcedId not yet taken (by any record, hidden or outside the caller's view
# included, earlier records of the same POST included) is allocated as is; a taken one gets a
# fresh ``uuid4`` and the pair reports it. A POST never replaces a record (PUT does that).
#
# The path's parent must exist in the caller's view (else 404 unknownobject) and agree with
# each record (rule ``path_matches_record``, 400, always on like ``sourcedid_matches_path``):
# a line item's class / school is the path's class / school (a line item posted to a school
# may leave ``school`` out: the schema rule then refuses it, as for a PUT); a result's
# lineItem is the path's line item; for a class and session, the result's class (else its
# line item's) is the path's class and the path's session is its line item's gradingPeriod /
# academicSession or one above it (term, school year).

PATH_RULE = "path_matches_record"


@dataclass(frozen=True)
class BulkParent:
    """The path of one bulk POST: which table the records go to and what they hang under."""

    table: str  # "lineItems" or "results"
    class_id: str | None = None
    school_id: str | None = None
    line_item_id: str | None = None
    session_id: str | None = None


def parse_bulk_body(raw: bytes, table: str) -> list[dict[str, Any]]:
    """The records inside a bulk POST body, or a 400 naming what is wrong with its shape."""
    records = _enveloped(raw, table)
    if not isinstance(records, list):
        raise malformed("envelope", f"{table} must be an array, not {type(records).__name__}")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise malformed("envelope", f"{table}[{index}] must be an object, not "
                                        f"{type(record).__name__}")
        sid = record.get("sourcedId")
        if not isinstance(sid, str) or not sid:
            raise malformed("envelope", f"{table}[{index}] needs its supplied sourcedId (a "
                                        "non-empty string)")
    return records


def _unknown(label: str, sid: str) -> OneRosterError:
    return OneRosterError(404, "unknownobject", f"Unknown Object: no {label} with sourcedId "
                                                f"{sid!r}")


def _check_parent(conn: sqlite3.Connection, req: WriteRequest, parent: BulkParent) -> None:
    """404 when a parent the path names does not exist in the caller's view."""
    wanted = (("class", parent.class_id), ("school", parent.school_id),
              ("lineItem", parent.line_item_id), ("academicSession", parent.session_id))
    for name, sid in wanted:
        if sid is None:
            continue
        target = TARGETS[name]
        scope_sql, scope_params = req.scope(target.table)
        where = f" AND {target.where}" if target.where else ""
        row = conn.execute(
            f"SELECT hidden, {scope_sql or '1'} FROM {target.table} WHERE sourcedId = ?{where}",
            (*scope_params, sid)).fetchone()
        if row is None or row[0] or not row[1]:
            raise _unknown(target.label, sid)


def _session_and_above(conn: sqlite3.Connection, sid: str | None) -> set[str]:
    """A session and its parents (bounded: the tree is school year > term > grading period)."""
    found: set[str] = set()
    for _ in range(5):
        if sid is None or sid in found:
            break
        found.add(sid)
        row = conn.execute("SELECT parent_id FROM academicSessions WHERE sourcedId = ?",
                           (sid,)).fetchone()
        sid = row[0] if row else None
    return found


def _check_path(conn: sqlite3.Connection, parent: BulkParent, record: dict[str, Any]) -> None:
    """Rule ``path_matches_record``; a reference the record leaves out is left to the schema."""

    def differ(name: str, sent: str | None, path: str | None) -> None:
        if path is not None and sent is not None and sent != path:
            raise malformed(PATH_RULE, f"{name} {sent} differs from the path's {path}")

    if parent.table == "lineItems":
        differ("class", _ref_id(record.get("class")), parent.class_id)
        differ("school", _ref_id(record.get("school")), parent.school_id)
        return
    line_item = _ref_id(record.get("lineItem"))
    differ("lineItem", line_item, parent.line_item_id)
    if parent.class_id is None and parent.session_id is None:
        return
    row = conn.execute(f"SELECT class_id, {doc_sql('lineItems', '1.2')} FROM lineItems "
                       "WHERE sourcedId = ?",
                       (line_item,)).fetchone()
    item_class = row[0] if row else None
    differ("class", _ref_id(record.get("class")) or item_class, parent.class_id)
    if parent.session_id is not None and row is not None:
        item = json.loads(row[1])
        sessions = [next(iter(item[name].values())) for name in ("gradingPeriod",
                                                                   "academicSession")
                    if isinstance(item.get(name), dict)]
        above = set().union(*(_session_and_above(conn, s) for s in sessions))
        if parent.session_id not in above:
            listed = ", ".join(sessions) or "none"
            raise malformed(PATH_RULE, f"academicSession {parent.session_id} is not the session "
                                       f"of line item {line_item} ({listed}) nor above it")


def _at(exc: OneRosterError, table: str, index: int, supplied: str) -> OneRosterError:
    """The refusal of one record of a bulk POST, naming the record after the rule."""
    rule, sep, message = exc.description.partition(": ")
    where = f"{table}[{index}] (sourcedId {supplied})"
    text = f"{rule}: {where}: {message}" if sep else f"{where}: {exc.description}"
    return OneRosterError(exc.status, exc.code_minor, text, exc.headers)


def post_records(conn: sqlite3.Connection, req: WriteRequest, parent: BulkParent,
                 records: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Check and store the records of one bulk POST inside the caller's transaction; the
    sourcedId pairs. Raises OneRosterError (the caller's transaction then stores nothing)."""
    _check_parent(conn, req, parent)
    pairs = []
    for index, sent in enumerate(records):
        supplied = sent["sourcedId"]
        taken = conn.execute(f"SELECT 1 FROM {req.table} WHERE sourcedId = ?",
                             (supplied,)).fetchone()
        allocated = str(uuid.uuid4()) if taken else supplied
        one = replace(req, sourced_id=allocated)
        record = {**sent, "sourcedId": allocated}
        try:
            _check_path(conn, parent, record)
            put_record(conn, one, record)
        except OneRosterError as exc:
            raise _at(exc, req.table, index, supplied) from None
        pairs.append({"suppliedSourcedId": supplied, "allocatedSourcedId": allocated})
    return pairs


# --- the writer connection ------------------------------------------------------------------


class GradebookWriter:
    """One writer connection per app, used under a lock: writes from the server's threads go
    one at a time, and SQLite's busy timeout makes other processes (a tick) wait their turn."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None

    def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self.lock:
            if self._conn is None:
                conn = open_writer(self.path)
                # A file built before an index was added gets it now, so the write checks
                # stay look-ups there too (nothing happens when it is there).
                try:
                    in_transaction(conn, lambda c: [c.execute(s) for s in
                                                    index_statements(if_not_exists=True)])
                except BaseException:
                    conn.close()
                    raise
                self._conn = conn

            def counted(conn: sqlite3.Connection) -> T:
                done = work(conn)
                count_write(conn)  # in the same transaction: a refused write counts nothing
                return done

            return in_transaction(self._conn, counted)

    def close(self) -> None:
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


__all__ = ["KINDS", "PATH_RULE", "V11_KINDS", "BulkParent", "GradebookWriter", "Kind",
           "WriteRequest", "delete_record", "parse_body", "parse_bulk_body", "post_records",
           "put_record", "uncategorized_id", "write_time"]
