"""What the consumer check modules share."""

from __future__ import annotations

from ..recording import Recorded


def listed(exchanges: list[Recorded], limit: int = 3) -> str:
    """``#seq METHOD path`` of the first few exchanges, for messages."""
    return ", ".join(f"#{e.seq} {e.method} {e.path}" for e in exchanges[:limit])
