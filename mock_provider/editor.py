"""The one way records are written to a store: ``RecordEditor``.

Every writer (the district builder, the tick, the rollover, reset, grade-book writes) hands
the editor records, never rows: it serializes them, derives the indexed columns with
``tables.record_row`` (its compiled row makers) and writes the row. So a record's columns, its
1.2 JSON and its 1.1 JSON agree by construction, and ``Store.verify_columns`` checks that they
still do.

Without a connection the editor collects rows per table for a bulk load (the builder writes a
zone's rows in one ``executemany``); with one it writes at once, giving each new record the
next ``seq`` of its table, so appended records come after everything stored, in order.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from .record_forms import compact, texts_sql
from .tables import (
    ALL_TABLES,
    HEAD,
    RECORD_COLUMNS,
    RECORD_TABLES,
    ROW_MAKERS,
    columns,
    json_text,
    record_row,
)

_dumps = json_text

Rows = dict[str, list[tuple]]
_HIDDEN = HEAD.index("hidden")
Edit = Callable[[dict, str], None]


def dumps(obj: object) -> str:
    """The store's JSON text: compact, UTF-8 kept as is."""
    return _dumps(obj)


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


def _store_only(table: str) -> frozenset[str]:
    return frozenset(c.name for c in RECORD_COLUMNS[table] if not c.v12)


def set_present(fields: dict[str, object]) -> Edit:
    """An edit setting ``fields`` in each stored form that carries them: a field a form does
    not have stays absent."""
    def edit(obj: dict, version: str) -> None:
        for key, value in fields.items():
            if key in obj:
                obj[key] = value
    return edit


