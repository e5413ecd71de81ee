"""The live parts of the Traffic page: the Server-Sent Events stream and one exchange's
detail with its copy-as-curl command."""

from __future__ import annotations

import asyncio
import json
import shlex
from collections.abc import AsyncIterator
from typing import Any

from .core import Inspector
from .feed import Subscriber

HEARTBEAT = 10.0  # seconds between comments that keep proxies from closing the stream
STREAM_FOR = 60.0  # a stream ends after this and the browser reconnects (Last-Event-ID)
BATCH = 200  # records sent in one write at most
CURL_HEADERS = ("authorization", "content-type", "accept", "x-vendor-authorization")


def _event(record: dict[str, Any], subscriber: Subscriber) -> str:
    data = json.dumps({"record": record, "dropped": subscriber.dropped},
                      ensure_ascii=False, separators=(",", ":"))
    return f"id: {record['seq']}\nevent: exchange\ndata: {data}\n\n"


async def event_stream(inspector: Inspector, last_seen: int) -> AsyncIterator[str]:
    """Records after ``last_seen`` from the ring, then each new one as it is published."""
    feed = inspector.feed
    subscriber = feed.subscribe()
    try:
        yield "retry: 1000\n\n"
        for record in reversed(feed.recent()):
            if record["seq"] > last_seen:
                yield _event(record, subscriber)
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_FOR
        while loop.time() < ends:
            try:
                record = await asyncio.wait_for(subscriber.queue.get(), HEARTBEAT)
            except TimeoutError:
                yield ": still here\n\n"
                continue
            # Whatever else is already waiting goes out in the same write: at hundreds of
            # requests a second one write per record is what would fall behind.
            batch = [record]
            while len(batch) < BATCH and not subscriber.queue.empty():
                batch.append(subscriber.queue.get_nowait())
            yield "".join(_event(r, subscriber) for r in batch)
    finally:
        feed.unsubscribe(subscriber)


def curl_command(record: dict[str, Any], detail: dict[str, Any]) -> str:
    """The request as a curl command, with the secrets as masked as the detail shows them."""
    parts = ["curl", "-X", record["method"], shlex.quote(detail["url"])]
    for name in CURL_HEADERS:
        value = detail["request_headers"].get(name)
        if value is not None:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = detail.get("request_body")
    if isinstance(body, dict) and "x-www-form-urlencoded" in \
            detail["request_headers"].get("content-type", ""):
        for key, value in body.items():
            parts += ["--data-urlencode", shlex.quote(f"{key}={value}")]
    elif body is not None:
        parts += ["--data", shlex.quote(json.dumps(body, ensure_ascii=False))]
    return " ".join(parts)


__all__ = ["curl_command", "event_stream"]
