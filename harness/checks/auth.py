"""Authorisation (OR-AUTH): requests without a token or with an unknown one, wrong secrets,
tokens without an operation's scope or past their lifetime are refused; the token URL answers
RFC 6749 error codes; every rostering read opens with each of its scopes and only with them;
OAuth 1.0a signatures with the spec's HMAC-SHA256 are accepted; and (run phase) the run's own
token was accepted for its whole lifetime."""

from __future__ import annotations

from ..auth import ClientCredentials
from ..engine import Finding, Offenders, Outcome, guard, passed, skipped
from ..exchange import Exchange
from ..oneroster import scopes
from ..target import status_description
from ..token_answer import positive_number
from .context import Context, answered
from .scoped_reads import plan
from .support import (
    check,
    incidents_finding,
    member,
    oauth2_only,
    run_phase_check,
    status_payload_errors,
)

CORE_ONLY = scopes.CORE  # grants the core rostering reads, not demographics
MAX_WAIT = 20.0  # seconds the checker waits for a token to expire, at most
# Asked for in OR-AUTH-010: a scope no OneRoster version defines, a grant type no server has.
UNKNOWN_SCOPE = "harness-unknown.readonly"
UNKNOWN_GRANT = "harness_unknown_grant"
NOT_OFFERED = (404, 405, 501)
# OR-AUTH-011 takes at most this share of the requests left in the run's budget.
SCOPE_TABLE_SHARE = 4
SCOPE_TABLE_MIN = 10  # fewer requests than this would say nothing: skipped


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
    answer, token = target.token_request(scope=scopes.uri(CORE_ONLY, version))
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
    if token is None or not positive_number(lifetime):
        return Outcome("skipped", "the token answer gave no positive numeric expires_in",
                       [answer.evidence()])
    if lifetime > MAX_WAIT:
        return Outcome("skipped", f"tokens live {lifetime:g} s, too long to wait for here")
    target.pause(lifetime + 1.0)
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


@check("OR-AUTH-009", "OAuth 1.0a requests signed with HMAC-SHA256 are accepted",
       "OneRoster 1.1 security: OAuth 1.0a request signing with HMAC-SHA256 (RFC 5849 §3.4 "
       "with SHA-256)")
@guard(lambda ctx: None if ctx.target.auth == "oauth1"
       else "the run does not sign its requests with OAuth 1.0a")
def sha256_signatures_accepted(ctx: Context) -> Outcome:
    """OneRoster 1.1 asks consumers to sign with HMAC-SHA256; a provider that takes only
    HMAC-SHA1 refuses every consumer that follows the spec. ``GET /orgs?limit=1`` signed with
    HMAC-SHA256 (the run's consumer key and secret, a fresh nonce) must not be refused. When
    the provider refused it at the start of the run and accepted HMAC-SHA1, the run went on
    with HMAC-SHA1 and this check reports the refusal once. Fix: accept
    ``oauth_signature_method="HMAC-SHA256"``."""
    target = ctx.target
    url = target.url("/orgs", {"limit": 1})
    exchange = target.get(url, authorization=target.oauth1_authorization(
        "GET", url, "HMAC-SHA256"))
    if exchange.status in (None, 400, 401, 403):
        said = status_description(exchange)
        went_on = "; the run signed with HMAC-SHA1, which the provider accepts" \
            if target.access.signature_method == "HMAC-SHA1" else ""
        raise Finding(f"a request signed with HMAC-SHA256 {answered(exchange)}"
                      + (f' ("{said}")' if said else "") + went_on, exchange)
    return passed(f"a request signed with HMAC-SHA256 was accepted ({exchange.status})",
                  exchange)


def _error_code_problem(answer: Exchange, expected: str, statuses: tuple[int, ...]
                        ) -> str | None:
    """Why a refused token request is not the RFC 6749 §5.2 error it should be (None when it
    is)."""
    body = answer.json()
    error = member(body, "error")
    if answer.status not in statuses:
        shown = f" (error {error!r})" if isinstance(error, str) else ""
        return f"{answered(answer)}{shown}, not {' or '.join(map(str, statuses))} {expected}"
    if not isinstance(body, dict):
        return f"{answered(answer)}: no RFC 6749 JSON error body"
    if error != expected:
        return f"answered {answer.status} with error {error!r}, not {expected!r}"
    return None


@check("OR-AUTH-010", "The token URL answers RFC 6749 error codes",
       "RFC 6749 §5.2: invalid_client (401, or 400), invalid_scope (400), "
       "unsupported_grant_type (400)")
