"""What the provider exposes beyond the 22 core operations: every read operation of the run's
version's document (1.2: the 41 rostering GETs; 1.1: the 55 GETs of the one v1p1 service),
asked with real ids, and each one that answers checked against its answer schema there."""

from __future__ import annotations

import re
from typing import Any

from specs.catalogue import Operation, operations

from ..engine import Outcome, few, passed
from ..exchange import Exchange
from .context import Context, answered, member
from .support import Offenders, check, ref_id, refused_cleanly, schema_problems

_PARAM = re.compile(r"\{(\w+)\}")
# Path parameter -> the core collection whose first record supplies it.
SOURCES = {"schoolSourcedId": "schools", "classSourcedId": "classes",
           "courseSourcedId": "courses", "studentSourcedId": "students",
           "teacherSourcedId": "teachers", "termSourcedId": "terms",
           # a student: a user whose classes list has something in it
           "userSourcedId": "students", "lineItemSourcedId": "lineItems"}
GRADEBOOK_COLLECTIONS = frozenset({"categories", "lineItems", "results"})
# In a class's grade book, a line item or a student is asked only with a class it belongs to.
PAIRED = frozenset({"lineItemSourcedId", "studentSourcedId"})
NOT_OFFERED = (404, 405, 501)
SHOWN_ABSENT = 8


def read_operations(version: str) -> list[Operation]:
    """The GET operations the check asks: 1.2's rostering document, or the whole 1.1 one."""
    service = "rostering" if version == "1.2" else None
    return [op for op in operations(service, version) if op.method == "get"]


def _service(collection: str) -> str:
    """The Target's service for a collection (it carries the grade-book vendor key)."""
    return "gradebook" if collection in GRADEBOOK_COLLECTIONS else "rostering"


class Ids:
    """Real ids to ask with, fetched once per run: the first record of a collection, and ids
    that belong together (a class and its school; a result's line item, student and class)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.firsts: dict[str, dict | None] = {}
        self._graded: dict[str, str] | None = None
        self.refused: set[str] = set()  # collections the credentials may not read (403)
        self.asked: set[str] = set()  # collections the last ``fill`` took ids from

    def first(self, collection: str) -> dict | None:
        self.asked.add(collection)
        if collection not in self.firsts:
            exchange = self.ctx.target.send("GET", f"/{collection}", {"limit": 1},
                                            service=_service(collection))
            if exchange.status == 403:
                self.refused.add(collection)
            records = next(iter(exchange.json().values()), None) if isinstance(
                exchange.json(), dict) else None
            found = records[0] if exchange.status == 200 and isinstance(records, list) and \
                records and isinstance(records[0], dict) else None
            self.firsts[collection] = found
        return self.firsts[collection]

    def first_id(self, collection: str) -> str | None:
        record = self.first(collection)
        value = record.get("sourcedId") if record else None
        return value if isinstance(value, str) else None

    def graded(self) -> dict[str, str]:
        """A result's line item and student, and the line item's class: ids under which the
        grade book's nested reads have something to answer (empty when there is no result)."""
        result = self.first("results") or {}
        if self._graded is None:
            self._graded = {}
            line_item, student = ref_id(result.get("lineItem")), ref_id(result.get("student"))
            if line_item and student:
                exchange = self.ctx.target.send("GET", f"/lineItems/{line_item}",
                                                service="gradebook")
                klass = ref_id(member(member(exchange.json(), "lineItem"), "class"))
                if exchange.status == 200 and klass:
                    self._graded = {"classSourcedId": klass, "lineItemSourcedId": line_item,
                                    "studentSourcedId": student}
        return self._graded

    def fill(self, operation: Operation) -> str | None:
        """The operation's path with real ids in place of its parameters, None when a set
        that belongs together cannot be had."""
        names = _PARAM.findall(operation.path)
        values: dict[str, str | None] = {}
        self.asked = set()
        if operation.service == "gradebook" and "classSourcedId" in names:
            values.update(self.graded())
        if "schoolSourcedId" in names and "classSourcedId" in names:
            klass = self.first("classes") or {}
            values["classSourcedId"] = klass.get("sourcedId")
            values["schoolSourcedId"] = ref_id(klass.get("school"))
        for name in names:
            if name in values:
                continue
            if name == "sourcedId":
                values[name] = self.first_id(operation.path.strip("/").split("/")[0])
            elif name in SOURCES and not (operation.service == "gradebook" and name in PAIRED):
                values[name] = self.first_id(SOURCES[name])
            else:
                values[name] = None
        if any(not isinstance(values[name], str) for name in names):
            return None
        return _PARAM.sub(lambda m: str(values[m.group(1)]), operation.path)


