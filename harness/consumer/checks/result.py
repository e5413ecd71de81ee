"""The consumer's roster (OR-CON-RESULT): it matches the district the connection sees."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check


@consumer_check("OR-CON-RESULT-001", "The consumer's roster matches the district",
                "Harness: the roster the consumer kept equals the provider's after the sync")
def roster_matches(j: Judgement) -> Outcome:
    """What the consumer believes the roster is (handed back with ``--result``) must equal
    the district after the scenario: no active record missing, no record the district does
    not have, no ``tobedeleted`` record kept active."""
    if j.roster_error:
        raise j.finding(j.roster_error)
    if j.roster is None:
        return skipped("the consumer handed back no roster (--result)")
    truth_events = j.recording.events_named("roster")
    if not truth_events:
        return skipped("the recording holds no district roster to compare with")
    truth: dict[str, dict[str, str]] = truth_events[-1]["records"]
    problems = []
    for collection, theirs in sorted(j.roster.items()):
        ours = truth.get(collection)
        if ours is None:
            continue
        missing = [i for i, status in ours.items() if status == "active" and i not in theirs]
        extra = [i for i in theirs if i not in ours]
        stale = [i for i, status in theirs.items()
                 if ours.get(i) == "tobedeleted" and status != "tobedeleted"]
        for what, ids in (("missing", missing), ("unknown", extra),
                          ("kept active but tobedeleted", stale)):
            if ids:
                problems.append(f"{collection}: {len(ids)} {what} (e.g. {ids[0]})")
    if problems:
        raise j.finding("the consumer's roster differs: " + "; ".join(problems))
    compared = sorted(set(j.roster) & set(truth))
    if not compared:
        raise j.finding("the roster handed back has none of the district's collections")
    return passed(f"{', '.join(compared)} match the district")
