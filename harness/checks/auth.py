"""Authorisation (OR-AUTH): requests without a token or with an unknown one, wrong secrets,
tokens without an operation's scope or past their lifetime are refused; and (run phase) the
run's own token was accepted for its whole lifetime."""

from __future__ import annotations

import time

from ..engine import Finding, Offenders, Outcome, guard, passed
from .context import Context, answered
from .support import (
    check,
    incidents_finding,
    member,
    oauth2_only,
    run_phase_check,
    status_payload_errors,
)

SCOPE_PREFIX = {"1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/",
                "1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/"}


CORE_ONLY = "roster-core.readonly"  # grants the core rostering reads, not demographics


MAX_WAIT = 20.0  # seconds the checker waits for a token to expire, at most


@check("OR-AUTH-001", "A request without a token is refused with 401",
       "1EdTech Security Framework: OAuth 2.0 bearer tokens")
def no_token_is_401(ctx: Context) -> Outcome:
    """``GET /users`` without an Authorization header must answer 401 (and no data). Fix: require
    a valid bearer token on every OneRoster route."""
    exchange = ctx.target.get("/users", {"limit": 1}, authorization="")
    if exchange.status != 401:
        raise Finding(f"a request without a token {answered(exchange)}", exchange)
    return passed("401 without a token", exchange)


@check("OR-AUTH-002", "A malformed or unknown token is refused with 401",
       "1EdTech Security Framework: OAuth 2.0 bearer tokens")
def bad_token_is_401(ctx: Context) -> Outcome:
    """``GET /users`` with ``Authorization: Bearer not-a-token`` must answer 401. Fix: verify
    every token; never accept an unknown one."""
    exchange = ctx.target.get("/users", {"limit": 1}, authorization="Bearer not-a-token")
    if exchange.status != 401:
        raise Finding(f"an unknown token {answered(exchange)}", exchange)
    return passed("401 for an unknown token", exchange)


@run_phase_check("OR-AUTH-003", "An access token is accepted for its whole lifetime",
                 "RFC 6749 §5.1 expires_in; 1EdTech Security Framework: token reuse")
@oauth2_only
def token_lasts_its_lifetime(ctx: Context) -> Outcome:
    """The token endpoint says how long a token lives (``expires_in``); consumers reuse it for
    that long. A provider that refuses a token before then makes every consumer's sync fail
    half-way. Fix: honour the lifetime you announce (or announce the real one)."""
    early = [i for i in ctx.incidents("token-refused") if i.premature]
    if early:
        raise incidents_finding(f"a token was refused before its lifetime ended "
                                f"({early[0].detail}); {len(early)} time(s)", early)
    return passed("the run's token was accepted for as long as it was used")


@check("OR-AUTH-004", "A wrong client secret gets no token",
       "RFC 6749 §5.2 invalid_client; 1EdTech Security Framework")
@oauth2_only
def wrong_secret_refused(ctx: Context) -> Outcome:
    """The token URL must refuse a known client id with a wrong secret (401 or 400
    ``invalid_client``) and never issue a token for it. Fix: compare secrets in constant
    time and refuse on mismatch."""
    target = ctx.target
    answer, token = target.token_request(secret="wrong-" + "x" * 16)
    if token is not None:
        raise Finding("a wrong secret got an access token", answer)
    if answer.status is None or answer.status == 200 or answer.status >= 500:
        raise Finding(f"a wrong secret got {answer.status} from the token URL", answer)
    return passed(f"a wrong secret was refused with {answer.status}", answer)


@check("OR-AUTH-005", "A token without an operation's scope is refused with 403",
       "1EdTech Security Framework; OneRoster 1.2 scopes (roster-core vs roster-demographics)")
