"""What the provider did to the whole run (run phase): rate limits without Retry-After and
oversized answers. The target works around them and keeps them as incidents, so each shows
here under one id instead of as noise in every other check (refused tokens are OR-AUTH-003,
server errors and timeouts OR-ERR-003)."""

from __future__ import annotations

from ..engine import Outcome, passed
from .context import Context
from .support import Offenders, incidents_finding, run_phase_check, status_payload_errors


@run_phase_check("OR-LOAD-001", "Rate limiting answers 429 with Retry-After",
                 "RFC 6585 §4; RFC 9110 §10.2.3 Retry-After; Infinite Campus partner rules",
                 severity="warning")
def rate_limits_say_when(ctx: Context) -> Outcome:
    """A provider may limit request rates, but a 429 must say when to come back
    (``Retry-After``) so a consumer can wait instead of guessing. The checker keeps at most the
    concurrency it was given (1 by default), so a 429 here is also worth knowing about."""
    limited = ctx.incidents("rate-limited")
    if not limited:
        return passed("no request was rate-limited")
    bare = [i for i in limited if i.exchange.headers.get("retry-after") is None]
    if bare:
        raise incidents_finding(f"{len(bare)} of {len(limited)} 429 answer(s) had no "
                                "Retry-After", bare)
    raise incidents_finding(f"{len(limited)} request(s) were rate-limited at the checker's pace "
                            "(each with Retry-After)", limited)


@run_phase_check("OR-LOAD-002", "A 429 carries the status payload",
                 "OneRoster 1.2 OpenAPI: 429 answers imsx_StatusInfoDType; 1.1: statusInfoSet")
def rate_limits_say_why(ctx: Context) -> Outcome:
    """Like every OneRoster error, a 429 answers the version's status payload (the 1.2
    OpenAPI documents it for every operation), so a client parses it as it parses any other
    refusal rather than meeting an HTML page from a gateway. Every 429 of the run without one
    is listed. Fix: answer rate limits from the OneRoster error handler, with Retry-After."""
    limited = ctx.incidents("rate-limited")
    if not limited:
        return passed("no request was rate-limited")
    offenders = Offenders()
    for incident in limited:
        errors = status_payload_errors(incident.exchange, ctx.version)
        if errors:
            offenders.add(f"{incident.exchange.method} {incident.exchange.url}: {errors[0]}",
                          incident.exchange)
    offenders.raise_if_any(lambda n: f"{n} of {len(limited)} 429 answer(s) carry no status "
                                     "payload")
    return passed(f"{len(limited)} 429 answer(s), each with the status payload")


@run_phase_check("OR-SIZE-001", "Answers stay within a size a client can read",
                 "Harness robustness: answers above 64 MB are cut")
def answers_not_oversized(ctx: Context) -> Outcome:
    """An answer larger than 64 MB (a page far beyond its limit, or a body that never ends) is
    cut by the checker, and breaks consumers. Fix: honour ``limit`` and your page maximum."""
    oversized = ctx.incidents("oversized")
    if oversized:
        raise incidents_finding(f"{len(oversized)} answer(s) were cut at 64 MB", oversized)
    return passed("every answer was read whole")