@oauth2_only
def token_error_codes(ctx: Context) -> Outcome:
    """A client library decides what to do from the token URL's ``error``: a wrong secret
    must be ``invalid_client`` (401, or 400), a scope the version does not define
    ``invalid_scope`` (400) or a token without that scope (RFC 6749 §3.3 lets a server narrow
    what was asked), an unknown ``grant_type`` ``unsupported_grant_type`` (400). A token issued
    for a wrong secret is OR-AUTH-004's finding. Fix: answer each refusal with its RFC 6749
    error code in a JSON body."""
    target = ctx.target
    offenders = Offenders()
    wrong, token = target.token_request(secret="wrong-" + "x" * 16)
    if token is None:
        problem = _error_code_problem(wrong, "invalid_client", (401, 400))
        if problem:
            offenders.add(f"a wrong client secret {problem}", wrong)
    unknown = scopes.uri(UNKNOWN_SCOPE, target.version)
    asked, token = target.token_request(scope=unknown)
    if token is not None:
        granted = member(asked.json(), "scope")
        if not isinstance(granted, str) or unknown in granted.split():
            offenders.add(f"the unknown scope {UNKNOWN_SCOPE} was granted (the answer's "
                          f"scope: {granted!r})", asked)
    else:
        problem = _error_code_problem(asked, "invalid_scope", (400,))
        if problem:
            offenders.add(f"the unknown scope {UNKNOWN_SCOPE} {problem}", asked)
    grant, token = target.token_request(grant_type=UNKNOWN_GRANT)
    if token is not None:
        offenders.add(f"grant_type={UNKNOWN_GRANT} got an access token", grant)
    else:
        problem = _error_code_problem(grant, "unsupported_grant_type", (400,))
        if problem:
            offenders.add(f"grant_type={UNKNOWN_GRANT} {problem}", grant)
    offenders.raise_if_any(lambda n: f"{n} of 3 token refusals do not carry their RFC 6749 "
                                     "error")
    return passed("a wrong secret, an unknown scope and an unknown grant type got "
                  "invalid_client, invalid_scope and unsupported_grant_type", wrong, asked,
                  grant)


def _single_scope_tokens(ctx: Context, wanted: list[str]
                         ) -> tuple[dict[str, str], list[str], str | None]:
    """(scope -> a token holding only it, the scopes refused, why the check cannot judge:
    the provider granted more than the one scope asked for)."""
    tokens: dict[str, str] = {}
    refused: list[str] = []
    for scope in wanted:
        answer, token = ctx.target.token_request(scope=scope)
        if token is None:
            refused.append(scopes.short(scope))
            continue
        granted = member(answer.json(), "scope")
        wider = [g for g in granted.split() if g != scope] if isinstance(granted, str) else []
        if wider:
            return {}, refused, (f"the provider does not narrow tokens to the scope asked for "
                                 f"(asked for {scopes.short(scope)} alone, it granted "
                                 f"{' '.join(scopes.short(g) for g in wider)} too)")
        tokens[scope] = token
    return tokens, refused, None


@check("OR-AUTH-011", "Every rostering read opens with each of its scopes, and only with them",
       "OneRoster 1.2 operations' security (any one listed scope); OneRoster 1.1 scopes; "
       "RFC 6750 §3.1 insufficient_scope (403)")
