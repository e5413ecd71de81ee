"""The live feed: recent exchanges in a bounded ring, broadcast to the pages that are open.

Every open inspector page is a subscriber with its own bounded queue. Publishing never waits:
a subscriber whose queue is full (a slow or stalled browser) loses that record and the loss is
counted, so a consumer doing hundreds of requests a second is never slowed by a browser.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from typing import Any

KEEP = 1000  # light records kept for a page opened later
KEEP_DETAILS = 200  # full requests and answers kept (bodies are large)
QUEUE_SIZE = 500  # records waiting for one browser before it starts losing them


class Subscriber:
    """One open page: the records not yet sent to it, and how many it lost."""

    def __init__(self, size: int = QUEUE_SIZE) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self.dropped = 0

    def offer(self, record: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(record)
        except asyncio.QueueFull:
            self.dropped += 1


class LiveFeed:
    """Recent exchanges, newest last; ``watched`` while any page is subscribed."""

    def __init__(self, keep: int = KEEP, keep_details: int = KEEP_DETAILS,
                 queue_size: int = QUEUE_SIZE) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=keep)
        self._details: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._keep_details = keep_details
        self._queue_size = queue_size
        self._subscribers: set[Subscriber] = set()
        self._seq = itertools.count(1)

    @property
    def watched(self) -> bool:
        return bool(self._subscribers)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish(self, record: dict[str, Any], detail: dict[str, Any] | None = None) -> None:
        """Number ``record``, keep it (and its ``detail``), offer it to every open page."""
        record["seq"] = next(self._seq)
        record["detail"] = detail is not None
        self._records.append(record)
        if detail is not None:
            self._details[record["seq"]] = detail
            while len(self._details) > self._keep_details:
                self._details.popitem(last=False)
        for subscriber in tuple(self._subscribers):
            subscriber.offer(record)

    def recent(self) -> list[dict[str, Any]]:
        """The kept records, newest first."""
        return list(reversed(self._records))

    def record(self, seq: int) -> dict[str, Any] | None:
        return next((r for r in reversed(self._records) if r["seq"] == seq), None)

    def detail(self, seq: int) -> dict[str, Any] | None:
        return self._details.get(seq)

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber(self._queue_size)
        self._subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)


__all__ = ["LiveFeed", "Subscriber"]
