"""OAuth 1.0a signatures (OR-CON-AUTH-004 to 006): every request signed with a fresh nonce,
timestamps within the provider's window, a request signed anew after a replayed-nonce
refusal. Not applicable to a consumer that does not sign."""

from __future__ import annotations

from ....engine import Outcome, guard, passed, skipped
from ...judge import Judgement, consumer_check
from ...recording import Recorded
from ..support import listed

NONCE_REFUSED = "oauth_nonce was already used"  # the provider's words for a replayed nonce
# Refusals of a signed request that other checks judge: the timestamp (005), a replay
# (004 by the nonces themselves, 006 for the recovery), expired credentials (007, 008).
NOT_A_SIGNATURE_FAULT = ("oauth_timestamp", NONCE_REFUSED, "credentials expired")
DEFAULT_MAX_AGE, DEFAULT_MAX_AHEAD = 600, 300  # seconds; the mock's window when not recorded


def _signing_only(j: Judgement) -> str | None:
    return None if j.signed else "not applicable: the consumer does not sign with OAuth 1.0a"


def _oauth1(exchange: Recorded, name: str) -> str | None:
    return (exchange.oauth1 or {}).get(name) or None


@consumer_check("OR-CON-AUTH-004", "Every request was signed, each with a fresh nonce",
                "RFC 5849 §3.3 oauth_nonce; OneRoster 1.1: OAuth 1.0a, HMAC-SHA256")
@guard(_signing_only)
def fresh_nonces(j: Judgement) -> Outcome:
    """A consumer that signs with OAuth 1.0a signs every request, and every signature carries
    a nonce never sent before, a retry included: a provider refuses a nonce it has seen
    (inside its timestamp window) as a replay. A request the provider could not verify
    (signature mismatch, a method or parameter it does not accept, a signed 1.2 request) is a
    finding too."""
    unsigned = [e for e in j.data if e.auth in ("none", "other", "basic")] \
        if j.signs_with_oauth1 else []
    if unsigned:
        raise j.finding(f"{len(unsigned)} request(s) without a signature: {listed(unsigned)}",
                        *unsigned)
    first: dict[str, Recorded] = {}
    reused: list[Recorded] = []
    for exchange in j.signed:
        nonce = _oauth1(exchange, "nonce")
        if nonce is None:
            continue  # a malformed header: the provider's refusal below names it
        if nonce in first:
            reused.append(exchange)
        else:
            first[nonce] = exchange
    if reused:
        again = reused[0]
        raise j.finding(f"{len(reused)} signed request(s) reused a nonce already sent, e.g. "
                        f"#{again.seq} repeats the nonce of #{first[_oauth1(again, 'nonce')].seq}"
                        " (a retry must be signed anew)",
                        first[_oauth1(again, "nonce")], *reused)
    refused = [e for e in j.signed if e.status == 401 and not e.fault
               and not (e.description or "").startswith(NOT_A_SIGNATURE_FAULT)]
    if refused:
        raise j.finding(f"{len(refused)} signed request(s) refused: {refused[0].description}",
                        *refused)
    methods = sorted({m for e in j.signed if (m := _oauth1(e, "signature_method"))})
    return passed(f"{len(j.signed)} signed request(s) ({', '.join(methods) or 'no method'}), "
                  "every nonce fresh")


def _window(j: Judgement) -> tuple[int, int]:
    window = j.header.get("oauth1") or {}
    return (int(window.get("max_age", DEFAULT_MAX_AGE)),
            int(window.get("max_ahead", DEFAULT_MAX_AHEAD)))


@consumer_check("OR-CON-AUTH-005", "OAuth 1.0a timestamps were within the allowed skew",
                "RFC 5849 §3.3 oauth_timestamp; 1EdTech/Instructure guidance: at most 10 minutes "
                "old, 5 minutes ahead")
@guard(_signing_only)
def timestamps_within_skew(j: Judgement) -> Outcome:
    """``oauth_timestamp`` is the Unix time in whole seconds when the request was signed.
    Providers refuse timestamps too far from their own clock (the mock, as Instructure asks of
    providers: more than 10 minutes old or 5 minutes ahead), so a consumer must sign each
    request when it sends it, with a synchronised clock, and never re-send an old
    signature."""
    max_age, max_ahead = _window(j)
    epoch = j.header.get("epoch")
    off: list[tuple[Recorded, str]] = []
    for exchange in j.signed:
        stamp = _oauth1(exchange, "timestamp")
        if stamp is None:
            continue
        if not stamp.isdigit():
            off.append((exchange, f"oauth_timestamp {stamp!r} is not whole seconds"))
            continue
        if isinstance(epoch, (int, float)):
            skew = int(stamp) - (epoch + exchange.start)
            if skew < -max_age or skew > max_ahead:
                way = "behind" if skew < 0 else "ahead of"
                off.append((exchange, f"oauth_timestamp {abs(skew):.0f} s {way} the "
                                      "provider's clock"))
    refused = [e for e in j.signed if e.status == 401
               and (e.description or "").startswith("oauth_timestamp")]
    off += [(e, str(e.description)) for e in refused if all(e is not o for o, _ in off)]
    if off:
        raise j.finding(f"{len(off)} signed request(s) outside the window of {max_age} s "
                        f"behind and {max_ahead} s ahead; first: {off[0][1]}",
                        *(e for e, _ in off))
    return passed(f"{len(j.signed)} signed request(s), every timestamp within {max_age} s "
                  f"behind and {max_ahead} s ahead")


@consumer_check("OR-CON-AUTH-006", "After a nonce refusal the request was signed anew",
                "RFC 5849 §3.3: a nonce is used once; the OAuth 1.0a twin of a 401 "
                "invalid_token")
@guard(_signing_only)
def signed_anew(j: Judgement) -> Outcome:
    """A provider may refuse a signed request as a replay ("oauth_nonce was already used"),
    e.g. when several of its servers share a nonce store. The consumer must sign the same
    request again, with a new nonce and timestamp, and send it; re-sending the refused
    signature is refused again, and giving up loses the sync."""
    refusals = [e for e in j.signed if e.status == 401
                and (e.description or "").startswith(NONCE_REFUSED)]
    if not refusals:
        return skipped("no signed request was refused as a replay")
    for refusal in refusals:
        retries = [e for e in j.data if e.start >= refusal.end and e.phase == refusal.phase
                   and e.method == refusal.method and e.path == refusal.path
                   and e.query == refusal.query]
        if not retries:
            raise j.finding(f"#{refusal.seq} {refusal.method} {refusal.path} was refused as a "
                            "replay and never sent again", refusal)
        if _oauth1(retries[0], "nonce") == _oauth1(refusal, "nonce"):
            raise j.finding(f"#{refusal.seq} was refused as a replay and re-sent with the same "
                            "nonce", refusal, retries[0])
    return passed(f"{len(refusals)} nonce refusal(s), each request signed anew and sent again")
