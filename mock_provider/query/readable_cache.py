"""Which referenced ids a school-scoped reader may follow, kept until the district file changes.

A page of enrollments names a hundred users, and the next page mostly the same ones: the
answer for an id is remembered under the table and the reader's SQL conditions (which name its
schools and flavor rules), and the whole cache is dropped as soon as ``PRAGMA data_version``
shows another connection committed, as the page cache does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Hashable, Iterable


class ReadableIds:
    def __init__(self, max_ids: int = 200_000) -> None:
        self.max_ids = max_ids
        self._known: dict[Hashable, dict[str, bool]] = {}
        self._size = 0
        self._version: int | None = None

    def readable(self, conn: sqlite3.Connection, key: Hashable, ids: Iterable[str],
                 fetch: Callable[[list[str]], set[str]]) -> set[str]:
        """Those of ``ids`` readable under ``key``; ``fetch`` answers for the ids not known
        yet (those it leaves out are unreadable)."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version or self._size > self.max_ids:
            self._known.clear()
            self._size = 0
            self._version = version
        known = self._known.setdefault(key, {})
        unknown = [sid for sid in ids if sid not in known]
        if unknown:
            found = fetch(unknown)
            for sid in unknown:
                known[sid] = sid in found
            self._size += len(unknown)
        return {sid for sid in ids if known[sid]}
