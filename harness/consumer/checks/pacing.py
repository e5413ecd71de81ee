"""Pacing (OR-CON-RATE, OR-CON-RETRY, OR-CON-CONC): the provider's Retry-After honoured, a
backoff after errors that carry none, at most five requests in flight."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from ..recording import Recorded

RETRY_AFTER_SLACK = 0.05  # seconds of clock and scheduling noise forgiven
MIN_BACKOFF = 0.1  # seconds a consumer waits at least when the answer names no wait
SERVER_ERRORS = (500, 502, 503, 504)


def retry_after(j: Judgement, answer: Recorded) -> float | None:
    """The wait the answer's Retry-After asks for, in seconds (a number, or an HTTP date
    measured from when the answer was sent); None without a usable Retry-After."""
    value = (answer.header("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    epoch = j.header.get("epoch")
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    if not isinstance(epoch, (int, float)):
        return None  # a date cannot be placed on the recording's clock
    return max(0.0, when - (epoch + answer.end))


def required_wait(j: Judgement, answer: Recorded) -> tuple[float, str]:
    """(seconds of quiet the answer asks for, how that is described). The provider's own
    Retry-After wins, 0 included; only without one is a backoff of our own required."""
    asked = retry_after(j, answer)
    if asked is not None:
        return asked, f"its Retry-After asked for {asked:g} s"
    return MIN_BACKOFF, f"without a Retry-After a backoff of at least {MIN_BACKOFF:g} s is due"


def _too_soon(j: Judgement, answer: Recorded, wait: float) -> list[Recorded]:
    return [e for e in j.data if answer.end < e.start < answer.end + wait - RETRY_AFTER_SLACK]


@consumer_check("OR-CON-RATE-001", "Retry-After was honoured after a 429",
                "RFC 6585 §4 and RFC 9110 §10.2.3 Retry-After; Infinite Campus partner rules")
def honoured_retry_after(j: Judgement) -> Outcome:
    """After a 429 Too Many Requests the consumer must send nothing for as long as the
    answer's ``Retry-After`` says (a number of seconds or an HTTP date; 0 means at once), then
    retry. A 429 without ``Retry-After`` still asks for a backoff (at least 100 ms). Requests
    sent sooner are findings."""
    limited = [e for e in j.data if e.status == 429]
    if not limited:
        return skipped("no request was answered 429")
    for answer in limited:
        wait, why = required_wait(j, answer)
        too_soon = _too_soon(j, answer, wait)
        if too_soon:
            gap = too_soon[0].start - answer.end
            raise j.finding(f"a 429 came back and the next request followed {gap:.3f} s later; "
                            f"{why} ({len(too_soon)} request(s) too soon)", answer, *too_soon)
    return passed(f"{len(limited)} 429 answer(s), each waited out")


@consumer_check("OR-CON-RETRY-001", "The consumer waited as asked after a server error",
                "RFC 9110 §10.2.3 Retry-After on 503; HTTP semantics: 5xx retried with backoff")
def backed_off(j: Judgement) -> Outcome:
    """A 500, 502, 503 or 504 answer may be retried. When it carries ``Retry-After`` the
    provider has said how long to wait, and that wins (``Retry-After: 0`` means retry at
    once). Without one the consumer must back off (at least 100 ms, better exponentially) so a
    struggling provider can recover."""
    errors = [e for e in j.data if e.status in SERVER_ERRORS]
    if not errors:
        return skipped("no request was answered with a server error")
    for answer in errors:
        wait, why = required_wait(j, answer)
        too_soon = _too_soon(j, answer, wait)
        if too_soon:
            raise j.finding(f"after a {answer.status} the next request came "
                            f"{too_soon[0].start - answer.end:.3f} s later; {why}",
                            answer, *too_soon)
    told = sum(1 for e in errors if retry_after(j, e) is not None)
    return passed(f"{len(errors)} server error(s), each followed by the wait asked for "
                  f"({told} with Retry-After, {len(errors) - told} without)")


@consumer_check("OR-CON-CONC-001", "At most 5 requests were in flight at once",
                "Infinite Campus partner rules: at most 5 concurrent requests per connection")
def bounded_concurrency(j: Judgement) -> Outcome:
    """Providers limit how many requests one client may have open; Infinite Campus asks for at
    most five. A consumer that fans out (one thread per page) overloads the district's SIS."""
    if not j.all:
        return skipped("the consumer sent no request")
    limit = int(j.header.get("max_concurrency", 5))
    moments = sorted([(e.start, 1, e.seq) for e in j.all] + [(e.end, -1, e.seq) for e in j.all],
                     key=lambda m: (m[0], m[1]))
    open_now: set[int] = set()
    worst: set[int] = set()
    for _, step, seq in moments:
        if step > 0:
            open_now.add(seq)
            if len(open_now) > len(worst):
                worst = set(open_now)
        else:
            open_now.discard(seq)
    if len(worst) > limit:
        overlapping = [e for e in j.all if e.seq in worst]
        raise j.finding(f"{len(worst)} requests were in flight at once (at most {limit})",
                        *overlapping)
    return passed(f"at most {len(worst)} request(s) in flight")