class RecordEditor:
    """Writes records (stamped, serialized, their row derived) to ``conn``, or collects their
    rows in ``rows`` when there is no connection.

    With a connection it also keeps the tally a change report needs: ``changed`` (per table,
    the sourcedIds added or changed, in order) and ``added`` (visible records added).
    """

    def __init__(self, conn: sqlite3.Connection | None = None,
                 stamp: Callable[[], str] | None = None) -> None:
        self.conn = conn
        self.stamp = stamp
        self.rows: Rows = {}
        self.changed: dict[str, dict[str, None]] = {}
        self.added: dict[str, int] = {}
        self._last_seq: dict[str, int] = {}

    # --- new records ---------------------------------------------------------------------

    def add(self, table: str, record: dict, v11: dict | None = None, *, hidden: int = 0,
            text: str | None = None, text11: str | None = None, rendered: bool = False,
            **stored: Any) -> None:
        """A new record from its 1.2 form ``record`` and, when 1.1 words it differently, its
        1.1 form ``v11``. ``text``/``text11`` are the forms already serialized (the hot
        templates of the builder); ``stored`` gives store-only columns.

        ``rendered``: the caller vouches that the table's forms (``record_forms``) write this
        record, and its 1.1 form unless ``text11`` is given, exactly as the serializer would,
        so no text is made or compared. Only the builder does, for its most numerous kinds,
        and tests/test_builder_templates.py holds it to that on a district with every
        quirk."""
        if rendered:
            row = ROW_MAKERS[table](record, v11, hidden, None, text11, stored)
        else:
            if text is None:
                text = _dumps(record)
            if text11 is None and v11 is not None:
                text11 = _dumps(v11)
            row = compact(table, ROW_MAKERS[table](record, v11, hidden, text, text11, stored))
        if self.conn is None:
            # The builder's path, once per generated record: kept to the bare append.
            rows = self.rows.get(table)
            if rows is None:
                rows = self.rows[table] = []
            rows.append(row)
        else:
            self._write(table, row)

    def add_copy(self, table: str, text12: str, text11: str | None,
                 changes: dict[str, object], **stored: Any) -> dict:
        """A new record copied from a stored one (its JSON texts), with ``changes`` set where
        each form carries the key (keys keep their order). Returns the new 1.2 form."""
        edit = set_present(changes)
        obj12 = json.loads(text12)
        edit(obj12, "1.2")
        obj11 = None
        if text11 is not None:
            obj11 = json.loads(text11)
            edit(obj11, "1.1")
        self.add(table, obj12, obj11, **stored)
        return obj12

    def link(self, table: str, *values: object) -> None:
        """One row of a side table (``class_terms``, ``user_orgs``, ``quirks``)."""
        self._write(table, values)

    def _write(self, table: str, row: tuple) -> None:
        if self.conn is None:
            rows = self.rows.get(table)
            if rows is None:
                rows = self.rows[table] = []
            rows.append(row)
            return
        if table not in RECORD_TABLES:
            insert_rows(self.conn, table, [row])
            return
        if table not in self._last_seq:
            self._last_seq[table] = self.conn.execute(
                f"SELECT coalesce(max(seq), 0) FROM {table}").fetchone()[0]
        insert_rows(self.conn, table, [row], self._last_seq[table])
        self._last_seq[table] += 1
        self.changed.setdefault(table, {})[row[0]] = None
        if row[_HIDDEN] == 0:
            self.added[table] = self.added.get(table, 0) + 1

    # --- changing stored records ---------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self.conn is None:
            raise RuntimeError("this editor collects new rows only; it has no connection")
        return self.conn

    def _now(self, when: str | None) -> str:
        if when is not None:
            return when
        if self.stamp is None:
            raise RuntimeError("no dateLastModified given and the editor has no stamp")
        return self.stamp()

    def exists(self, table: str, sourced_id: str) -> bool:
        """Whether a record of that sourcedId is stored, hidden or not."""
        return self._conn().execute(f"SELECT 1 FROM {table} WHERE sourcedId = ?",
                                    (sourced_id,)).fetchone() is not None

    def update(self, table: str, sourced_id: str, edit: Edit, when: str | None = None) -> None:
        """Apply ``edit(obj, version)`` to the record's stored 1.2 and (when kept apart) 1.1
        forms, stamp them with ``when`` (default: the editor's next stamp) and re-derive the
        columns. Store-only columns and ``hidden`` stay as they are."""
        conn = self._conn()
        json12, json11 = conn.execute(
            f"SELECT {texts_sql(table)} FROM {table} WHERE sourcedId = ?",
            (sourced_id,)).fetchone()
        dlm = self._now(when)
        obj12 = json.loads(json12)
        obj12["dateLastModified"] = dlm
        edit(obj12, "1.2")
        obj11 = None
        if json11 is not None:
            obj11 = json.loads(json11)
            obj11["dateLastModified"] = dlm
            edit(obj11, "1.1")
        row = compact(table, record_row(
            table, obj12, dumps(obj12), None if obj11 is None else dumps(obj11), record11=obj11))
        keep = _store_only(table) | {"sourcedId", "hidden"}
        sets = {name: value for name, value in zip(columns(table), row, strict=True)
                if name not in keep}
        assignments = ", ".join(f"{name} = ?" for name in sets)
        conn.execute(f"UPDATE {table} SET {assignments} WHERE sourcedId = ?",
                     (*sets.values(), sourced_id))
        self.changed.setdefault(table, {})[sourced_id] = None

    def set_fields(self, table: str, sourced_id: str, fields: dict[str, object],
                   when: str | None = None) -> None:
        """Set JSON ``fields`` where the stored forms carry them (see ``set_present``)."""
        self.update(table, sourced_id, set_present(fields), when)

    def tombstone(self, table: str, sourced_id: str, when: str | None = None,
                  **fields: object) -> None:
        """Mark a record ``tobedeleted`` (with any other ``fields``), as a SIS does before it
        drops one: it stays visible, with its new status and dateLastModified."""
        self.set_fields(table, sourced_id, {"status": "tobedeleted", **fields}, when)

    def replace(self, table: str, record: dict, v11: dict | None = None, *,
                text11: str | None = None, **stored: Any) -> None:
        """Store ``record`` over the visible record of the same sourcedId, every column
        re-derived (store-only ones from ``stored``)."""
        conn = self._conn()
        text11 = text11 if text11 is not None else None if v11 is None else dumps(v11)
        row = compact(table, record_row(table, record, dumps(record), text11, 0, stored, v11))
        cols = columns(table)
        sets = ", ".join(f"{c} = ?" for c in cols[1:])
        conn.execute(f"UPDATE {table} SET {sets} WHERE sourcedId = ?", (*row[1:], row[0]))

    def hide(self, table: str, where: str, params: Iterable[object] = ()) -> int:
        """Take the visible records matching ``where`` out of every read (they stay stored, as
        last year's records do after a rollover); how many were hidden."""
        cursor = self._conn().execute(
            f"UPDATE {table} SET hidden = 1 WHERE hidden = 0 AND ({where})", tuple(params))
        return cursor.rowcount

    def delete(self, table: str, where: str, params: Iterable[object] = ()) -> int:
        """Remove matching records outright (a grade-book DELETE); how many went."""
        return self._conn().execute(f"DELETE FROM {table} WHERE {where}",
                                    tuple(params)).rowcount

    def replace_all(self, schema: str) -> None:
        """Every record, link and metadata entry replaced by those of the district attached
        as ``schema`` (built with the same layout, so rows copy column for column)."""
        if not schema.isidentifier():
            raise ValueError(f"not a schema name: {schema!r}")
        conn = self._conn()
        for table in (*ALL_TABLES, "meta"):
            conn.execute(f"DELETE FROM main.{table}")
            conn.execute(f"INSERT INTO main.{table} SELECT * FROM {schema}.{table}")

    def set_meta(self, key: str, value: str) -> None:
        self._conn().execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                             (key, value))

__all__ = ["Edit", "RecordEditor", "Rows", "dumps", "insert_rows", "set_present"]
