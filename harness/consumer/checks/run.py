"""The consumer's runs (OR-CON-RUN): each finished, in time."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check


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
