"""Tokens that must stop working: one without the scope an operation needs, and one past its
lifetime (when the provider issues short-lived tokens)."""

from __future__ import annotations

import time

from . import Context, Finding, Outcome, check, passed
from .support import status_payload_errors

SCOPE_PREFIX = {"1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/",
                "1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/"}
CORE_ONLY = "roster-core.readonly"  # grants the core rostering reads, not demographics
MAX_WAIT = 20.0  # seconds the checker waits for a token to expire, at most


@check("OR-AUTH-005", "A token without an operation's scope is refused with 403",
       "1EdTech Security Framework; OneRoster 1.2 scopes (roster-core vs roster-demographics)")
def wrong_scope_forbidden(ctx: Context) -> Outcome:
    """A token granted only ``roster-core.readonly`` may read the core collections but not
    ``/demographics``, which needs ``roster-demographics.readonly`` (or ``roster.readonly``):
    that read must answer 403 with a status payload. Skipped when the provider does not
    narrow a token to the scope asked for. Fix: check each operation's scopes against the
    token's, and answer 403 (not 401, not 200) when they do not meet."""
    target = ctx.target
    if target.auth != "oauth2":
        return Outcome("skipped", "the run does not use OAuth 2.0 client credentials")
    version = target.version
    answer, token = target.token_request(scope=SCOPE_PREFIX[version] + CORE_ONLY)
    if token is None:
        return Outcome("skipped", f"the token URL answered {answer.status} to a request for "
                                  f"{CORE_ONLY} alone", [answer.evidence()])
    body = answer.json()
    granted = body.get("scope") if isinstance(body, dict) else None
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
def expired_token_refused(ctx: Context) -> Outcome:
    """A token used after its ``expires_in`` must be refused with 401, so a leaked token
    stops working. Checked only when the provider issues tokens that live at most 20 s (a
    test connection); otherwise skipped. Fix: store each token's expiry and check it on every
    request."""
    target = ctx.target
    if target.auth != "oauth2":
        return Outcome("skipped", "the run does not use OAuth 2.0 client credentials")
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
