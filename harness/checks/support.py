"""What the provider check modules share: the ``check`` decorator and its guards, the core
collection tables, and small readers of answers and walks."""

from __future__ import annotations

import functools

from specs import validator
from specs.catalogue import Operation, collection_envelopes, operations, record_envelopes

from ..engine import REGISTRY, Finding, Offenders, evidence_of, few, guard
from ..exchange import Exchange
from ..target import Incident
from .context import Context, Walk, answered, member

__all__ = ["CORE", "CORE_COLLECTIONS", "SINGULAR", "Offenders", "by_id", "check", "code_minor",
           "core_envelopes", "document_operation", "evidence", "evidence_of", "few",
           "first_records", "incidents_finding", "index_of", "member", "oauth2_only",
           "record_ids", "ref_id", "refused_cleanly", "run_phase_check", "schema_problems",
           "singular_envelopes", "status_payload_errors"]

MAX_EVIDENCE = 3  # exchanges attached to a finding

check = functools.partial(REGISTRY.register, kind="provider")
run_phase_check = functools.partial(REGISTRY.register, kind="provider", phase="run")

oauth2_only = guard(lambda ctx: None if ctx.target.auth == "oauth2"
                    else "the run does not use OAuth 2.0 client credentials")

# The 11 core rostering collections of roster-core (OneRoster 1.2 §4; 1.1 the same).
CORE_COLLECTIONS = ("academicSessions", "classes", "courses", "enrollments", "gradingPeriods",
                    "orgs", "schools", "students", "teachers", "terms", "users")


@functools.cache
def core_envelopes(version: str) -> dict[str, str]:
    """Each core collection -> the envelope key its lists are served under in that version's
    document (``schools`` -> ``orgs``, ``terms`` -> ``academicSessions``)."""
    return {name: collection_envelopes(version)[name] for name in CORE_COLLECTIONS}


def singular_envelopes(version: str) -> dict[str, str]:
    """A list envelope key -> the key one of its records is served under in that version's
    document (``users`` -> ``user``, ``demographics`` -> ``demographics``)."""
    return record_envelopes(version)


def document_operation(version: str, path: str) -> Operation:
    """The GET operation at ``path`` (a template, e.g. ``/schools/{sourcedId}``) in that
    version's document: its envelope and answer schema."""
    for operation in operations(version=version):
        if operation.method == "get" and operation.path == path:
            return operation
    raise KeyError(f"no OneRoster {version} GET {path}")


def schema_problems(operation: Operation, body: object) -> list[str]:
    """Why ``body`` is not the operation's 200 answer by its version's document: one line per
    error, each with its JSON path (empty when the answer is valid). A missing envelope key is
    said plainly, with the keys the answer has."""
    if body is None:
        return ["the body is not JSON"]
    if not isinstance(body, dict):
        return [f"(root): the answer is a JSON {type(body).__name__}, not an object"]
    if operation.envelope and operation.envelope not in body:
        keys = ", ".join(map(repr, body)) or "none"
        return [f"(root): no {operation.envelope!r} key, as the OneRoster {operation.version} "
                f"document's {operation.schema} asks (the answer's keys: {keys})"]
    service = operation.service if operation.version == "1.2" else None
    # Relative hrefs are OR-SCHEMA-002's business (a warning), not a broken answer.
    checker = validator(operation.version, operation.schema or "", service, relative_href=True)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in checker.iter_errors(body)]


# The 1.2 tables. The two versions serve the same keys, but a check should ask for its run's
# version (``core_envelopes(ctx.version)``) so that each is judged by its own document.
CORE = core_envelopes("1.2")
SINGULAR = singular_envelopes("1.2")


def first_records(ctx: Context, collection: str) -> list:
    """The records of a core collection's first page (Finding when it is not a 200 with the
    collection's envelope list)."""
    exchange = ctx.first_page(collection)
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict):
        raise Finding(f"GET /{collection} {answered(exchange)}", exchange)
    envelope = core_envelopes(ctx.version)[collection]
    records = body.get(envelope)
    if not isinstance(records, list):
        keys = ", ".join(map(repr, body)) or "none"
        raise Finding(f"GET /{collection} has no {envelope!r} list (OneRoster {ctx.version} "
                      f"envelope; its keys: {keys})", exchange)
    return records


def evidence(*exchanges: Exchange | None) -> list[Exchange]:
    """Distinct exchanges in order, at most MAX_EVIDENCE."""
    chosen: list[Exchange] = []
    for exchange in exchanges:
        if exchange is not None and all(exchange is not c for c in chosen):
            chosen.append(exchange)
    return chosen[:MAX_EVIDENCE]


def ref_id(value: object) -> str | None:
    """The sourcedId of a GUIDRef, or None when ``value`` is not one."""
    if isinstance(value, dict) and isinstance(value.get("sourcedId"), str):
        return value["sourcedId"]
    return None


def record_ids(records: list[dict]) -> list[str]:
    """The sourcedIds of records, in order (records without one left out)."""
    return [r["sourcedId"] for r in records if isinstance(r.get("sourcedId"), str)]


def by_id(walk: Walk) -> dict[str, dict]:
    """The walk's records by sourcedId."""
    return {r["sourcedId"]: r for r in walk.records if isinstance(r.get("sourcedId"), str)}


def index_of(walk: Walk) -> dict[str, int]:
    """Each sourcedId's position in the walk (for ``Walk.exchange_for``)."""
    return {r["sourcedId"]: i for i, r in enumerate(walk.records)
            if isinstance(r.get("sourcedId"), str)}


def code_minor(body: object, version: str) -> str | None:
    """The codeMinor of a status payload (1.2 imsx_StatusInfoDType, 1.1 statusInfoSet[0])."""
    try:
        if version == "1.2":
            return body["imsx_CodeMinor"]["imsx_codeMinorField"][0][  # type: ignore[index]
                "imsx_codeMinorFieldValue"]
        return body["statusInfoSet"][0]["imsx_codeMinor"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None


def status_payload_errors(exchange: Exchange, version: str) -> list[str]:
    """Why the body is not the version's status payload (empty when it is one)."""
    name = "imsx_StatusInfoDType" if version == "1.2" else "statusInfoSet"
    body = exchange.json()
    if body is None:
        kind = exchange.headers.get("content-type", "no content type").split(";")[0]
        return [f"the body is not JSON ({kind})" if exchange.text.strip() else "the body is empty"]
    errors = [e.message for e in validator(version, name).iter_errors(body)]
    if errors and version == "1.2" and isinstance(body, dict) and "imsx_codeMinor" in body:
        errors.insert(0, "it carries imsx_codeMinor, the 1.1 spelling; 1.2 puts the code in "
                         "imsx_CodeMinor.imsx_codeMinorField[].imsx_codeMinorFieldValue")
    return errors


def refused_cleanly(exchange: Exchange, version: str, statuses: tuple[int, ...]) -> str | None:
    """Why the answer is not a clean refusal: one of ``statuses`` with the version's status
    payload (None when it is one)."""
    if exchange.status not in statuses:
        return answered(exchange)
    errors = status_payload_errors(exchange, version)
    return f"not a status payload: {errors[0]}" if errors else None


def incidents_finding(message: str, incidents: list[Incident]) -> Finding:
    """A run-phase finding with the first few incidents' exchanges as evidence."""
    return Finding(message, *(i.exchange for i in incidents[:5]),
                   items=[f"{i.exchange.method} {i.exchange.url}: {i.detail}"
                          for i in incidents])
