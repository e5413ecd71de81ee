"""Rostering checks: the 22 core operations, schemas, paging, errors and authorisation."""

from __future__ import annotations

import uuid

from specs import validator

from . import Context, Finding, Outcome, check, passed
from .support import code_minor, status_payload_errors

# Core collection -> envelope key (1.1 and 1.2 agree).
CORE = {
    "academicSessions": "academicSessions", "classes": "classes", "courses": "courses",
    "enrollments": "enrollments", "gradingPeriods": "academicSessions", "orgs": "orgs",
    "schools": "orgs", "students": "users", "teachers": "users", "terms": "academicSessions",
    "users": "users",
}
SINGULAR = {"academicSessions": "academicSession", "classes": "class", "courses": "course",
            "enrollments": "enrollment", "orgs": "org", "users": "user"}
SET_SCHEMA_V12 = {"academicSessions": "AcademicSessionSetDType", "classes": "ClassSetDType",
                  "courses": "CourseSetDType", "enrollments": "EnrollmentSetDType",
                  "orgs": "OrgSetDType", "users": "UserSetDType"}
MAX_WALK_PAGES = 200


def _schema_errors(version: str, envelope: str, body: object, single: bool = False) -> list[str]:
    if version == "1.2":
        singular = SINGULAR[envelope]
        name = f"Single{singular[0].upper()}{singular[1:]}DType" if single \
            else SET_SCHEMA_V12[envelope]
        checker = validator("1.2", name)
    else:
        checker = validator("1.1", SINGULAR[envelope] if single else envelope)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in checker.iter_errors(body)]


def _records(ctx: Context, collection: str) -> list[dict]:
    exchange = ctx.first_page(collection)
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict):
        raise Finding(f"GET /{collection} answered {exchange.status}", exchange)
    records = body.get(CORE[collection])
    if not isinstance(records, list):
        raise Finding(f"GET /{collection} has no {CORE[collection]!r} list", exchange)
    return records


@check("OR-CORE-001", "Every core rostering collection answers 200 with its envelope",
       "OneRoster 1.2 Rostering REST binding: the 11 getAll operations (roster-core)")
def core_collections_answer(ctx: Context) -> Outcome:
    """The 11 core collections (academicSessions, classes, courses, enrollments, gradingPeriods,
    orgs, schools, students, teachers, terms, users) must answer 200 with a JSON object that
    holds the collection's envelope key (``orgs`` for /schools, ``users`` for /students and
    /teachers, ``academicSessions`` for /terms and /gradingPeriods). Fix: serve each route and
    wrap the list under the envelope key, even when it is empty."""
    for collection in CORE:
        _records(ctx, collection)
    return passed(f"all {len(CORE)} core collections answered with their envelope")


@check("OR-SCHEMA-001", "Core collection pages are valid against the official schemas",
       "OneRoster 1.2 OpenAPI components.schemas (*SetDType); 1.1 information model")
def core_pages_match_schemas(ctx: Context) -> Outcome:
    """Each core collection's first page must validate against the official schema: required
    fields, enums, string booleans ("true"/"false"), dates, absolute hrefs, no nulls and no keys
    outside ``metadata``. Fix: emit exactly the spec's fields and types."""
    version = ctx.target.version
    for collection, envelope in CORE.items():
        _records(ctx, collection)
        exchange = ctx.first_page(collection)
        errors = _schema_errors(version, envelope, exchange.json())
        if errors:
            raise Finding(f"/{collection}: {errors[0]}" + (
                f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""), exchange)
    return passed("every core first page is schema-valid")


@check("OR-CORE-002", "Every core record can be fetched by its sourcedId",
       "OneRoster 1.2 Rostering REST binding: the 11 get-by-id operations (roster-core)")
def core_records_by_id(ctx: Context) -> Outcome:
    """For each core collection, the first record must come back from
    ``GET /<collection>/{sourcedId}`` with 200, the singular envelope and the same sourcedId.
    Fix: route get-by-id for every collection (students and teachers included)."""
    target = ctx.target
    fetched = 0
    for collection, envelope in CORE.items():
        records = _records(ctx, collection)
        if not records:
            continue
        sourced_id = records[0].get("sourcedId")
        exchange = target.get(f"/{collection}/{sourced_id}")
        body = exchange.json()
        key = SINGULAR[envelope]
        if exchange.status != 200 or not isinstance(body, dict) or key not in body:
            raise Finding(f"GET /{collection}/{sourced_id} answered {exchange.status} without "
                          f"a {key!r} object", exchange)
        if body[key].get("sourcedId") != sourced_id:
            raise Finding(f"GET /{collection}/{sourced_id} returned another record", exchange)
        fetched += 1
    return passed(f"{fetched} records fetched by id")


@check("OR-PAGE-001", "limit is honoured", "OneRoster 1.2 REST binding §3.4 paging: limit")
def limit_is_honoured(ctx: Context) -> Outcome:
    """``GET /users?limit=3`` must return at most 3 records. Fix: apply the client's limit (a
    provider may cap it lower, never return more)."""
    exchange = ctx.target.get("/users", {"limit": 3})
    body = exchange.json()
    records = body.get("users") if isinstance(body, dict) else None
    if exchange.status != 200 or not isinstance(records, list):
        raise Finding(f"GET /users?limit=3 answered {exchange.status}", exchange)
    if len(records) > 3:
        raise Finding(f"asked for 3 users, got {len(records)}", exchange)
    return passed(f"limit=3 gave {len(records)} records", exchange)


@check("OR-PAGE-002", "A paging walk covers the collection once and matches X-Total-Count",
       "OneRoster 1.2 REST binding §3.4 paging: offset, X-Total-Count")
