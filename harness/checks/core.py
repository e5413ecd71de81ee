"""Core rostering (OR-CORE): the 11 core collections answer with their envelopes, and
every core record can be fetched by its sourcedId. The envelope keys are those of the run's
version's document (``specs.catalogue``)."""

from __future__ import annotations

from ..engine import Finding, Outcome, few, passed
from .context import Context, answered, member
from .support import Offenders, check, core_envelopes, first_records, singular_envelopes


@check("OR-CORE-001", "Every core rostering collection answers 200 with its envelope",
       "OneRoster 1.2 Rostering REST binding: the 11 getAll operations (roster-core); 1.1 the "
       "same 11 under /ims/oneroster/v1p1 with the same envelope keys")
def core_collections_answer(ctx: Context) -> Outcome:
    """The 11 core collections (academicSessions, classes, courses, enrollments, gradingPeriods,
    orgs, schools, students, teachers, terms, users) must answer 200 with a JSON object that
    holds the collection's envelope key (``orgs`` for /schools, ``users`` for /students and
    /teachers, ``academicSessions`` for /terms and /gradingPeriods). Every collection that does
    not is listed. Fix: serve each route and wrap the list under the envelope key, even when it
    is empty."""
    core = core_envelopes(ctx.version)
    offenders = Offenders()
    for collection in core:
        try:
            first_records(ctx, collection)
        except Finding as finding:
            offenders.add_finding(f"/{collection}", finding)
    offenders.raise_if_any(lambda n: f"{n} of {len(core)} core collections answer without "
                                     "their envelope")
    return passed(f"all {len(core)} core collections answered with their envelope")


@check("OR-CORE-002", "Every core record can be fetched by its sourcedId",
       "OneRoster 1.2 Rostering REST binding: the 11 get-by-id operations (roster-core); 1.1 "
       "the same 11 under /ims/oneroster/v1p1 with the same envelope keys")
def core_records_by_id(ctx: Context) -> Outcome:
    """For each core collection, the first record must come back from
    ``GET /<collection>/{sourcedId}`` with 200, the singular envelope and the same sourcedId.
    Every collection that fails is listed; one whose list cannot be read is OR-CORE-001's
    finding and is not asked here. Fix: route get-by-id for every collection (students and
    teachers included)."""
    target = ctx.target
    singular = singular_envelopes(ctx.version)
    offenders = Offenders()
    fetched = 0
    unread: list[str] = []
    for collection, envelope in core_envelopes(ctx.version).items():
        try:
            records = first_records(ctx, collection)
        except Finding:
            unread.append(f"/{collection}")
            continue
        if not records or not isinstance(records[0], dict):
            continue
        sourced_id = records[0].get("sourcedId")
        exchange = target.get(f"/{collection}/{sourced_id}")
        record = member(exchange.json(), singular[envelope])
        if exchange.status != 200 or not isinstance(record, dict):
            offenders.add(f"GET /{collection}/{sourced_id} {answered(exchange)} without "
                          f"a {singular[envelope]!r} object", exchange)
        elif record.get("sourcedId") != sourced_id:
            offenders.add(f"GET /{collection}/{sourced_id} returned another record", exchange)
        else:
            fetched += 1
    offenders.raise_if_any(lambda n: f"{n} core get-by-id operations failed")
    if unread and not fetched:
        return Outcome("skipped", "no core list could be read to take an id from (OR-CORE-001)")
    return passed(f"{fetched} records fetched by id" + (
        f"; not asked, their lists cannot be read (OR-CORE-001): {few(unread)}" if unread
        else ""))
