"""The district store: one SQLite file per generated district.

Each record keeps its 1.2 and 1.1 JSON pre-serialized, or renders them from its columns where
``record_forms`` declares the form (see there for what a NULL text means), so serving a page is
an indexed lookup plus a concatenation. The columns beside the JSON
are what consumers page, filter and sort on. A finished file runs in WAL mode with full
synchronous commits, so later writes (grade book) survive a crash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .record_forms import doc_sql, texts_sql
from .refs import render_refs
from .tables import (
    ALL_TABLES,
    HEAD,
    NOT_IN_V11,
    RECORD_TABLES,
    SIDE_TABLES,
    columns,
    expected_columns,
    index_statements,
)


class StoreError(Exception):
    """The district file is missing, unfinished or not a district store."""


@dataclass(frozen=True)
class Mismatch:
    """A row whose column does not hold what its JSON says (``version`` names the JSON)."""

    table: str
    sourced_id: str
    column: str
    expected: object
    actual: object
    version: str = "1.2"

    def __str__(self) -> str:
        if self.column in ("json12", "json11"):
            return f"{self.table} {self.sourced_id}: {self.column} is not {self.expected}: " \
                   f"{self.actual!r}"
        return (f"{self.table} {self.sourced_id}: {self.column} is {self.actual!r}, its "
                f"{self.version} JSON says {self.expected!r}")


def verify_columns(conn: sqlite3.Connection) -> list[Mismatch]:
    """Every record row whose indexed columns differ from what its 1.2 JSON (and its 1.1
    JSON, where 1.1 carries the value) says, hidden rows included; empty when all agree. A
    row whose JSON does not parse counts as a mismatch of that JSON column. Raises StoreError
    when the file's tables are not a district store's."""
    found: list[Mismatch] = []
    try:
        for table in RECORD_TABLES:
            found += _verify_table(conn, table)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the district tables ({exc})") from exc
    return found


def _parsed(text: object) -> dict | None:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _verify_table(conn: sqlite3.Connection, table: str) -> list[Mismatch]:
    found: list[Mismatch] = []
    names = [c for c in columns(table) if c not in ("hidden", "json12", "json11")]
    has_v11 = table not in NOT_IN_V11
    for row in conn.execute(f"SELECT {', '.join(names)}, {texts_sql(table)} FROM {table} "
                            "ORDER BY seq"):
        stored = dict(zip(names, row, strict=False))
        sid = str(stored["sourcedId"])
        v12 = _parsed(row[-2])
        v11 = _parsed(row[-1]) if row[-1] is not None else v12
        if v12 is None or (row[-1] is not None and v11 is None):
            column, text = ("json12", row[-2]) if v12 is None else ("json11", row[-1])
            found.append(Mismatch(table, sid, column, "a JSON object", str(text)[:60]))
            continue
        for column, values in expected_columns(table, v12, v11 if has_v11 else None).items():
            for version, value in zip(("1.2", "1.1"), values, strict=False):
                if stored[column] != value:
                    found.append(Mismatch(table, sid, column, value, stored[column], version))
    return found


def create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    for table in RECORD_TABLES:
        cols = ", ".join(columns(table))
        conn.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {cols})")
    for table in SIDE_TABLES:
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns(table))})")


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
        self.conn = sqlite3.connect(self.path, check_same_thread=False)
        try:
            self.conn.execute("PRAGMA query_only = ON")
            meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise StoreError(f"{self.path} is not a district store ({exc})") from exc
        if meta.get("complete") != "1":
            self.conn.close()
            raise StoreError(f"{self.path} is an unfinished district build")
        self.meta: dict[str, str] = meta
        # Collection sizes remembered by query.page.fetch_page for this connection (named apart
        # from ``counts()``, which it once shadowed).
        self.page_counts: dict = {}

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
        col = doc_sql(table, version)
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
        col = doc_sql(table, version)
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

    def verify_columns(self) -> list[Mismatch]:
        """See ``verify_columns``: the rows whose columns disagree with their JSON."""
        try:
            return verify_columns(self.conn)
        except StoreError as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def record_count(self) -> int:
        """Every record stored, hidden ones included."""
        return sum(self.count(table, include_hidden=True) for table in RECORD_TABLES)

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


__all__ = ["HEAD", "Mismatch", "Store", "StoreError", "copy_district", "create_indexes",
           "create_schema", "render_refs", "verify_columns"]
