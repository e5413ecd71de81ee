"""One page of a collection from the store, and field selection on a stored record."""

from __future__ import annotations

import contextlib
import json
import sqlite3

from .fields import catalog
from .params import CollectionQuery
from .sql import (
    TIME_FUNCTION,
    Translate,
    Visible,
    install_functions,
    order_sql,
    sort_key,
    where_sql,
)

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _rows(conn: sqlite3.Connection, sql: str, params: list) -> list[tuple]:
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        # First use on this connection: register the date function and try again.
        if TIME_FUNCTION not in str(exc):
            raise
        # A racing thread may have installed it already and have statements running, which
        # makes SQLite refuse the redefinition; the function is there either way.
        with contextlib.suppress(sqlite3.OperationalError):
            install_functions(conn)
        return conn.execute(sql, params).fetchall()


_COUNTS_MAX = 4096


def _count(conn: sqlite3.Connection, sql: str, params: list, counts: dict | None) -> int:
    """A collection's size, remembered in ``counts`` (one dict per connection) until the file
    changes: consumers walking pages ask for the same total on every page. ``PRAGMA
    data_version`` moves whenever another connection (a tick, a grade-book write) commits."""
    if counts is None:
        return _rows(conn, sql, params)[0][0]
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    key = (version, sql, tuple(params))
    total = counts.get(key)
    if total is None:
        if len(counts) >= _COUNTS_MAX:
            counts.clear()
        total = counts[key] = _rows(conn, sql, params)[0][0]
    return total


ANCHOR_EVERY = 1000


def _anchors(conn: sqlite3.Connection, source: str, where: str, params: list,
             counts: dict) -> list[int]:
    """The seq of every ANCHOR_EVERY-th record of a collection in store order, remembered
    beside the totals (and forgotten with them when the file changes)."""
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    key = ("anchors", ANCHOR_EVERY, version, source, where, tuple(params))
    anchors = counts.get(key)
    if anchors is None:
        rows = conn.execute(f'SELECT {source}."seq" FROM {source}{where} ORDER BY {source}."seq"',
                            params)
        anchors = [seq for i, (seq,) in enumerate(rows) if i % ANCHOR_EVERY == 0]
        if len(counts) >= _COUNTS_MAX:
            counts.clear()
        counts[key] = anchors
    return anchors


def fetch_page(conn: sqlite3.Connection, table: str, version: str, query: CollectionQuery,
               base_where: str = "hidden = 0", base_params: tuple = (),
               counts: dict | None = None, translate: Translate | None = None,
               visible: Visible | None = None, raw: bool = False
               ) -> tuple[int, list[str]] | tuple[int, list[bytes]]:
    """(size of the filtered collection, the page's stored JSON texts in order).

    ``base_where`` scopes the collection (a route's nesting, a role), ANDed with the filter;
    the texts still carry compact refs (``refs.render_refs`` expands them). ``counts``, one
    dict per connection, remembers totals between pages. ``translate`` and ``visible`` go to
    ``where_sql`` (a flavor's filter values that differ from the stored ones; references a
    school-scoped caller is not served). ``raw``: the texts as the stored UTF-8 bytes, not
    decoded (for a page served as stored)."""
    cat = catalog(table, version)
    doc = f"CAST({cat.doc} AS BLOB)" if raw else cat.doc
    clauses = [f"({base_where})"] if base_where.strip() else []
    params = list(base_params)
    if query.filter is not None:
        sql, values = where_sql(query.filter, cat, translate, visible)
        clauses.append(sql)
        params.extend(values)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    source = f'"{table}"'
    total = _count(conn, f"SELECT count(*) FROM {source}{where}", params, counts)
    if query.offset >= total:
        return total, []
    page = [query.limit, query.offset]
    if query.sort is None and counts is not None and query.offset >= ANCHOR_EVERY:
        # Deep pages in store order start from a remembered anchor seq, so OFFSET steps over
        # at most ANCHOR_EVERY rows instead of everything before the page.
        anchors = _anchors(conn, source, where, params, counts)
        start = anchors[query.offset // ANCHOR_EVERY]
        seq = f'{source}."seq"'
        anchored = f"{where} AND {seq} >= ?" if where else f" WHERE {seq} >= ?"
        sql = (f"SELECT {doc} FROM {source}{anchored} {order_sql(None, False, cat)} "
               "LIMIT ? OFFSET ?")
        return total, [row[0] for row in _rows(
            conn, sql, [*params, start, query.limit, query.offset % ANCHOR_EVERY])]
    key_params: list = []
    if query.sort is None:
        sql = (f"SELECT {doc} FROM {source}{where} {order_sql(None, False, cat)} "
               "LIMIT ? OFFSET ?")
    else:
        # Sort only (key, seq) pairs and fetch the JSON of the page's rows afterwards, so the
        # sorter never carries record texts.
        direction = " DESC" if query.descending else ""
        key, key_params = sort_key(query.sort, cat, visible)
        sql = (f"SELECT {doc} FROM (SELECT {source}.\"seq\" AS page_seq, "
               f"{key} AS page_key FROM {source}{where} "
               f"ORDER BY page_key{direction}, page_seq LIMIT ? OFFSET ?) AS page "
               f"JOIN {source} ON {source}.\"seq\" = page.page_seq "
               f"ORDER BY page.page_key{direction}, page.page_seq")
    return total, [row[0] for row in _rows(conn, sql, key_params + params + page)]


def select_fields(text: str, fields: tuple[str, ...] | None) -> str:
    """Only the named top-level keys of a stored record, in the record's own order."""
    if fields is None:
        return text
    wanted = set(fields)
    record = json.loads(text)
    return _dumps({key: value for key, value in record.items() if key in wanted})
