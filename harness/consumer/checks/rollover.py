"""The school-year rollover (OR-CON-YEAR): after the district changes its active school year,
the consumer brings the new year's classes and enrollments and keeps none of last year's
active. Infinite Campus serves only the active year, so last year's records simply stop being
served: a delta sync cannot see them go."""

from __future__ import annotations

from ...engine import Outcome, guard, passed, skipped
from ..judge import Judgement, consumer_check

YEARLY = ("classes", "enrollments")  # the collections a new school year replaces


def _rolled_over(j: Judgement) -> str | None:
    if not j.recording.events_named("rollover"):
        return "the district did not change its school year"
    if not j.recording.events_named("roster"):
        return "the recording holds no district roster to compare with"
    return None


def _after(j: Judgement) -> frozenset[str]:
    """The phases (runs) from the rollover on."""
    return frozenset(str(e.get("phase")) for e in j.recording.events_named("rollover"))


def _truth(j: Judgement) -> dict[str, dict[str, str]]:
    return j.recording.events_named("roster")[-1]["records"]


@consumer_check("OR-CON-YEAR-001", "After the rollover the new year's classes and enrollments "
                "were read", "Infinite Campus: changing the active year replaces the dataset; "
                "OneRoster: classes and enrollments belong to a school year's terms")
@guard(_rolled_over)
def read_the_new_year(j: Judgement) -> Outcome:
    """When a district moves to its next school year (sessions, courses, sections and every
    student's schedule are new), the consumer's next run must read the new year's classes and
    enrollments, for every one of those collections it syncs; otherwise teachers open the
    LMS to last year's sections."""
    after = _after(j)
    synced = {e.envelope for e in j.data if e.phase not in after and e.ok and e.envelope}
    seen = {i for e in j.data if e.phase in after and e.ok for i in e.ids}
    missed = []
    for collection in YEARLY:
        if collection not in synced:
            continue
        new = [i for i, status in _truth(j).get(collection, {}).items()
               if status == "active" and i not in seen]
        if new:
            missed.append(f"{collection}: {len(new)} of the new year's never read (e.g. "
                          f"{new[0]})")
    if missed:
        raise j.finding("after the rollover " + "; ".join(missed))
    kept = [c for c in YEARLY if c in synced]
    if not kept:
        return skipped("the consumer syncs neither classes nor enrollments")
    return passed(f"every one of the new year's {' and '.join(kept)} was read")


@consumer_check("OR-CON-YEAR-002", "No class or enrollment of the old year was kept active",
                "Infinite Campus: only the active school year is served; a record no longer "
                "served is gone")
@guard(_rolled_over)
def dropped_the_old_year(j: Judgement) -> Outcome:
    """Last year's classes and enrollments are not marked ``tobedeleted`` when the year
    changes: they are no longer served. A consumer that only merges deltas keeps them, so
    students stay enrolled in last year's sections (and teachers see last year's students).
    After a new school year appears, re-read the roster in full and drop what is gone.
    Judged on the roster handed back with ``--result``."""
    if j.roster_error:
        raise j.finding(j.roster_error)
    if j.roster is None:
        return skipped("the consumer handed back no roster (--result)")
    after = _after(j)
    old = {i for e in j.data if e.phase not in after and e.ok
           and e.envelope in YEARLY for i in e.ids}
    kept = []
    for collection in YEARLY:
        gone = set(_truth(j).get(collection, {}))
        stale = [i for i, status in j.roster.get(collection, {}).items()
                 if i in old and i not in gone and status != "tobedeleted"]
        if stale:
            kept.append(f"{collection}: {len(stale)} (e.g. {stale[0]})")
    if kept:
        raise j.finding("last year's records still active in the consumer's roster: "
                        + "; ".join(kept))
    return passed("none of last year's classes or enrollments is kept active")
