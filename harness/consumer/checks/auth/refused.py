"""Refused credentials (OR-CON-AUTH-007, 008): when the district's credentials expire (the
``credential-expiry`` scenario), the next run stops with an error, without reading data
unauthenticated or hammering the provider."""

from __future__ import annotations

from ....engine import Outcome, guard, passed, skipped
from ...judge import Judgement, consumer_check
from ..support import listed

MAX_ATTEMPTS = 3  # token requests (or signed requests) a run may try with refused credentials


def _credentials_refused(j: Judgement) -> str | None:
    return None if j.refused_phases else "the connection's credentials were never refused"


@consumer_check("OR-CON-AUTH-007", "Refused credentials ended the run with an error",
                "RFC 6749 §5.2 invalid_client; RFC 5849 §3.2: the client is not authenticated")
@guard(_credentials_refused)
def stopped_with_an_error(j: Judgement) -> Outcome:
    """When the provider refuses the connection's credentials (an expired or revoked client
    secret: the token endpoint answers 401 ``invalid_client``, signed requests 401), nothing
    can be synced until the district issues new ones. The run must end with a non-zero exit
    status and say why in its output, so the vendor's operators notice; a run that exits 0
    leaves the LMS silently out of date."""
    runs = [r for r in j.recording.events_named("command") if r.get("phase") in j.refused_phases]
    if not runs:
        return skipped("the consumer ran outside the harness (no exit status to judge)")
    for run in runs:
        phase = run.get("phase")
        if run.get("timed_out"):
            raise j.finding(f"the {phase} run did not end within {run.get('time_limit')} s "
                            "after its credentials were refused")
        if run.get("exit_code") == 0:
            raise j.finding(f"the {phase} run exited 0 although its credentials were refused")
        if not run.get("last_line"):
            raise j.finding(f"the {phase} run exited with status {run.get('exit_code')} "
                            "without a word about why")
    last = runs[-1]
    return passed(f"the {last.get('phase')} run exited with status {last.get('exit_code')}: "
                  f"{last.get('last_line')}")


@consumer_check("OR-CON-AUTH-008", "Refused credentials were not retried in a loop",
                "RFC 6749 §5.2 invalid_client is not a temporary error; 1EdTech Security "
                "Framework: no request without credentials")
@guard(_credentials_refused)
def no_storm_of_attempts(j: Judgement) -> Outcome:
    """A refused client secret stays refused: retrying the token request (or the signed
    request) cannot help, and a storm of failed logins can lock the connection or alarm the
    district. At most three attempts per run, and no OneRoster request without credentials
    (reading on without a token gets nothing, and looks like probing)."""
    tried = []
    for phase in sorted(j.refused_phases):
        bare = [e for e in j.data if e.phase == phase and e.auth not in ("bearer", "oauth1")]
        if bare:
            raise j.finding(f"{len(bare)} OneRoster request(s) without credentials in the "
                            f"{phase} run: {listed(bare)}", *bare)
        attempts = [e for e in j.all if e.phase == phase and (
            e.is_token_request or (e.is_oneroster and e.auth in ("bearer", "oauth1")))]
        if len(attempts) > MAX_ATTEMPTS:
            raise j.finding(f"{len(attempts)} attempts with refused credentials in the {phase} "
                            f"run (at most {MAX_ATTEMPTS})", *attempts)
        tried.append(f"{len(attempts)} in the {phase} run")
    return passed("attempts with the refused credentials: " + ", ".join(tried))
