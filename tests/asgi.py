"""Helpers for the deliberately broken providers the tests build as ASGI middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Send = Callable[[dict], Awaitable[None]]


async def answer_of(app: Any, scope: dict, receive: Any) -> tuple[int, list, bytes]:
    """Run ``app`` on one request and collect its whole answer: status, headers, body."""
    start: dict = {}
    chunks: list[bytes] = []

    async def capture(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start["status"], list(start["headers"]), b"".join(chunks)


async def send_answer(send: Send, status: int, headers: list, body: bytes) -> None:
    """Send an answer whole, its Content-Length set to the body's."""
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