def walk_matches_total(ctx: Context) -> Outcome:
    """Walking ``/classes`` (limit 50, or more for a big district so the walk stays under 100
    pages), each offset advanced by the records received, up to the first empty page, must
    return every record exactly once, and their number must equal the X-Total-Count header.
    Fix: page in a stable order (e.g. by a unique key) and count the whole filtered
    collection."""
    seen: list[str] = []
    known: set[str] = set()
    total: int | None = None
    last = None
    limit = 50
    for _ in range(MAX_WALK_PAGES):
        # Advance by what was received: a provider may cap pages below the limit asked.
        offset = len(seen)
        exchange = ctx.target.get("/classes", {"limit": limit, "offset": offset})
        last = exchange
        body = exchange.json()
        records = body.get("classes") if isinstance(body, dict) else None
        if exchange.status != 200 or not isinstance(records, list):
            raise Finding(f"page at offset {offset} answered {exchange.status}", exchange)
        header = exchange.headers.get("x-total-count")
        if header is None or not header.isdigit():
            raise Finding("no X-Total-Count header (or not a number)", exchange)
        total = int(header)
        limit = max(limit, -(-total // (MAX_WALK_PAGES // 2)))
        ids = [r.get("sourcedId") for r in records]
        if ids and set(ids) <= known:
            raise Finding(f"the page at offset {offset} repeats records already seen "
                          "(offset ignored?)", exchange)
        seen += ids
        known.update(i for i in ids if isinstance(i, str))
        # Only an empty page ends the walk: a total that undercounts must not end it early.
        if not records:
            break
    else:
        return Outcome("skipped", f"stopped after {MAX_WALK_PAGES} pages")
    duplicates = len(seen) - len(set(seen))
    if duplicates:
        raise Finding(f"the walk returned {duplicates} records twice", last)
    if total != len(seen):
        raise Finding(f"X-Total-Count says {total}, the walk found {len(seen)}", last)
    return passed(f"{len(seen)} classes, each once, equal to X-Total-Count")


@check("OR-PAGE-003", "A page past the end is an empty list",
       "OneRoster 1.2 REST binding §3.4 paging")
def past_the_end_is_empty(ctx: Context) -> Outcome:
    """``GET /orgs?offset=1000000`` must answer 200 with an empty ``orgs`` list, not an error.
    Fix: treat an offset beyond the collection as an empty page."""
    exchange = ctx.target.get("/orgs", {"offset": 1_000_000})
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or body.get("orgs") != []:
        raise Finding(f"offset past the end answered {exchange.status}: "
                      f"{exchange.text[:120]}", exchange)
    return passed("past the end: 200 with an empty list", exchange)


@check("OR-ERR-001", "An unknown sourcedId answers 404 with imsx_StatusInfo unknownobject",
       "OneRoster 1.2 REST binding §3.3 errors: 404 unknownobject")
def unknown_id_is_404(ctx: Context) -> Outcome:
    """``GET /users/{an id that does not exist}`` must answer 404 with a spec status body
    (``imsx_StatusInfoDType`` in 1.2, ``statusInfoSet`` in 1.1) whose codeMinor is
    unknownobject. Fix: check existence and answer the status payload, never a 500 or HTML."""
    version = ctx.target.version
    exchange = ctx.target.get(f"/users/{uuid.uuid4()}")
    if exchange.status != 404:
        raise Finding(f"an unknown user answered {exchange.status}", exchange)
    errors = status_payload_errors(exchange, version)
    if errors:
        raise Finding(f"the 404 body is not a status payload: {errors[0]}", exchange)
    expected = "unknownobject" if version == "1.2" else "unknown object"
    if code_minor(exchange.json(), version) != expected:
        raise Finding(f"codeMinor is {code_minor(exchange.json(), version)!r}, expected "
                      f"{expected!r}", exchange)
    return passed("404 unknownobject with a valid status body", exchange)


@check("OR-ERR-002", "An unknown filter field answers 400 invalid_filter_field",
       "OneRoster 1.2 REST binding §3.5 filtering; 1.1 errata")
def unknown_filter_field_is_400(ctx: Context) -> Outcome:
    """``GET /users?filter=shoeSize='9'`` must answer 400 with codeMinor invalid_filter_field
    and return no data. Fix: validate filter fields against the object's fields."""
    exchange = ctx.target.get("/users", {"filter": "shoeSize='9'"})
    if exchange.status != 400:
        raise Finding(f"an unknown filter field answered {exchange.status}", exchange)
    if code_minor(exchange.json(), ctx.target.version) != "invalid_filter_field":
        raise Finding("the 400 does not carry codeMinor invalid_filter_field", exchange)
    return passed("400 invalid_filter_field", exchange)


@check("OR-AUTH-001", "A request without a token is refused with 401",
       "1EdTech Security Framework: OAuth 2.0 bearer tokens")
def no_token_is_401(ctx: Context) -> Outcome:
    """``GET /users`` without an Authorization header must answer 401 (and no data). Fix: require
    a valid bearer token on every OneRoster route."""
    exchange = ctx.target.get("/users", {"limit": 1}, authorization="")
    if exchange.status != 401:
        raise Finding(f"a request without a token answered {exchange.status}", exchange)
    return passed("401 without a token", exchange)


@check("OR-AUTH-002", "A malformed or unknown token is refused with 401",
       "1EdTech Security Framework: OAuth 2.0 bearer tokens")
def bad_token_is_401(ctx: Context) -> Outcome:
    """``GET /users`` with ``Authorization: Bearer not-a-token`` must answer 401. Fix: verify
    every token; never accept an unknown one."""
    exchange = ctx.target.get("/users", {"limit": 1}, authorization="Bearer not-a-token")
    if exchange.status != 401:
        raise Finding(f"an unknown token answered {exchange.status}", exchange)
    return passed("401 for an unknown token", exchange)