@oauth2_only
def wrong_scope_forbidden(ctx: Context) -> Outcome:
    """A token granted only ``roster-core.readonly`` may read the core collections but not
    ``/demographics``, which needs ``roster-demographics.readonly`` (or ``roster.readonly``):
    that read must answer 403 with a status payload. Skipped when the provider does not
    narrow a token to the scope asked for. Fix: check each operation's scopes against the
    token's, and answer 403 (not 401, not 200) when they do not meet."""
    target = ctx.target
    version = target.version
    answer, token = target.token_request(scope=SCOPE_PREFIX[version] + CORE_ONLY)
    if token is None:
        return Outcome("skipped", f"the token URL {answered(answer)} to a request for "
                                  f"{CORE_ONLY} alone", [answer.evidence()])
    body = answer.json()
    granted = member(body, "scope")
    wider = [g for g in granted.split() if not g.endswith(CORE_ONLY)] \
        if isinstance(granted, str) else []
    if wider:
        return Outcome("skipped", f"the provider granted {' '.join(wider)} beyond {CORE_ONLY}",
                       [answer.evidence()])
    core = target.get("/orgs", {"limit": 1}, authorization=f"Bearer {token}")
    if core.status != 200:
        raise Finding(f"a {CORE_ONLY} token could not read /orgs ({core.status})", core)
    denied = target.get("/demographics", {"limit": 1}, authorization=f"Bearer {token}")
    if denied.status != 403:
        raise Finding(f"a {CORE_ONLY} token read /demographics with {denied.status}, not 403",
                      denied)
    errors = status_payload_errors(denied, version)
    if errors:
        raise Finding(f"the 403 is not a status payload: {errors[0]}", denied)
    return passed(f"a {CORE_ONLY} token reads /orgs and is refused /demographics with 403",
                  denied)


@check("OR-AUTH-006", "An expired token is refused with 401",
       "RFC 6749 §5.1 expires_in; RFC 6750 §3.1 invalid_token")
@oauth2_only
def expired_token_refused(ctx: Context) -> Outcome:
    """A token used after its ``expires_in`` must be refused with 401, so a leaked token
    stops working. Checked only when the provider issues tokens that live at most 20 s (a
    test connection); otherwise skipped. Fix: store each token's expiry and check it on every
    request."""
    target = ctx.target
    answer, token = target.token_request()
    body = answer.json() if isinstance(answer.json(), dict) else {}
    lifetime = body.get("expires_in")
    if token is None or not isinstance(lifetime, (int, float)):
        return Outcome("skipped", "the token answer gave no numeric expires_in",
                       [answer.evidence()])
    if lifetime > MAX_WAIT:
        return Outcome("skipped", f"tokens live {lifetime:g} s, too long to wait for here")
    time.sleep(lifetime + 1.0)
    late = target.get("/orgs", {"limit": 1}, authorization=f"Bearer {token}")
    if late.status != 401:
        raise Finding(f"a token {lifetime:g} s old, past its lifetime, got {late.status}", late)
    return passed(f"a token past its {lifetime:g} s lifetime was refused with 401", late)


@check("OR-AUTH-007", "A 401 says how to authenticate (WWW-Authenticate)",
       "RFC 6750 §3: a resource server MUST include WWW-Authenticate in a 401; RFC 9110 §11.6.1")
def refusals_name_the_scheme(ctx: Context) -> Outcome:
    """When a request carries no token or one that does not work, the 401 must carry a
    ``WWW-Authenticate`` header naming the scheme (``Bearer``, with ``error="invalid_token"``
    for a bad token; ``OAuth`` for a 1.1 provider that signs), so a client library knows to
    fetch a new token instead of giving up. Fix: add the header to every 401."""
    offenders = Offenders()
    asked = (("no token", ""), ("an unknown token", "Bearer not-a-token"))
    for what, authorization in asked:
        exchange = ctx.target.get("/orgs", {"limit": 1}, authorization=authorization)
        if exchange.status != 401:
            continue  # OR-AUTH-001 and 002 report the status itself
        if not exchange.headers.get("www-authenticate"):
            offenders.add(f"the 401 for {what} has no WWW-Authenticate header", exchange)
    offenders.raise_if_any(lambda n: f"{n} refusals do not say how to authenticate")
    return passed("every 401 carried WWW-Authenticate")


@check("OR-AUTH-008", "The Bearer scheme is accepted in any letter case",
       "RFC 9110 §11.1: authentication schemes are case-insensitive; RFC 6750 §2.1")
@guard(lambda ctx: None if ctx.target.auth in ("oauth2", "bearer")
       else "the run does not use bearer tokens")
def bearer_any_case(ctx: Context) -> Outcome:
    """``Authorization: bearer <token>`` and ``BEARER <token>`` name the same scheme as
    ``Bearer <token>``: HTTP authentication schemes are case-insensitive, and some client
    libraries send the lower-case form. A valid token must be accepted in each. Fix: compare
    the scheme without regard to case."""
    token = ctx.target.token()
    offenders = Offenders()
    for scheme in ("bearer", "BEARER"):
        exchange = ctx.target.get("/orgs", {"limit": 1}, authorization=f"{scheme} {token}")
        if exchange.status != 200:
            offenders.add(f"{scheme!r} {answered(exchange)}", exchange)
    offenders.raise_if_any("a valid token was refused when the scheme was not written Bearer")
    return passed("a valid token was accepted with the scheme written bearer and BEARER")
