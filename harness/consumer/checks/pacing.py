"""Pacing (OR-CON-RATE, OR-CON-RETRY, OR-CON-CONC): Retry-After honoured, backoff after server
errors, at most five requests in flight."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check

RETRY_AFTER_SLACK = 0.05  # seconds of clock and scheduling noise forgiven


MIN_BACKOFF = 0.1  # seconds a consumer waits at least before retrying a 5xx


@consumer_check("OR-CON-RATE-001", "Retry-After was honoured after a 429",
                "RFC 6585 §4 and RFC 9110 §10.2.3 Retry-After; Infinite Campus partner rules")
def honoured_retry_after(j: Judgement) -> Outcome:
    """After a 429 Too Many Requests with ``Retry-After: N`` the consumer must send nothing
    for N seconds, then retry. Requests sent sooner are findings."""
    limited = [e for e in j.data if e.status == 429]
    if not limited:
        return skipped("no request was answered 429")
    for answer in limited:
        wait = _seconds(answer.header("retry-after"))
        too_soon = [e for e in j.data
                    if answer.end < e.start < answer.end + wait - RETRY_AFTER_SLACK]
        if too_soon:
            gap = too_soon[0].start - answer.end
            raise j.finding(f"a 429 asked for {wait:g} s of quiet; the next request came "
                            f"after {gap:.3f} s ({len(too_soon)} request(s) too soon)",
                            answer, *too_soon)
    return passed(f"{len(limited)} 429 answer(s), each waited out")


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value or 0))
    except ValueError:
        return 0.0


@consumer_check("OR-CON-RETRY-001", "The consumer backed off after a server error",
                "HTTP semantics: 5xx answers are retried with backoff")
def backed_off(j: Judgement) -> Outcome:
    """A 500, 502, 503 or 504 answer may be retried, but not at once: wait (at least 100 ms,
    better an exponential backoff) before the next request, so a struggling provider can
    recover."""
    errors = [e for e in j.data if e.status in (500, 502, 503, 504)]
    if not errors:
        return skipped("no request was answered with a server error")
    for answer in errors:
        wait = max(MIN_BACKOFF, _seconds(answer.header("retry-after")))
        too_soon = [e for e in j.data
                    if answer.end < e.start < answer.end + wait - RETRY_AFTER_SLACK / 2]
        if too_soon:
            raise j.finding(f"after a {answer.status} the next request came "
                            f"{too_soon[0].start - answer.end:.3f} s later (at least "
                            f"{wait:g} s expected)", answer, *too_soon)
    return passed(f"{len(errors)} server error(s), each followed by a pause")


@consumer_check("OR-CON-CONC-001", "At most 5 requests were in flight at once",
                "Infinite Campus partner rules: at most 5 concurrent requests per connection")
def bounded_concurrency(j: Judgement) -> Outcome:
    """Providers limit how many requests one client may have open; Infinite Campus asks for at
    most five. A consumer that fans out (one thread per page) overloads the district's SIS."""
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
    return passed(f"at most {max(len(worst), 1)} request(s) in flight")