@oauth2_only
def scope_table(ctx: Context) -> Outcome:
    """For every rostering read operation (the 41 of 1.2, or 1.1's equivalents), asked with
    real ids: a token that holds exactly one of the operation's documented scopes must not be
    refused (401 or 403), and a token that holds none of them must be refused with 403 and a
    status payload. One token per rostering scope (``roster-core``, ``roster``,
    ``roster-demographics``), one request per (operation, token) pair, at most a quarter of
    the requests left in the run's budget; a token refused with 401 is renewed once (that is
    about its lifetime, not its scope). Skipped when the provider does not narrow a token to
    the scope asked for (as OR-AUTH-005 detects). Fix: check each operation against its
    own list of scopes, any one of which opens it."""
    target = ctx.target
    version = target.version
    wanted = sorted({s for read in scopes.rostering_reads(version) for s in read.scopes})
    tokens, refused, why = _single_scope_tokens(ctx, wanted)
    if why:
        return skipped(why)
    if not tokens:
        return skipped(f"the token URL refused every single rostering scope "
                       f"({', '.join(refused)})")
    asks, left_out = plan(ctx, tokens)
    allowed = (target.max_requests - target.requests) // SCOPE_TABLE_SHARE
    if allowed < SCOPE_TABLE_MIN:
        return skipped(f"too few requests are left in the run's budget ({allowed} for this "
                       "check)")
    planned = len(asks)
    asks = asks[:allowed]
    offenders = Offenders()
    reads = set()
    answers = []
    for ask in asks:
        reads.add(ask.template)
        exchange = target.get(ask.path, authorization=f"Bearer {tokens[ask.scope]}")
        if exchange.status == 401:  # the token, not its scope, was refused: a new one, once
            _, renewed = target.token_request(scope=ask.scope)
            if renewed is not None:
                tokens[ask.scope] = renewed
                exchange = target.get(ask.path, authorization=f"Bearer {renewed}")
        answers.append((ask, exchange))
    # A read the provider does not offer at all (404/405/501 to a token that may read it) is
    # OR-DISC-001's business: a 404 then says nothing about scopes.
    opened = {a.template for a, e in answers if a.opens and e.status == 200}
    absent = {a.template for a, e in answers
              if a.template not in opened and e.status in NOT_OFFERED}
    for ask, exchange in answers:
        name = scopes.short(ask.scope)
        if ask.template in absent:
            continue
        if ask.opens and exchange.status in (401, 403):
            offenders.add(f"GET {ask.template} with a token holding {name} (one of its "
                          f"scopes) {answered(exchange)}", exchange)
        elif not ask.opens and exchange.status != 403:
            offenders.add(f"GET {ask.template} with a token holding only {name} (none of "
                          f"its scopes) {answered(exchange)}, not 403", exchange)
        elif not ask.opens and (errors := status_payload_errors(exchange, version)):
            offenders.add(f"GET {ask.template}: the 403 is not a status payload: {errors[0]}",
                          exchange)
    reads -= absent
    asked = f"{len(asks)} requests over {len(reads)} rostering reads"
    notes = "".join([
        f"; {planned - len(asks)} more left unasked (the run's budget)" if planned > len(asks)
        else "",
        f"; {len(left_out)} reads without ids left out" if left_out else "",
        f"; {len(absent)} reads not offered (404/405/501) left out" if absent else "",
        f"; the token URL refused {', '.join(refused)} alone" if refused else ""])
    offenders.raise_if_any(lambda n: f"{n} of {asked} broke the scope table", notes)
    return passed(f"{asked}: each opened with any one of its scopes and refused with 403 to "
                  f"a token with none of them{notes}")


@check("OR-AUTH-012", "Token answers issue a bearer token with a positive lifetime",
       "RFC 6749 §5.1: access_token, token_type (REQUIRED), expires_in; RFC 6750 §2.1 "
       "b64token, §4 token_type bearer")
@oauth2_only
def token_answers_are_bearer_tokens(ctx: Context) -> Outcome:
    """Every token answer of the run (the run's own token, those the other checks asked for,
    and one more request with the run's credentials) must hold an ``access_token`` that is a
    non-empty string a client can send in an Authorization header (no whitespace or control
    characters), a ``token_type`` of ``bearer`` (any letter case), and, when it gives
    ``expires_in``, a positive number of seconds. A client library refuses a ``mac`` token
    type, reads a numeric token wrongly, and renews a token with a negative lifetime before
    every request. The checker goes on with such a token as long as it can send it. Fix:
    answer ``{"access_token": "<string>", "token_type": "bearer", "expires_in": <seconds>}``."""
    target = ctx.target
    answer, token = target.token_request()
    flow = target.credentials
    found = Offenders()
    seen: set[str] = set()
    # The run's own token request leaves no exchange: the same request asked again shows it.
    again = answer if token is not None else None
    for problem in flow.answer_problems if isinstance(flow, ClientCredentials) else []:
        seen.add(problem)
        found.add(f"the run's token answer: {problem}", again)
    for problem, exchange in target.token_answers:
        if problem not in seen:
            seen.add(problem)
            found.add(f"a token answer: {problem}", exchange)
    if token is None and not found:
        return skipped(f"the token URL {answered(answer)} to the run's own credentials",
                       answer)
    found.raise_if_any(lambda n: f"{n} problem(s) in the token URL's answers")
    return passed("every token answer issued a bearer token (a non-empty string, token_type "
                  "bearer, a positive expires_in or none)", answer)