def _granted(ctx: Context, operation: Operation) -> bool | None:
    """Whether the run's token was granted one of the operation's scopes; None when the
    provider named no scopes (or the run signs with OAuth 1.0a, which has none)."""
    granted = ctx.target.granted_scope
    if not granted:
        return None
    return not operation.scopes.isdisjoint(granted.split())


def _problems(operation: Operation, exchange: Exchange) -> list[str]:
    body: Any = exchange.json()
    if body is None:
        return [answered(exchange).removeprefix("answered 200 with ")]
    return schema_problems(operation, body)


@check("OR-DISC-001", "Every read operation the provider offers answers as documented",
       "OneRoster 1.2 Rostering REST binding: the 41 read operations (1EdTech's OpenAPI); "
       "1.1: the 55 read operations of the v1p1 endpoint tables (rostering, resources, "
       "grade-book reads) as specs/oneroster-1.1.json writes them")
def offered_operations(ctx: Context) -> Outcome:
    """Beyond the 22 core operations, a provider may offer the nested ones
    (``/schools/{id}/classes``, ``/terms/{id}/gradingPeriods``, ``/users/{id}/classes``...).
    Each read operation of the version's document (1.2: the 41 rostering ones; 1.1: all 55,
    resources and grade-book reads included) is asked with real ids. One that answers
    404/405/501 is not offered (fine unless it is core), a 403 with a status payload for an
    operation outside the token's scopes is not granted; one that answers 200 must match its
    answer schema in the version's document (the envelope key, then every record), anything
    else is a finding. Every failing operation is listed with the JSON path of each error."""
    version = ctx.version
    ids = Ids(ctx)
    offered: list[str] = []
    absent: list[str] = []
    denied: list[str] = []
    broken = Offenders()
    failing: set[str] = set()  # the labels of the operations that misbehave
    last: Exchange | None = None
    ops = read_operations(version)
    for operation in ops:
        label = f"{operation.path} ({operation.operation_id})"
        path = ids.fill(operation)
        if path is None:
            if ids.asked & ids.refused:  # its ids come from a list these credentials may not read
                denied.append(operation.path)
            else:
                absent.append(f"{operation.path} (no id to ask with)")
            continue
        exchange = ctx.target.send("GET", path, None if operation.single else {"limit": 5},
                                   service=_service(operation.collection))
        last = exchange
        if exchange.status in NOT_OFFERED:
            absent.append(operation.path)
        elif exchange.status == 403 and _granted(ctx, operation) is not True and \
                refused_cleanly(exchange, version, (403,)) is None:
            denied.append(operation.path)
        elif exchange.status != 200:
            broken.add(f"{label}: {answered(exchange)}", exchange)
            failing.add(label)
        else:
            problems = _problems(operation, exchange)
            for problem in problems:  # every error its own item, with its JSON path
                broken.add(f"{label}: {problem}", exchange)
            if problems:
                failing.add(label)
            else:
                offered.append(operation.path)
    asked = len(ops) - len(absent) - len(denied)
    broken.raise_if_any(lambda n: f"{len(failing)} of {asked} offered operations do not answer "
                                  f"as the OneRoster {version} document says ({n} problems)")
    message = f"{len(offered)} of {len(offered) + len(absent)} operations answer as documented"
    if absent:
        message += f"; not offered: {few(absent, SHOWN_ABSENT)}"
    if denied:
        message += f"; not granted to these credentials: {few(denied, SHOWN_ABSENT)}"
    return passed(message, *([last] if last else []))
