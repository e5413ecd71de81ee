"""What the consumer check modules share."""

from __future__ import annotations

from ..recording import Recorded

# Why a check that judges the consumer's OneRoster requests is skipped when there were none:
# nothing was judged, so nothing passed.
NO_REQUESTS = "the consumer sent no OneRoster request"


def listed(exchanges: list[Recorded], limit: int = 3) -> str:
    """``#seq METHOD path`` of the first few exchanges, for messages."""
    return ", ".join(f"#{e.seq} {e.method} {e.path}" for e in exchanges[:limit])
