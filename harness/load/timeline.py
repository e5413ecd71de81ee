"""The night over time, for the charts: every few seconds, what each operation did since the
last look (requests per second, failures, p50/p95/p99) from Locust's running statistics, which
on a master already hold every worker's. Pure: it reads ``stats.entries`` (each entry's
``num_requests``, ``num_failures`` and ``response_times`` histogram) and keeps only numbers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PERCENTILES = (0.5, 0.95, 0.99)


@dataclass
class Point:
    at: float  # seconds since the night began
    requests_per_second: float
    failures_per_second: float
    percentiles: dict[str, float]  # "p50" -> ms, over this interval's answers


@dataclass
class Timeline:
    started: float
    operations: dict[str, list[Point]] = field(default_factory=dict)
    users: list[tuple[float, int]] = field(default_factory=list)
    _last: dict[str, tuple[int, int, dict[int, int]]] = field(default_factory=dict)
    _last_at: float | None = None

    def sample(self, entries: dict[Any, Any], now: float, users: int) -> None:
        """One look at the statistics (``entries``: Locust's ``stats.entries``)."""
        at = now - self.started
        span = now - (self._last_at if self._last_at is not None else self.started)
        self._last_at = now
        self.users.append((round(at, 2), users))
        if span <= 0:
            return
        for entry in list(entries.values()):
            name = f"{entry.method} {entry.name}"
            histogram = dict(entry.response_times)
            before = self._last.get(name, (0, 0, {}))
            self._last[name] = (entry.num_requests, entry.num_failures, histogram)
            count = entry.num_requests - before[0]
            delta = {ms: n - before[2].get(ms, 0) for ms, n in histogram.items()
                     if n - before[2].get(ms, 0) > 0}
            self.operations.setdefault(name, []).append(Point(
                round(at, 2), round(count / span, 2),
                round((entry.num_failures - before[1]) / span, 2),
                {f"p{round(p * 100)}": float(percentile(delta, p)) for p in PERCENTILES}
                if delta else {}))

    def to_dict(self) -> dict[str, Any]:
        return {"started": self.started, "users": self.users,
                "operations": {name: [asdict(p) for p in points]
                               for name, points in self.operations.items()}}


def percentile(histogram: dict[int, int], share: float) -> int:
    """The response time (ms) that ``share`` of the answers in ``histogram`` were within."""
    total = sum(histogram.values())
    if not total:
        return 0
    wanted = share * total
    running = 0
    for ms in sorted(histogram):
        running += histogram[ms]
        if running >= wanted:
            return ms
    return max(histogram)


__all__ = ["PERCENTILES", "Point", "Timeline", "percentile"]
