"""Delta syncs (OR-CON-DELTA): dateLastModified filters, every changed record read."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from ..recording import Recorded


def _delta_phase(j: Judgement) -> list[Recorded]:
    return [e for e in j.data if e.phase == "delta"]


@consumer_check("OR-CON-DELTA-001", "The delta sync used dateLastModified filters",
                "OneRoster 1.2 REST binding §3.5: filter=dateLastModified>'...'",
                rule_v11="OneRoster 1.1 §3 filter: filter=dateLastModified>'...'")
def used_delta_filters(j: Judgement) -> Outcome:
    """In a delta sync the consumer asks only for what changed since its last sync:
    ``filter=dateLastModified>'<timestamp>'``. Re-reading everything works but costs the
    district a full sync every time. Not judged after a school-year rollover, where a full
    sync is the right answer."""
    delta = _delta_phase(j)
    if "delta" not in j.header.get("phases", []):
        return skipped("the scenario has no delta sync")
    if "delta" in j.refused_phases:
        return skipped("the delta run's credentials were refused")
    if j.recording.events_named("rollover"):
        # Last year's records vanish without a tobedeleted, so only a full sync can tell
        # what is gone: re-reading everything is right here (OR-CON-YEAR judges that run).
        return skipped("the district rolled over into a new school year before the run")
    filtered = [e for e in delta if "dateLastModified" in e.params.get("filter", "")]
    if not filtered:
        raise j.finding("no request of the delta sync filtered on dateLastModified",
                        *delta[:3])
    return passed(f"{len(filtered)} delta request(s) filtered on dateLastModified")


@consumer_check("OR-CON-DELTA-002", "The delta sync fetched every changed record",
                "OneRoster 1.2: dateLastModified and status tobedeleted carry changes",
                rule_v11="OneRoster 1.1: dateLastModified and status tobedeleted carry "
                "changes")
def fetched_every_change(j: Judgement) -> Outcome:
    """Every record the district changed between the syncs (new students, withdrawals now
    ``tobedeleted``, schedule and name changes) must be read by the delta sync, for every
    collection the consumer keeps. A missed ``tobedeleted`` leaves a withdrawn student active
    in the LMS."""
    ticks = [t for t in j.recording.events_named("tick") if t.get("phase") == "delta"]
    if not ticks:
        return skipped("the district did not change between syncs")
    synced = {e.envelope for e in j.data if e.phase == "full" and e.ok and e.envelope}
    if not synced:
        return skipped("the full sync read no collection, so no change was there to miss")
    seen = {i for e in j.data if e.phase == "delta" and e.ok for i in e.ids}
    missed: dict[str, list[str]] = {}
    for tick in ticks:
        for table, ids in (tick.get("changed") or {}).items():
            if table in synced:
                lost = [i for i in ids if i not in seen]
                if lost:
                    missed.setdefault(table, []).extend(lost)
    if missed:
        listed = "; ".join(f"{table}: {len(ids)} (e.g. {ids[0]})"
                           for table, ids in missed.items())
        raise j.finding(f"changed records the delta sync never read: {listed}")
    return passed("every changed record of the synced collections was read")
