"""The district store: one SQLite file per generated district.

Each record keeps its 1.2 and 1.1 JSON pre-serialized (``json11`` is NULL where the two are the
same), so serving a page is an indexed lookup plus a concatenation. The columns beside the JSON
are what consumers page, filter and sort on. A finished file runs in WAL mode with full
synchronous commits, so later writes (grade book) survive a crash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from .refs import render_refs
from .tables import (
    ALL_TABLES,
    HEAD,
    NOT_IN_V11,
    RECORD_TABLES,
    SIDE_TABLES,
    columns,
    index_statements,
)


class StoreError(Exception):
    """The district file is missing, unfinished or not a district store."""


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for table in RECORD_TABLES:
        cols = ", ".join(columns(table))
        conn.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {cols})")
    for table in SIDE_TABLES:
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns(table))})")


def insert_rows(conn: sqlite3.Connection, table: str, rows: Iterable[tuple],
                seq_base: int | None = None) -> None:
    """Insert rows in the table's column order; record rows get ``seq`` from ``seq_base + 1``
    on when it is given (so separately built parts of a district never collide)."""
    cols = columns(table)
    if seq_base is not None and table in RECORD_TABLES:
        cols = ("seq", *cols)
        rows = ((seq_base + i, *row) for i, row in enumerate(rows, start=1))
    marks = ", ".join("?" * len(cols))
    conn.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)


def create_indexes(conn: sqlite3.Connection) -> None:
    for table in RECORD_TABLES:
        conn.execute(f"CREATE UNIQUE INDEX {table}_sourcedId ON {table} (sourcedId)")
        conn.execute(f"CREATE INDEX {table}_dlm ON {table} (dateLastModified)")
        # (hidden, seq) order: serves `hidden = 0 ORDER BY seq` pages and counts from the
        # index alone, so deep offsets skip index entries instead of record pages.
        conn.execute(f"CREATE INDEX {table}_hidden ON {table} (hidden)")
    for statement in index_statements():
        conn.execute(statement)


class Store:
    """Read access to a finished district file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"no district file at {self.path}")
        try:
            self.conn = sqlite3.connect(self.path, check_same_thread=False)
            self.conn.execute("PRAGMA query_only = ON")
            meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a district store ({exc})") from exc
        if meta.get("complete") != "1":
            raise StoreError(f"{self.path} is an unfinished district build")
        self.meta: dict[str, str] = meta
        # Collection sizes remembered by query.page.fetch_page for this connection.
        self.counts: dict = {}

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def count(self, table: str, include_hidden: bool = False) -> int:
        where = "" if include_hidden or table in SIDE_TABLES else " WHERE hidden = 0"
        return self.conn.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0]

    def counts(self) -> dict[str, int]:
        return {table: self.count(table) for table in RECORD_TABLES}

    def iter_json(self, table: str, version: str = "1.2", include_hidden: bool = False,
                  since: str | None = None) -> Iterator[str]:
        """Stored JSON texts in store order (hrefs still tokenised)."""
        if version == "1.1" and table in NOT_IN_V11:
            return
        col = "coalesce(json11, json12)" if version == "1.1" else "json12"
        clauses = [] if include_hidden else ["hidden = 0"]
        params: list[str] = []
        if since is not None:
            clauses.append("dateLastModified > ?")
            params.append(since)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        for (text,) in self.conn.execute(f"SELECT {col} FROM {table}{where} ORDER BY seq",
                                         params):
            yield text

    def iter_records(self, table: str, version: str = "1.2", base_url: str = "",
                     include_hidden: bool = False, since: str | None = None) -> Iterator[dict]:
        for text in self.iter_json(table, version, include_hidden, since):
            yield json.loads(render_refs(text, version, base_url))

    def get(self, table: str, sourced_id: str, version: str = "1.2",
            base_url: str = "") -> dict | None:
        col = "coalesce(json11, json12)" if version == "1.1" else "json12"
        row = self.conn.execute(f"SELECT {col} FROM {table} WHERE sourcedId = ?",
                                (sourced_id,)).fetchone()
        return None if row is None else json.loads(render_refs(row[0], version, base_url))

    def quirk_manifest(self) -> dict[str, dict[str, object]]:
        """Each quirk present: how many records it touched, of which kind, and their ids."""
        manifest: dict[str, dict[str, object]] = {}
        for quirk, kind, sourced_id in self.conn.execute(
            "SELECT quirk, kind, sourcedId FROM quirks ORDER BY rowid"
        ):
            entry = manifest.setdefault(quirk, {"kind": kind, "count": 0, "sourcedIds": []})
            entry["count"] += 1  # type: ignore[operator]
            entry["sourcedIds"].append(sourced_id)  # type: ignore[union-attr]
        return manifest

    def content_hash(self) -> str:
        """A SHA-256 over every table's rows in store order: equal iff the data is equal."""
        digest = hashlib.sha256()
        for table in ALL_TABLES:
            digest.update(f"\x1e{table}\x1e".encode())
            order = "seq" if table in RECORD_TABLES else "rowid"
            for row in self.conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):
                digest.update("\x1f".join("\x00" if v is None else str(v) for v in row).encode())
                digest.update(b"\n")
        return digest.hexdigest()


def copy_district(source: str | Path, target: str | Path) -> Path:
    """A private copy of a district file (SQLite's backup: consistent even while the source is
    being written), for a run that writes to its district and must leave the source as it
    was."""
    target = Path(target)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


__all__ = ["HEAD", "Store", "StoreError", "copy_district", "create_indexes", "create_schema",
           "insert_rows", "render_refs"]
