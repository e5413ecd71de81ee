"""Core rostering (OR-CORE): the 11 core collections answer with their envelopes, and
every core record can be fetched by its sourcedId."""

from __future__ import annotations

from ..engine import Finding, Outcome, passed
from .context import Context, answered
from .support import CORE, SINGULAR, check, first_records


@check("OR-CORE-001", "Every core rostering collection answers 200 with its envelope",
       "OneRoster 1.2 Rostering REST binding: the 11 getAll operations (roster-core)")
def core_collections_answer(ctx: Context) -> Outcome:
    """The 11 core collections (academicSessions, classes, courses, enrollments, gradingPeriods,
    orgs, schools, students, teachers, terms, users) must answer 200 with a JSON object that
    holds the collection's envelope key (``orgs`` for /schools, ``users`` for /students and
    /teachers, ``academicSessions`` for /terms and /gradingPeriods). Fix: serve each route and
    wrap the list under the envelope key, even when it is empty."""
    for collection in CORE:
        first_records(ctx, collection)
    return passed(f"all {len(CORE)} core collections answered with their envelope")


@check("OR-CORE-002", "Every core record can be fetched by its sourcedId",
       "OneRoster 1.2 Rostering REST binding: the 11 get-by-id operations (roster-core)")
def core_records_by_id(ctx: Context) -> Outcome:
    """For each core collection, the first record must come back from
    ``GET /<collection>/{sourcedId}`` with 200, the singular envelope and the same sourcedId.
    Fix: route get-by-id for every collection (students and teachers included)."""
    target = ctx.target
    fetched = 0
    for collection, envelope in CORE.items():
        records = first_records(ctx, collection)
        if not records:
            continue
        sourced_id = records[0].get("sourcedId")
        exchange = target.get(f"/{collection}/{sourced_id}")
        body = exchange.json()
        key = SINGULAR[envelope]
        if exchange.status != 200 or not isinstance(body, dict) or key not in body:
            raise Finding(f"GET /{collection}/{sourced_id} {answered(exchange)} without "
                          f"a {key!r} object", exchange)
        if body[key].get("sourcedId") != sourced_id:
            raise Finding(f"GET /{collection}/{sourced_id} returned another record", exchange)
        fetched += 1
    return passed(f"{fetched} records fetched by id")
