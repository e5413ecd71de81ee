"""How the grade-book checks (OR-GB) write: bodies built from the run's plan, PUT and DELETE
with the bookkeeping that lets every check clean up after itself, and reading a record back to
compare it with what was sent.

These are the only checks that change the provider's data, so they are careful about it:

* They run only when the provider serves a grade book the connection may write: when the token
  names its scopes and lacks ``gradebook.createput`` or ``gradebook.delete``, when the provider
  serves no grade book at all (``GET /lineItems`` and ``GET /classes/{id}/lineItems`` both
  answer 404, 405 or 501), when the first write of a check answers 401 or 403, or when it
  answers 405 or 501 (a read-only grade book, which OneRoster's Gradebook Pull conformance
  allows), the check is skipped: a rostering-only provider or connection is not a finding.
* Every record they write has a fresh id of their own (``harness-<uuid4>``); they never
  modify or delete a record they did not create.
* Whatever a check wrote is deleted before the check ends, whether it passed or failed
  (results first, then line items, then categories of its own), and a refused write that the
  provider stored anyway is deleted too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..engine import Finding, Outcome
from ..exchange import Exchange
from ..target import BudgetExceeded, Target
from .context import Context, answered
from .gradebook_plan import Plan, plan_for
from .support import few, member, ref_id

ID_PREFIX = "harness-"
WRITE_SCOPES = ("gradebook.createput", "gradebook.delete")
WRITE_BUDGET = 25  # requests a check may need (OR-GB-004: 18 at most, cleanup included)
CREATED = (200, 201)  # PUT: the OpenAPI lists 201; 200 for an update is common practice
UPDATED = (200, 201, 204)  # PUT to an existing record: 200 usually; 201 and 204 are seen too
DELETED = (200, 204)  # DELETE: the OpenAPI lists 204; Google also accepts 200
NOT_OFFERED = (404, 405, 501)  # a read of an operation the provider does not have
READ_ONLY = (405, 501)  # a write to a grade book that is served for reading only
RESULT_MAX = 10.0
SINGULAR = {"categories": "category", "lineItems": "lineItem", "results": "result"}
SERVER_FIELDS = ("sourcedId", "status", "dateLastModified")
DATE_TIME_FIELDS = ("assignDate", "dueDate")


def new_id() -> str:
    return f"{ID_PREFIX}{uuid.uuid4()}"


def short_title(suffix: str = "") -> str:
    """A fresh title of the checker's own, well under Campus's 30/50-character limits."""
    return f"Harness {uuid.uuid4().hex[:8]}{suffix}"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_noon(day: dt.date) -> str:
    return f"{day.isoformat()}T12:00:00Z"


class Skip(Exception):
    """The connection may not write the grade book: the check is skipped, not failed."""


def description(exchange: Exchange) -> str:
    """The imsx_description of a status payload (1.2 or 1.1), shortened; "" when none."""
    body = exchange.json()
    if isinstance(body, dict):
        if isinstance(body.get("imsx_description"), str):
            return body["imsx_description"][:160]
        infos = body.get("statusInfoSet")
        if isinstance(infos, list) and infos and isinstance(infos[0], dict):
            return str(infos[0].get("imsx_description", ""))[:160]
    return ""


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

    def category(self, sid: str, title: str) -> dict:
        return {"sourcedId": sid, "status": "active", "dateLastModified": now(),
                "title": title}

    def line_item(self, sid: str, title: str, **changes: Any) -> dict:
        plan, v12 = self.plan, self.target.version == "1.2"
        body: dict[str, Any] = {
            "sourcedId": sid, "status": "active", "dateLastModified": now(), "title": title,
            "description": "Written by oneroster-harness; deleted when the check ends",
            "assignDate": at_noon(plan.assign_day), "dueDate": at_noon(plan.due_day),
            "class": self.ref("classes", plan.class_id, "class"),
            "school": self.ref("orgs", plan.school_id, "org")
            if v12 and plan.school_id else None,
            "category": self.ref("categories", self.category_id or "", "category", "gradebook"),
            "gradingPeriod": self.ref("academicSessions", plan.period_id, "academicSession"),
            "resultValueMin": 0.0, "resultValueMax": RESULT_MAX,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def result(self, sid: str, line_item: str, student: str | None = None,
               **changes: Any) -> dict:
        body: dict[str, Any] = {
            "sourcedId": sid, "status": "active", "dateLastModified": now(),
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
        """PUT one record in its envelope (see ``put_body``)."""
        return self.put_body(collection, record["sourcedId"], {SINGULAR[collection]: record})

    def put_body(self, collection: str, sid: str, body: Any) -> Exchange:
        """PUT any JSON body to ``/<collection>/<sid>``. The first write of a check that
        answers 401 or 403 raises Skip; a write that may have stored something is remembered
        for ``cleanup``."""
        exchange = self.target.put(f"/{collection}/{quote(sid, safe='')}", body)
        self.writes += 1
        if self.writes == 1 and exchange.status in (401, 403):
            raise Skip(f"the provider refused the first grade-book write with "
                       f"{exchange.status} ({description(exchange) or 'no description'}); "
                       "the connection may not write the grade book (scopes "
                       f"{' and '.join(WRITE_SCOPES)}, a supported connection"
                       + (", and for Infinite Campus a vendor key)"
                          if exchange.status == 401 else ")"))
        if self.writes == 1 and exchange.status in READ_ONLY:
            raise Skip(f"the provider does not take grade-book writes: the first PUT "
                       f"/{collection}/{sid} {answered(exchange)} (a grade book served for "
                       "reading only)")
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
        exchange = self.put("categories", self.category(sid, short_title()))
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
    plan = plan_for(ctx)
    if isinstance(plan, str):
        return None, plan
    absent = _not_served(ctx, plan)
    if absent:
        return None, absent
    if target.max_requests - target.requests < WRITE_BUDGET:
        return None, (f"fewer than {WRITE_BUDGET} requests of the run's budget are left, too "
                      "few to write and clean up again")
    return plan, ""


def _not_served(ctx: Context, plan: Plan) -> str:
    """Why the provider serves no grade book at all ("" when it serves one); asked once per
    run. Both reads must be missing: a provider may offer only the class's line items."""
    if "gradebook-absent" not in ctx.cache:
        answers = []
        for path in ("/lineItems", f"/classes/{quote(plan.class_id, safe='')}/lineItems"):
            exchange = ctx.target.send("GET", path, {"limit": 1}, service="gradebook")
            if exchange.status not in NOT_OFFERED:
                ctx.cache["gradebook-absent"] = ""
                break
            answers.append(f"GET {path} {answered(exchange)}")
        else:
            ctx.cache["gradebook-absent"] = ("the provider serves no grade book ("
                                             + "; ".join(answers) + ")")
    return ctx.cache["gradebook-absent"]


