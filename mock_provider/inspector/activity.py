"""What each connection has done since the mock started: counted on every request, cheaply
(a few integer increments), so the Connections page is right even when no page was open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class ConnectionActivity:
    requests: int = 0
    errors: int = 0  # answers of 400 and above (and requests that got no answer)
    tokens_issued: int = 0
    last_request: float | None = None  # Unix seconds


class Activity:
    def __init__(self) -> None:
        self._by_connection: dict[str, ConnectionActivity] = {}

    def count(self, record: dict[str, Any], token_issued: bool) -> None:
        name = record.get("connection") or ""
        entry = self._by_connection.setdefault(name, ConnectionActivity())
        entry.requests += 1
        status = record.get("status")
        if status is None or status >= 400:
            entry.errors += 1
        if token_issued:
            entry.tokens_issued += 1
        entry.last_request = record["at"]

    def of(self, connection: str) -> ConnectionActivity:
        return self._by_connection.get(connection, ConnectionActivity())

    def unattributed(self) -> ConnectionActivity:
        """Requests no connection could be named for (no or unknown credentials)."""
        return self.of("")


__all__ = ["Activity", "ConnectionActivity"]
