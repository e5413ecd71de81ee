"""Paging (OR-CON-PAGE): every collection walked to the end, page sizes within the maximum."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from ..recording import Recorded
from .support import NO_REQUESTS


def _covered(pages: list[Recorded]) -> tuple[int, int]:
    """(records covered without a gap from offset 0, the collection's size as last seen)."""
    spans = []
    total = 0
    for page in pages:
        if not page.ok or page.count is None:
            continue
        offset = int(page.params.get("offset", "0") or 0) if page.params.get(
            "offset", "0").isdigit() else 0
        spans.append((offset, offset + page.count))
        # Where the provider sent no X-Total-Count, the count it withheld judges the walk.
        total = int(page.truth("x-total-count") or total)
    reached = 0
    for start, end in sorted(spans):
        if start > reached:
            break
        reached = max(reached, end)
    return reached, total


@consumer_check("OR-CON-PAGE-001", "Every collection it started was walked to the end",
                "OneRoster 1.2 REST binding §3.4 paging; Link rel=next",
                rule_v11="OneRoster 1.1 §3 paging: limit and offset; Link rel=next")
def walked_to_the_end(j: Judgement) -> Outcome:
    """A consumer that reads a collection must read all of it: follow ``Link: rel="next"``, or
    advance ``offset`` by the records actually received until an empty page. A page shorter
    than asked is not the end (providers cap page sizes) and ``X-Total-Count`` can change
    while walking. Gaps and early stops leave students out of the LMS."""
    if not j.walks:
        return skipped("the consumer read no collection")
    short = []
    for (_phase, path, query), pages in j.walks.items():
        reached, total = _covered(pages)
        if reached < total or not any(p.ok for p in pages):
            short.append((path, query, reached, total, pages))
    if short:
        path, query, reached, total, pages = short[0]
        described = f"{path}" + (f" ({dict(query)})" if query else "")
        how_far = (f"read without a gap up to record {reached} of {total}" if total
                   else "never answered with a page")
        raise j.finding(f"{len(short)} walk(s) incomplete: {described} {how_far}",
                        *pages[-3:])
    return passed(f"{len(j.walks)} collection walk(s), each complete")


@consumer_check("OR-CON-PAGE-002", "Page sizes asked stay within the provider's maximum",
                "OneRoster 1.2 REST binding §3.4 paging; Infinite Campus: at most 50,000",
                rule_v11="OneRoster 1.1 §3 paging: limit; Infinite Campus: at most 50,000")
def page_size_within_maximum(j: Judgement) -> Outcome:
    """``limit`` must not exceed what the provider serves per page (50,000 on Infinite
    Campus); larger values are refused or silently cut."""
    if not j.data:
        return skipped(NO_REQUESTS)
    maximum = int(j.header.get("max_limit", 50_000))
    over = [e for e in j.data if e.params.get("limit", "").isdigit()
            and int(e.params["limit"]) > maximum]
    if over:
        raise j.finding(f"limit above {maximum} in {len(over)} request(s)", *over)
    return passed(f"every limit at most {maximum}")
