"""The check catalogue: small functions registered with a stable id, a rule and a severity.

A check gets a ``Context`` (the target plus what earlier checks already fetched) and returns an
``Outcome``; raising ``Finding`` is the short way to fail with evidence. Importing this package
registers every check module.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model import Evidence
from ..target import Exchange, Target


@dataclass
class Outcome:
    status: str  # passed | failed | warning | skipped
    message: str
    evidence: list[Evidence] = field(default_factory=list)


class Finding(Exception):
    """A check's verdict of non-conformance, with the exchanges that show it."""

    def __init__(self, message: str, *exchanges: Exchange) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = [e.evidence() for e in exchanges]


WALK_LIMIT = 1_000  # records asked for per page when walking a whole collection
WALK_MAX_PAGES = 50  # pages per walk at most; a walk also takes at most a quarter of the budget


@dataclass
class Walk:
    """A collection read page by page: its records, the pages they came from, and whether the
    walk reached the end (``complete``) or stopped at the page cap."""

    path: str
    records: list[dict]
    exchanges: list[Exchange]
    starts: list[int]  # index in ``records`` of each page's first record
    complete: bool

    def exchange_for(self, index: int) -> Exchange:
        """The page that served ``records[index]``."""
        return self.exchanges[max(0, bisect.bisect_right(self.starts, index) - 1)]

    @property
    def extent(self) -> str:
        """Empty for a complete walk, else a note (for messages) of how much was read."""
        return "" if self.complete else (f" (partial: the first {len(self.records)} records of "
                                         f"{self.path}, read in {len(self.exchanges)} pages)")


def walk_pages(target: Target, path: str, envelope: str, params: dict[str, Any] | None = None,
               max_pages: int = WALK_MAX_PAGES) -> Walk:
    """Every page of ``path`` (limit WALK_LIMIT, growing offsets) up to ``max_pages``. A walk
    ends at X-Total-Count or, without that header, at the first empty page. Raises Finding when
    a page is not a 200 with the ``envelope`` list. With a target concurrency above 1, the
    pages after the first are asked for in parallel batches while pages come back full."""
    walk = Walk(path, [], [], [], complete=False)
    while len(walk.exchanges) < max_pages and not walk.complete:
        offset = len(walk.records)
        batch = _batch(target, walk, offset, max_pages)
        exchanges = target.get_many([(path, {**(params or {}), "limit": WALK_LIMIT,
                                             "offset": o}) for o in batch])
        for asked, exchange in zip(batch, exchanges, strict=True):
            if asked != len(walk.records) or not _take(walk, exchange, envelope, asked):
                break  # a short page: the later offsets of the batch are not where we are
    return walk


def _batch(target: Target, walk: Walk, offset: int, max_pages: int) -> list[int]:
    """The offsets to ask for next: one, or while pages come back full and the total is known,
    up to ``target.concurrency`` of them."""
    if target.concurrency == 1 or not walk.exchanges or (
            len(walk.records) - walk.starts[-1] < WALK_LIMIT):  # pages are capped: one by one
        return [offset]
    total = walk.exchanges[-1].headers.get("x-total-count", "")
    if not total.isdigit():
        return [offset]
    room = max_pages - len(walk.exchanges)
    return list(range(offset, int(total), WALK_LIMIT))[:min(target.concurrency, room)] or [
        offset]


def _take(walk: Walk, exchange: Exchange, envelope: str, offset: int) -> bool:
    """Add one page to the walk; False once the walk is complete or the page was short."""
    body = exchange.json()
    page = body.get(envelope) if isinstance(body, dict) else None
    if exchange.status != 200 or not isinstance(page, list):
        raise Finding(f"GET {walk.path} at offset {offset} answered {exchange.status} without "
                      f"a {envelope!r} list", exchange)
    if walk.exchanges and not page:  # the empty page past the end
        walk.complete = True
        return False
    walk.starts.append(offset)
    walk.exchanges.append(exchange)
    walk.records += [r for r in page if isinstance(r, dict)]
    total = exchange.headers.get("x-total-count", "")
    if not page or (total.isdigit() and len(walk.records) >= int(total)):
        walk.complete = True
        return False
    return len(page) == WALK_LIMIT


@dataclass
class Context:
    target: Target
    seed: int = 42  # seeds the generated checks (filters, schemathesis): same seed, same run
    first_pages: dict[str, Exchange] = field(default_factory=dict)
    walks: dict[str, Walk | Finding] = field(default_factory=dict)

    def first_page(self, collection: str) -> Exchange:
        """``GET /<collection>?limit=5``, fetched once per run."""
        if collection not in self.first_pages:
            self.first_pages[collection] = self.target.get(f"/{collection}", {"limit": 5})
        return self.first_pages[collection]

    def walk(self, collection: str) -> Walk:
        """The whole of a core collection (orgs, academicSessions, courses, classes, users,
        enrollments), walked once per run and shared by the checks; raises the same Finding to
        every check when the walk cannot be done."""
        if collection not in self.walks:
            remaining = self.target.max_requests - self.target.requests
            try:
                self.walks[collection] = walk_pages(
                    self.target, f"/{collection}", collection,
                    max_pages=min(WALK_MAX_PAGES, max(1, remaining // 4)))
            except Finding as finding:
                self.walks[collection] = finding
        walk = self.walks[collection]
        if isinstance(walk, Finding):
            raise walk
        return walk


CheckFunction = Callable[[Context], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    rule: str
    severity: str
    run: CheckFunction
    explanation: str


CHECKS: dict[str, Check] = {}


def check(id: str, title: str, rule: str, severity: str = "error") -> Callable[[CheckFunction],
                                                                              CheckFunction]:
    """Register a check; its docstring is what ``oneroster-harness explain ID`` prints."""

    def register(func: CheckFunction) -> CheckFunction:
        if id in CHECKS:
            raise ValueError(f"check id {id} registered twice")
        explanation = " ".join((func.__doc__ or "").split())
        CHECKS[id] = Check(id, title, rule, severity, func, explanation)
        return func

    return register


def passed(message: str, *exchanges: Exchange) -> Outcome:
    return Outcome("passed", message, [e.evidence() for e in exchanges])


from . import rostering  # noqa: E402,F401  (registers the rostering checks)

# The other check modules, registered in the order the reports list them.
from . import links, errors, scopes, references, identities, dates, data_quality  # noqa: E402,F401  # isort: skip
from . import gradebook, querying, openapi, discovery, google  # noqa: E402,F401  # isort: skip

# Last: what the provider did to the whole run (refused tokens, 429s, 5xx, timeouts).
from . import incidents  # noqa: E402,F401  # isort: skip