def run_writes(ctx: Context, body: Callable[[Writer], Outcome]) -> Outcome:
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


def differences(writer: Writer, collection: str, sent: dict) -> tuple[list[str], Exchange]:
    """GET the record and compare it with what was sent: (what differs, the GET)."""
    sid = sent["sourcedId"]
    exchange = writer.get(collection, sid)
    key = SINGULAR[collection]
    record = member(exchange.json(), key)
    if exchange.status != 200 or not isinstance(record, dict):
        return [f"GET /{collection}/{sid} {answered(exchange)} without a {key!r} object"], \
            exchange
    differ = [f"{name} is {record.get(name)!r}, sent {value!r}"
              for name, value in sent.items()
              if name not in SERVER_FIELDS and not _same(name, value, record.get(name))]
    if record.get("sourcedId") != sid:
        differ.insert(0, f"sourcedId is {record.get('sourcedId')!r}")
    if record.get("status") != "active":
        differ.append(f"status is {record.get('status')!r}, not 'active'")
    return differ, exchange


def read_back(writer: Writer, collection: str, sent: dict, what: str) -> Exchange:
    """``differences``, raising a Finding that lists them all when there is any."""
    differ, exchange = differences(writer, collection, sent)
    if differ:
        key = SINGULAR[collection]
        unread = exchange.status != 200 or not isinstance(member(exchange.json(), key), dict)
        raise Finding(f"{what}: {differ[0]}" if unread else
                      f"{what}: the {key} read back differs from what was written: "
                      f"{few(differ)}", exchange, items=differ)
    return exchange


def stored(writer: Writer, collection: str, record: dict, what: str,
           accepted: tuple[int, ...] = CREATED) -> Exchange:
    """PUT a record that must be accepted (a Finding naming the answer otherwise)."""
    exchange = writer.put(collection, record)
    if exchange.status not in accepted:
        raise Finding(f"{what}: PUT /{collection}/{record['sourcedId']} {answered(exchange)}"
                      f" ({description(exchange) or exchange.text[:120] or 'no body'})",
                      exchange)
    return exchange


def gone(writer: Writer, collection: str, sid: str) -> tuple[Exchange, Exchange]:
    """DELETE a record and check a read afterwards: 404, or the record marked tobedeleted."""
    deleted = writer.delete(collection, sid)
    if deleted.status not in DELETED:
        raise Finding(f"DELETE /{collection}/{sid} {answered(deleted)}", deleted)
    after = writer.get(collection, sid)
    record = member(after.json(), SINGULAR[collection])
    if after.status == 404 or (after.status == 200 and isinstance(record, dict)
                               and record.get("status") == "tobedeleted"):
        return deleted, after
    shown = record.get("status") if isinstance(record, dict) else None
    raise Finding(f"DELETE /{collection}/{sid} {answered(deleted)}, but a read afterwards "
                  f"answers {after.status}" + (f" with status {shown!r}" if shown else "")
                  + " (expected 404, or the record marked tobedeleted)", deleted, after)
