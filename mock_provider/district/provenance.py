"""What happened to a district file since it was generated: ticks, rollovers, clock jumps and
grade-book writes, read from its meta table.

A file is "the generated district" only while nothing has happened to it; the commands that
need the generated data (generate, its CSV export, the checkers' embedded mocks) use it only
then, and ``serve`` says at start when it serves a district that has moved on.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# meta keys: the clock at generation (written by the build), and the counters the writers
# keep (tick and rollover count their own; every committed grade-book write adds one).
GENERATED_CLOCK = "generated_clock"
WRITES = "writes"


@dataclass(frozen=True)
class Changes:
    """A district file's history since generation."""

    clock: str
    generated_clock: str
    ticks: int = 0
    rollovers: int = 0
    writes: int = 0

    @property
    def any(self) -> bool:
        return bool(self.ticks or self.rollovers or self.writes
                    or self.clock != self.generated_clock)

    def describe(self) -> str:
        """One clause: ``clock X (generated Y), 1 tick, 0 rollovers, 3 grade-book writes``."""
        def count(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        return (f"clock {self.clock} (generated {self.generated_clock}), "
                f"{count(self.ticks, 'tick')}, {count(self.rollovers, 'rollover')}, "
                f"{count(self.writes, 'grade-book write')}")


def changes_of(meta: dict[str, str]) -> Changes:
    """The history a file's meta table records. A file without a generated clock predates
    this record and cannot vouch for itself, so it counts as changed."""
    clock = meta.get("clock", "")
    return Changes(clock=clock, generated_clock=meta.get(GENERATED_CLOCK, "(unknown)"),
                   ticks=_number(meta.get("ticks")), rollovers=_number(meta.get("rollovers")),
                   writes=_number(meta.get(WRITES)))


def count_write(conn: sqlite3.Connection) -> None:
    """Add one grade-book write to the file's record; call inside the write's transaction so
    the count and the write commit together."""
    conn.execute(f"INSERT INTO meta (key, value) VALUES ('{WRITES}', '1') ON CONFLICT (key) "
                 "DO UPDATE SET value = CAST(value AS INTEGER) + 1")


def _number(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


__all__ = ["GENERATED_CLOCK", "WRITES", "Changes", "changes_of", "count_write"]
