"""What a provider check works with: the target, and the pages and walks earlier checks
already fetched (so the integrity, identity and date checks share one walk of each core
collection per run). Walk sizes are fields of the context, not module constants."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

from ..engine import Finding
from ..exchange import Exchange
from ..target import MAX_BODY, Incident, Target


@dataclass(frozen=True)
class WalkLimits:
    page_size: int = 1_000  # records asked for per page when walking a whole collection
    max_pages: int = 50  # pages per walk at most; a walk also takes <= 1/4 of the budget


@dataclass
class Walk:
    """A collection read page by page: its records, the pages they came from, and whether the
    walk reached the end (``complete``) or stopped at the page cap."""

    path: str
    records: list[dict]
    exchanges: list[Exchange]
    starts: list[int]  # index in ``records`` of each page's first record
    complete: bool
    seen: set[str] = field(default_factory=set)  # sourcedIds read so far

    def exchange_for(self, index: int) -> Exchange:
        """The page that served ``records[index]``."""
        return self.exchanges[max(0, bisect.bisect_right(self.starts, index) - 1)]

    @property
    def extent(self) -> str:
        """Empty for a complete walk, else a note (for messages) of how much was read."""
        return "" if self.complete else (f" (partial: the first {len(self.records)} records of "
                                         f"{self.path}, read in {len(self.exchanges)} pages)")


def member(body: object, key: str) -> object:
    """``body[key]`` of a parsed answer, None when the body is not a JSON object or lacks
    the key (a provider's answer may be anything)."""
    return body.get(key) if isinstance(body, dict) else None


def answered(exchange: Exchange) -> str:
    """What the provider did, for a message: ``answered 404``, ``answered 200 with a body that
    is not JSON (text/html)``, ``got no answer (timed out)``; the real cause, not a symptom."""
    if exchange.status is None:
        reason = exchange.text.removeprefix("no answer: ").strip() or "no response"
        return f"got no answer ({reason})"
    said = f"answered {exchange.status}"
    if exchange.cut:
        return f"{said} with a body longer than the checker reads ({MAX_BODY:,} bytes)"
    if not exchange.text.strip():
        return said + " with an empty body" if exchange.status != 204 else said
    if exchange.json() is None:
        kind = exchange.headers.get("content-type", "no content type").split(";")[0]
        return f"{said} with a body that is not JSON ({kind})"
    return said


def walk_pages(target: Target, path: str, envelope: str, params: dict[str, Any] | None = None,
               max_pages: int = WalkLimits.max_pages, page_size: int = WalkLimits.page_size,
               service: str = "rostering") -> Walk:
    """Every page of ``path`` (``page_size`` records each, growing offsets) up to
    ``max_pages``. A walk ends at X-Total-Count or, without that header, at the first empty
    page. Raises Finding when a page is not a 200 with the ``envelope`` list. With a target
    concurrency above 1, the pages after the first are asked for in parallel batches while
    pages come back full."""
    walk = Walk(path, [], [], [], complete=False)
    while len(walk.exchanges) < max_pages and not walk.complete:
        offset = len(walk.records)
        batch = _batch(target, walk, offset, max_pages, page_size)
        exchanges = target.get_many([(path, {**(params or {}), "limit": page_size,
                                             "offset": o}) for o in batch], service)
        for asked, exchange in zip(batch, exchanges, strict=True):
            if asked != len(walk.records) or not _take(walk, exchange, envelope, asked,
                                                       page_size):
                break  # a short page: the later offsets of the batch are not where we are
    return walk


def _batch(target: Target, walk: Walk, offset: int, max_pages: int, page_size: int
           ) -> list[int]:
    """The offsets to ask for next: one, or while pages come back full and the total is known,
    up to ``target.concurrency`` of them."""
    if target.concurrency == 1 or not walk.exchanges or (
            len(walk.records) - walk.starts[-1] < page_size):  # pages are capped: one by one
        return [offset]
    total = walk.exchanges[-1].headers.get("x-total-count", "")
    if not total.isdigit():
        return [offset]
    room = max_pages - len(walk.exchanges)
    return list(range(offset, int(total), page_size))[:min(target.concurrency, room)] or [
        offset]


def _take(walk: Walk, exchange: Exchange, envelope: str, offset: int, page_size: int) -> bool:
    """Add one page to the walk; False once the walk is complete or the page was short."""
    body = exchange.json()
    page = member(body, envelope)
    if exchange.status != 200 or not isinstance(page, list):
        raise Finding(f"GET {walk.path} at offset {offset} {answered(exchange)} without "
                      f"a {envelope!r} list", exchange)
    if walk.exchanges and not page:  # the empty page past the end
        walk.complete = True
        return False
    fresh = [r for r in page if isinstance(r, dict)]
    ids = [r.get("sourcedId") for r in fresh]
    if walk.exchanges and ids and all(i in walk.seen for i in ids):
        raise Finding(f"GET {walk.path} at offset {offset} repeats {len(ids)} records already "
                      "read on earlier pages: the provider ignores offset (or loops)", exchange)
    walk.seen.update(i for i in ids if isinstance(i, str))
    walk.starts.append(offset)
    walk.exchanges.append(exchange)
    walk.records += fresh
    total = exchange.headers.get("x-total-count", "")
    if not page or (total.isdigit() and len(walk.records) >= int(total)):
        walk.complete = True
        return False
    return len(page) == page_size


@dataclass
class Context:
    target: Target
    seed: int = 42  # seeds the generated checks (filters, schemathesis): same seed, same run
    limits: WalkLimits = field(default_factory=WalkLimits)
    first_pages: dict[str, Exchange] = field(default_factory=dict)
    walks: dict[str, Walk | Finding] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # answers checks share, by name

    @property
    def version(self) -> str:
        return self.target.version

    def first_page(self, collection: str) -> Exchange:
        """``GET /<collection>?limit=5``, fetched once per run."""
        if collection not in self.first_pages:
            self.first_pages[collection] = self.target.get(f"/{collection}", {"limit": 5})
        return self.first_pages[collection]

    def walk_pages(self, path: str, envelope: str, params: dict[str, Any] | None = None,
                   max_pages: int | None = None, service: str = "rostering") -> Walk:
        """``walk_pages`` with this run's page size (and page cap unless given)."""
        return walk_pages(self.target, path, envelope, params,
                          self.limits.max_pages if max_pages is None else max_pages,
                          self.limits.page_size, service)

    def walk(self, collection: str) -> Walk:
        """The whole of a core collection (orgs, academicSessions, courses, classes, users,
        enrollments), walked once per run and shared by the checks; raises the same Finding to
        every check when the walk cannot be done."""
        if collection not in self.walks:
            remaining = self.target.max_requests - self.target.requests
            try:
                self.walks[collection] = self.walk_pages(
                    f"/{collection}", collection,
                    max_pages=min(self.limits.max_pages, max(1, remaining // 4)))
            except Finding as finding:
                self.walks[collection] = finding
        walk = self.walks[collection]
        if isinstance(walk, Finding):
            raise walk
        return walk

    def incidents(self, *kinds: str) -> list[Incident]:
        """What the target worked around during the run, of the given kinds."""
        return [i for i in self.target.incidents if i.kind in kinds]
