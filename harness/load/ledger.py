"""What the simulated consumers saw, kept for the verdicts: every sync (its walks, lookups and
writes), and the run's troubles (5xx, timeouts, 429s). Pure data, no Locust.

Each process keeps a ``Ledger``; its ``drain`` hands over what changed since the last call as
plain dicts (what a Locust worker sends its master), and ``Night.apply`` merges them, so a local
run and a distributed one end with the same ``NightLog``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

EXAMPLES = 10  # offending items kept per sync or per counter: enough to act on, bounded


@dataclass
class Walk:
    """One collection read page by page, to its end or until it failed."""

    collection: str
    total: int | None = None  # X-Total-Count of the first page (None: not sent)
    last_total: int | None = None  # X-Total-Count of the last page read
    read: int = 0  # records read, repeats included
    distinct: int = 0
    pages: int = 0
    repeated: list[str] = field(default_factory=list)  # a few sourcedIds read twice
    repeats: int = 0
    finished: bool = False
    error: str | None = None

    @property
    def missing(self) -> int:
        """Records X-Total-Count promised that the walk never read (0 when it sent none)."""
        return max(0, self.total - self.distinct) if self.total is not None else 0

    @property
    def extra(self) -> int:
        """Records read beyond X-Total-Count."""
        return max(0, self.distinct - self.total) if self.total is not None else 0


@dataclass
class Sync:
    """One run of one vendor: a full or delta sync, a help desk's batch of lookups, or a
    grade-passback burst. ``finished`` is None while it runs or after it failed."""

    vendor: str
    kind: str
    number: int  # 1 for the vendor's first sync
    started: float
    finished: float | None = None
    error: str | None = None
    walks: list[Walk] = field(default_factory=list)
    lookups: int = 0
    lookups_missed: list[str] = field(default_factory=list)  # "email=x: 0 records"
    writes_acknowledged: int = 0
    writes_refused: list[str] = field(default_factory=list)
    read_back: int = 0  # acknowledged writes read back as written
    read_back_wrong: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.vendor}#{self.number}"

    @property
    def records(self) -> int:
        return sum(w.read for w in self.walks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sync:
        walks = [Walk(**w) for w in data.get("walks", [])]
        return cls(**{**data, "walks": walks})


TROUBLES = ("server_errors", "timeouts", "throttled_with_retry_after",
            "throttled_without_retry_after", "transport_errors", "token_failures")


@dataclass
class Troubles:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TROUBLES, 0))
    examples: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in TROUBLES})


class Ledger:
    """One process's record, safe to share between the vendors of that process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed: dict[str, Sync] = {}
        self._troubles = Troubles()
        self.syncs: dict[str, Sync] = {}

    def begin(self, vendor: str, kind: str, number: int) -> Sync:
        sync = Sync(vendor, kind, number, time.time())
        with self._lock:
            self.syncs[sync.key] = sync
            self._changed[sync.key] = sync
        return sync

    def touch(self, sync: Sync) -> None:
        """``sync`` changed (ended, failed): send it again with the next drain."""
        with self._lock:
            self._changed[sync.key] = sync

    def trouble(self, kind: str, example: str) -> None:
        with self._lock:
            self._troubles.counts[kind] += 1
            if len(self._troubles.examples[kind]) < EXAMPLES:
                self._troubles.examples[kind].append(example)

    def drain(self) -> dict[str, Any]:
        """What changed since the last drain, as plain data."""
        with self._lock:
            changed = [s.to_dict() for s in self._changed.values()]
            self._changed.clear()
            troubles, self._troubles = self._troubles, Troubles()
        return {"syncs": changed, "counts": troubles.counts, "examples": troubles.examples}


class NightLog:
    """Everything every process reported, merged."""

    def __init__(self) -> None:
        self.syncs: dict[str, Sync] = {}
        self.troubles = Troubles()

    def apply(self, report: dict[str, Any]) -> None:
        for data in report.get("syncs", []):
            sync = Sync.from_dict(data)
            self.syncs[sync.key] = sync
        for kind, n in report.get("counts", {}).items():
            self.troubles.counts[kind] = self.troubles.counts.get(kind, 0) + n
        for kind, examples in report.get("examples", {}).items():
            kept = self.troubles.examples.setdefault(kind, [])
            kept.extend(examples[: max(0, EXAMPLES - len(kept))])

    def vendors(self) -> dict[str, list[Sync]]:
        """Each vendor's syncs, in order."""
        found: dict[str, list[Sync]] = {}
        for sync in sorted(self.syncs.values(), key=lambda s: (s.vendor, s.number)):
            found.setdefault(sync.vendor, []).append(sync)
        return found

    def to_dict(self) -> dict[str, Any]:
        return {"syncs": [s.to_dict() for s in sorted(self.syncs.values(),
                                                      key=lambda s: (s.started, s.key))],
                "troubles": asdict(self.troubles)}


__all__ = ["EXAMPLES", "TROUBLES", "Ledger", "NightLog", "Sync", "Troubles", "Walk"]
