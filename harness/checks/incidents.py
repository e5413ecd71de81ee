"""What the provider did to the whole run, reported last: refused tokens, rate limits, server
errors, timeouts and oversized answers (the target works around them and keeps them as
incidents, so each shows here under one id instead of as noise in every other check)."""

from __future__ import annotations

from ..target import Incident
from . import Context, Finding, Outcome, check, passed


def _of(ctx: Context, *kinds: str) -> list[Incident]:
    return [i for i in ctx.target.incidents if i.kind in kinds]


def _finding(message: str, incidents: list[Incident]) -> Finding:
    return Finding(message, *(i.exchange for i in incidents[:5]))


@check("OR-AUTH-003", "An access token is accepted for its whole lifetime",
       "RFC 6749 §5.1 expires_in; 1EdTech Security Framework: token reuse")
def token_lasts_its_lifetime(ctx: Context) -> Outcome:
    """The token endpoint says how long a token lives (``expires_in``); consumers reuse it for
    that long. A provider that refuses a token before then makes every consumer's sync fail
    half-way. Fix: honour the lifetime you announce (or announce the real one)."""
    if ctx.target.auth != "oauth2":
        return Outcome("skipped", "the run does not use OAuth 2.0 client credentials")
    early = [i for i in _of(ctx, "token-refused") if i.premature]
    if early:
        raise _finding(f"a token was refused before its lifetime ended ({early[0].detail}); "
                       f"{len(early)} time(s)", early)
    return passed("the run's token was accepted for as long as it was used")


@check("OR-LOAD-001", "Rate limiting answers 429 with Retry-After", "RFC 6585 §4; RFC 9110 "
       "§10.2.3 Retry-After; Infinite Campus partner rules", severity="warning")
def rate_limits_say_when(ctx: Context) -> Outcome:
    """A provider may limit request rates, but a 429 must say when to come back
    (``Retry-After``) so a consumer can wait instead of guessing. The checker keeps at most the
    concurrency it was given (1 by default), so a 429 here is also worth knowing about."""
    limited = _of(ctx, "rate-limited")
    if not limited:
        return passed("no request was rate-limited")
    bare = [i for i in limited if i.exchange.headers.get("retry-after") is None]
    if bare:
        raise _finding(f"{len(bare)} of {len(limited)} 429 answer(s) had no Retry-After", bare)
    raise _finding(f"{len(limited)} request(s) were rate-limited at the checker's pace "
                   "(each with Retry-After)", limited)


@check("OR-ERR-003", "No request fails with a server error or times out",
       "OneRoster 1.2 REST binding §3.3: 5xx only for provider faults")
def no_server_errors(ctx: Context) -> Outcome:
    """Every request of the run, valid or not, must be answered: a 500/503 or a timeout is
    the provider failing, whatever was asked (bad input gets a 4xx with imsx_StatusInfo). The
    checker retries a 5xx once, so this lists every one it saw."""
    failures = _of(ctx, "server-error", "timeout")
    if failures:
        raise _finding(f"{len(failures)} server error(s) or timeout(s); the first: "
                       f"{failures[0].exchange.method} {failures[0].exchange.url} "
                       f"({failures[0].detail})", failures)
    return passed("no server error and no timeout in the run")


@check("OR-SIZE-001", "Answers stay within a size a client can read",
       "Harness robustness: answers above 64 MB are cut")
def answers_not_oversized(ctx: Context) -> Outcome:
    """An answer larger than 64 MB (a page far beyond its limit, or a body that never ends) is
    cut by the checker, and breaks consumers. Fix: honour ``limit`` and your page maximum."""
    oversized = _of(ctx, "oversized")
    if oversized:
        raise _finding(f"{len(oversized)} answer(s) were cut at 64 MB", oversized)
    return passed("every answer was read whole")
