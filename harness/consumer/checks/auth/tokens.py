"""Bearer tokens (OR-CON-AUTH-001 to 003): obtained, reused until they expire, renewed once
after a 401. Not applicable to a consumer that signs with OAuth 1.0a; the runs after the
connection's credentials were refused are judged in ``refused`` instead."""

from __future__ import annotations

from ....engine import Outcome, guard, passed, skipped
from ...judge import Judgement, consumer_check
from ...recording import Recorded
from ..support import listed

TOKEN_LOOP = 3  # token requests in a row, with no successful read between, make a loop


def _bearer_only(j: Judgement) -> str | None:
    return "not applicable: the consumer signs with OAuth 1.0a" if j.signs_with_oauth1 else None


@consumer_check("OR-CON-AUTH-001", "Every OneRoster request carried a token it had obtained",
                "1EdTech Security Framework: OAuth 2.0 client credentials, bearer tokens",
                rule_v11="OneRoster 1.1 security: OAuth 2.0 client credentials and bearer "
                "tokens (later 1.1 revisions, Infinite Campus), else OAuth 1.0a signatures")
@guard(_bearer_only)
def authenticated(j: Judgement) -> Outcome:
    """The consumer must obtain an access token from the token URL with its client id and
    secret, and send it as ``Authorization: Bearer <token>`` on every request. Failed token
    requests (wrong credentials, wrong grant) and requests without credentials are findings."""
    tokens, data = j.live(j.token_requests), j.live(j.data)
    failed_tokens = [e for e in tokens if not e.ok]
    if failed_tokens:
        raise j.finding(f"{len(failed_tokens)} token request(s) failed (status "
                        f"{failed_tokens[0].status})", *failed_tokens)
    issued = {e.issued for e in j.token_requests if e.issued}
    bare = [e for e in data if e.auth in ("none", "other", "basic")]
    unknown = [e for e in data if e.auth == "bearer" and e.token not in issued]
    if bare:
        raise j.finding(f"{len(bare)} request(s) without a bearer token: {listed(bare)}", *bare)
    if unknown:
        raise j.finding(f"{len(unknown)} request(s) with a token the token URL never issued",
                        *unknown)
    if not data:
        raise j.finding("the consumer made no OneRoster request at all")
    return passed(f"{len(tokens)} token request(s), {len(data)} authorised request(s)")


def _justified(j: Judgement, request: Recorded, previous: Recorded | None) -> bool:
    """A new token is justified at the start of a run, after a 401, or once the last one's
    lifetime is (nearly) over."""
    if previous is None or previous.phase != request.phase:
        return True
    if any(e.status == 401 and previous.end <= e.end <= request.start for e in j.data):
        return True
    lifetime = previous.expires_in if isinstance(previous.expires_in, (int, float)) else None
    return lifetime is not None and request.start - previous.end >= lifetime * 0.8


@consumer_check("OR-CON-AUTH-002", "The token was reused until it expired",
                "1EdTech Security Framework §4: access tokens are reused for their lifetime")
@guard(_bearer_only)
def token_reused(j: Judgement) -> Outcome:
    """An access token is good for its ``expires_in``: fetch one, use it for every request,
    and fetch a new one only when it expires or the provider answers 401. A token per request
    (or per collection) loads the provider's token service and is refused by some SIS."""
    extra = []
    previous = None
    tokens = j.live(j.token_requests)
    if not tokens:
        return skipped("the consumer asked for no token")
    for request in tokens:
        if not _justified(j, request, previous):
            extra.append(request)
        previous = request
    if extra:
        raise j.finding(f"{len(extra)} token request(s) while the previous token was still "
                        f"good ({len(tokens)} in all)", *extra)
    return passed(f"{len(tokens)} token request(s), each one needed")


@consumer_check("OR-CON-AUTH-003", "After a 401 the consumer fetched a new token once",
                "RFC 6750 §3.1 invalid_token: obtain a new token, then retry")
@guard(_bearer_only)
def recovered_from_401(j: Judgement) -> Outcome:
    """When a request is refused with 401 (the token expired or was revoked) the consumer must
    stop using that token, fetch a new one once and retry. Using the refused token again, or
    fetching tokens in a loop, is a finding."""
    refusals = [e for e in j.live(j.data) if e.status == 401 and e.token]
    if not refusals:
        return skipped("no request was refused with 401")
    for refusal in refusals:
        reused = [e for e in j.data if e.token == refusal.token and e.start > refusal.end]
        if reused:
            raise j.finding(f"token {refusal.token} was used again after it was refused "
                            f"({len(reused)} more request(s))", refusal, *reused)
        renewed = [t for t in j.token_requests if t.start >= refusal.end
                   and t.phase == refusal.phase]
        if not renewed:
            raise j.finding("no new token was fetched after the 401", refusal)
    streak: list[Recorded] = []
    for exchange in j.live(j.all):
        if exchange.is_token_request:
            streak.append(exchange)
            if len(streak) >= TOKEN_LOOP:
                raise j.finding(f"{len(streak)} token requests in a row without a successful "
                                "read between them: a token loop", *streak)
        elif exchange.is_oneroster and exchange.ok:
            streak = []
    return passed(f"{len(refusals)} 401(s), each followed by one new token")

