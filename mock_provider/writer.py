"""Writing to a finished district file while it is being served.

The served ``Store`` holds a read-only connection. Changes (the simulated clock's ticks, later
grade-book writes) go through a separate writer connection to the same file, and records
through ``mock_provider.editor.RecordEditor``. The file runs in
WAL mode, so readers keep answering from the last committed state while a write is under way
and see the whole change at once when it commits; with ``synchronous = FULL`` a committed change
survives a crash or a power cut.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# How long a writer waits for another writer (another thread or server process) to finish.
BUSY_TIMEOUT_MS = 30_000


def open_writer(path: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A read-write connection to the district file at ``path``, separate from any ``Store``.

    Transactions are explicit (``isolation_level=None``): use ``in_transaction``. The file must
    exist; this never creates a database.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no district file at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=busy_timeout_ms / 1000)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"{path} cannot run in WAL mode (got {mode!r})")
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work(conn)`` inside one ``BEGIN IMMEDIATE`` transaction: all of it commits, or, if
    it raises (anything, KeyboardInterrupt included), none of it does.

    IMMEDIATE takes the write lock up front, so two writers never interleave: the second waits
    (up to the busy timeout) and then sees everything the first committed.
    """
    if conn.in_transaction:
        raise RuntimeError("in_transaction: the connection is already inside a transaction")
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


__all__ = ["BUSY_TIMEOUT_MS", "in_transaction", "open_writer"]
