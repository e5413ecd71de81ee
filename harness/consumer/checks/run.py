"""The consumer's runs (OR-CON-RUN): each finished, in time."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from ..scenarios import SCENARIOS

# How each fault note reads in a finding.
FAULT_WORDS = {
    "token-expired": "an expired token (401)", "nonce-refused": "a replayed-nonce refusal (401)",
    "rate-limit": "a 429 with Retry-After", "server-error:503": "a 503 with Retry-After: 0",
    "server-error:500": "a 500 without Retry-After", "page-cap": "a page capped below its limit",
    "drift": "a change of the district mid-walk", "write-failed": "a failed grade-book write",
}


@consumer_check("OR-CON-RUN-001", "The consumer finished each run successfully in time",
                "Harness: the consumer command exits 0 within the time limit")
def command_finished(j: Judgement) -> Outcome:
    """The consumer command (run once per phase of the scenario) must exit with status 0
    before the time limit, except a run whose credentials the provider refused. A non-zero
    exit or a timeout means the sync did not complete; read the consumer's log next to the
    report."""
    runs = j.recording.events_named("command")
    if not runs:
        return skipped("the consumer ran outside the harness (no command to judge)")
    # A run whose credentials were refused is expected to fail: OR-CON-AUTH-007 judges it.
    runs = [r for r in runs if r.get("phase") not in j.refused_phases]
    if not runs:
        return skipped("every run had its credentials refused (judged by OR-CON-AUTH-007)")
    bad = [r for r in runs if r.get("timed_out") or r.get("exit_code") != 0]
    if bad:
        run = bad[0]
        why = (f"did not finish within {run.get('time_limit')} s" if run.get("timed_out")
               else f"exited with status {run.get('exit_code')}")
        said = f"; its last words: {run['last_line']}" if run.get("last_line") else ""
        raise j.finding(f"the {run.get('phase')} run {why}{said}")
    return passed(f"{len(runs)} run(s), every one exited 0")


def _met(j: Judgement, wanted: str) -> bool:
    met = {e.fault for e in j.data if e.fault} | {f"{e.fault}:{e.status}" for e in j.data
                                                   if e.fault}
    return any(alternative in met for alternative in wanted.split("|"))


@consumer_check("OR-CON-RUN-002", "The scenario's misbehaviour reached the consumer",
                "Harness: a scenario certifies only what the consumer met")
def scenario_was_met(j: Judgement) -> Outcome:
    """The fault scenarios misbehave on a schedule (the 9th request, the 4th page). A consumer
    that sends fewer requests (one page of 10,000 records per collection, say) never meets the
    fault and would pass having shown nothing about it: its verdict would hide a library that
    gives up on the first 429. The scenario's own fault must have reached it; where it did
    not, use a district large enough (``--size``) or a smaller page size."""
    scenario = SCENARIOS.get(str(j.header.get("scenario")))
    if scenario is None or not scenario.must_meet:
        return skipped("the scenario has no scheduled fault to meet")
    runs = [r for r in j.recording.events_named("command")
            if r.get("phase") not in j.refused_phases]
    if any(r.get("timed_out") or r.get("exit_code") != 0 for r in runs):
        # It already failed (perhaps on the first fault it met, before the next could come).
        return skipped("a run failed: OR-CON-RUN-001 judges it")
    missing = [wanted for wanted in scenario.must_meet if not _met(j, wanted)]
    if missing:
        words = " or ".join(FAULT_WORDS.get(w, w) for w in missing[0].split("|"))
        for wanted in missing[1:]:
            words += ", nor " + " or ".join(FAULT_WORDS.get(w, w) for w in wanted.split("|"))
        raise j.finding(f"the consumer never met {words} in its {len(j.data)} OneRoster "
                        f"request(s), so this run shows nothing about {scenario.name}: "
                        f"{scenario.summary}")
    return passed(f"it met {', '.join(FAULT_WORDS.get(w, w) for w in scenario.must_meet)}")
