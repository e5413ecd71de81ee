"""Syncs: how each connection walks each collection, page by page.

A walk is a run of GETs on one collection path with the same filter, sort and fields,
starting at offset 0; a request at offset 0 starts the next walk, and the page shows the latest
walk of each (with how many there were). Each page is set against the
walk so far: an offset past the records already read is a gap (records never read), one
before it an overlap (records read twice). Records read are compared with ``X-Total-Count``.
Per connection, token renewals and 429s: a 429 is waited out when the connection's next
request came no sooner than its ``Retry-After``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

PAGING_KEYS = frozenset({"limit", "offset"})


@dataclass
class Walk:
    path: str
    query: str  # what selects the records: filter, sort, fields (no limit or offset)
    started: float
    number: int = 1  # the how-manieth walk of this path and selection
    pages: int = 0
    read: int = 0
    total: int | None = None
    next_offset: int = 0
    gaps: int = 0  # records skipped over
    overlaps: int = 0  # records read twice
    page_sizes: list[int] = field(default_factory=list)
    rate_limited: int = 0
    errors: int = 0
    last: float = 0.0

    @property
    def complete(self) -> bool:
        return self.total is not None and self.next_offset >= self.total

    @property
    def sizes(self) -> str:
        """The page sizes seen, in order, runs folded: ``100 x 5, 37``."""
        runs: list[list[int]] = []
        for size in self.page_sizes:
            if runs and runs[-1][0] == size:
                runs[-1][1] += 1
            else:
                runs.append([size, 1])
        return ", ".join(f"{size} x {n}" if n > 1 else str(size) for size, n in runs)


@dataclass
class ConnectionSyncs:
    # The latest walk of each path and selection (an earlier one ends when the next begins).
    walks: dict[tuple[str, str], Walk] = field(default_factory=dict)
    token_requests: int = 0
    rate_limited: int = 0
    waited_out: int = 0
    retried_early: int = 0
    last_sync: float | None = None  # when a walk last reached the end of its collection
    _pending_429: tuple[float, float] | None = None  # (answered at, Retry-After seconds)

    @property
    def token_renewals(self) -> int:
        return max(0, self.token_requests - 1)

    def all_walks(self) -> list[Walk]:
        """The latest walk of each path and selection, the most recently read first."""
        return sorted(self.walks.values(), key=lambda w: -w.last)


def _selection(query: str) -> tuple[str, int | None, int | None]:
    """The query without paging, and its offset and limit (None when absent or unreadable)."""
    items = parse_qsl(query, keep_blank_values=True)
    kept = "&".join(f"{k}={v}" for k, v in items if k not in PAGING_KEYS)
    values = {k: v for k, v in items if k in PAGING_KEYS}
    numbers = [int(values[k]) if values.get(k, "").isdigit() else None
               for k in ("offset", "limit")]
    return kept, numbers[0], numbers[1]


def is_collection_read(record: dict[str, Any]) -> bool:
    return (record["method"] == "GET" and "/ims/oneroster/" in record["path"]
            and "/discovery/" not in record["path"] and record.get("total") is not None)


class Syncs:
    def __init__(self) -> None:
        self._by_connection: dict[str, ConnectionSyncs] = {}

    def of(self, connection: str) -> ConnectionSyncs:
        return self._by_connection.setdefault(connection, ConnectionSyncs())

    def connections(self) -> list[str]:
        return sorted(name for name in self._by_connection if name)

    def observe(self, record: dict[str, Any], token_request: bool) -> None:
        name = record.get("connection")
        if not name:
            return
        syncs = self.of(name)
        if syncs._pending_429 is not None:
            answered, wait = syncs._pending_429
            syncs._pending_429 = None
            if record["at"] - answered >= wait - 0.05:  # clocks round to milliseconds
                syncs.waited_out += 1
            else:
                syncs.retried_early += 1
        if token_request:
            syncs.token_requests += 1
            return
        status = record.get("status")
        if status == 429:
            syncs.rate_limited += 1
            syncs._pending_429 = (record["at"], float(record.get("retry_after") or 0))
        if record["method"] != "GET" or "/ims/oneroster/" not in record["path"]:
            return
        selection, offset, _ = _selection(record.get("query") or "")
        key = (record["path"], selection)
        walk = syncs.walks.get(key)
        if status != 200:
            if walk is not None:
                walk.rate_limited += status == 429
                walk.errors += status != 429
                walk.last = record["at"]
            return
        if not is_collection_read(record):
            return
        offset = offset or 0
        if walk is None or (offset == 0 and walk.pages):
            number = walk.number + 1 if walk is not None else 1
            walk = syncs.walks[key] = Walk(record["path"], selection, record["at"], number)
        if offset > walk.next_offset:
            walk.gaps += offset - walk.next_offset
        elif offset < walk.next_offset:
            walk.overlaps += walk.next_offset - offset
        count = int(record.get("count") or 0)
        walk.pages += 1
        walk.read += count
        walk.page_sizes.append(count)
        walk.total = record["total"]
        walk.next_offset = max(walk.next_offset, offset + count)
        walk.last = record["at"]
        if walk.complete:
            syncs.last_sync = record["at"]


__all__ = ["ConnectionSyncs", "Syncs", "Walk"]
