"""One page of a collection from the store, and field selection on a stored record."""

from __future__ import annotations

import contextlib
import json
import sqlite3

from ..memo import remember
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


def _data_version(conn: sqlite3.Connection, counts: dict | None) -> int | None:
    """``PRAGMA data_version``, which moves whenever another connection (a tick, a grade-book
    write) commits: what remembered totals and anchors are keyed by. Asked once per page."""
    return None if counts is None else conn.execute("PRAGMA data_version").fetchone()[0]


def _count(conn: sqlite3.Connection, sql: str, params: list, counts: dict | None,
           version: int | None) -> int:
    """A collection's size, remembered in ``counts`` (one dict per connection) until the file
    changes: consumers walking pages ask for the same total on every page."""
    if counts is None:
        return _rows(conn, sql, params)[0][0]
    return remember(counts, (version, sql, tuple(params)),
                    lambda: _rows(conn, sql, params)[0][0], _COUNTS_MAX)


# Deep pages in store order start from the remembered seq of every ANCHOR_EVERY-th record, so
# OFFSET steps over fewer than ANCHOR_EVERY rows (a list of ints: 20,000 for 2,000,000 users).
ANCHOR_EVERY = 100


def _anchors(conn: sqlite3.Connection, source: str, where: str, params: list,
             counts: dict, version: int | None) -> list[int]:
    """The seq of every ANCHOR_EVERY-th record of a collection in store order, remembered
    beside the totals (and forgotten with them when the file changes)."""
    every = ANCHOR_EVERY

    def scan() -> list[int]:
        rows = conn.execute(
            f'SELECT {source}."seq" FROM {source}{where} ORDER BY {source}."seq"', params)
        return [seq for i, (seq,) in enumerate(rows) if i % every == 0]

    return remember(counts, ("anchors", every, version, source, where, tuple(params)), scan,
                    _COUNTS_MAX)


def _page_select(conn: sqlite3.Connection, table: str, version: str, query: CollectionQuery,
                 base_where: str, base_params: tuple, counts: dict | None,
                 translate: Translate | None, visible: Visible | None, doc: str
                 ) -> tuple[int, str | None, list, bool]:
    """(total, the SELECT of the page's ``doc`` values in order, named ``page_doc``, its
    parameters, whether that SELECT ends in LIMIT, so an aggregate over it keeps its order);
    None for the SELECT when the page is past the end."""
    cat = catalog(table, version)
    clauses = [f"({base_where})"] if base_where.strip() else []
    params = list(base_params)
    if query.filter is not None:
        sql, values = where_sql(query.filter, cat, translate, visible)
        clauses.append(sql)
        params.extend(values)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    source = f'"{table}"'
    doc = f"{doc} AS page_doc"
    data_version = _data_version(conn, counts)
    total = _count(conn, f"SELECT count(*) FROM {source}{where}", params, counts, data_version)
    if query.offset >= total:
        return total, None, [], True
    anchored = query.sort is None and counts is not None and query.offset >= ANCHOR_EVERY
    # A deep page of a whole collection in store order is read along the table from its
    # anchor: SQLite would otherwise pick the hidden index and look every row up by seq, a
    # third of the page's SQLite time at 1,000 records. Only from an anchor: a first page read
    # along the table would step over every hidden record before it (after a rollover, the
    # whole of last year). A filter or a narrower scope keeps its index, which may skip most
    # rows.
    scan = (f"{source} NOT INDEXED" if anchored and query.filter is None
            and base_where.strip() == "hidden = 0" else source)
    if anchored:
        anchors = _anchors(conn, source, where, params, counts, data_version)
        start = anchors[query.offset // ANCHOR_EVERY]
        seq = f'{source}."seq"'
        from_anchor = f"{where} AND {seq} >= ?" if where else f" WHERE {seq} >= ?"
        sql = (f"SELECT {doc} FROM {scan}{from_anchor} {order_sql(None, False, cat)} "
               "LIMIT ? OFFSET ?")
        return total, sql, [*params, start, query.limit, query.offset % ANCHOR_EVERY], True
    page = [query.limit, query.offset]
    if query.sort is None:
        sql = (f"SELECT {doc} FROM {scan}{where} {order_sql(None, False, cat)} "
               "LIMIT ? OFFSET ?")
        return total, sql, params + page, True
    # Sort only (key, seq) pairs and fetch the JSON of the page's rows afterwards, so the
    # sorter never carries record texts.
    direction = " DESC" if query.descending else ""
    key, key_params = sort_key(query.sort, cat, visible)
    sql = (f"SELECT {doc} FROM (SELECT {source}.\"seq\" AS page_seq, "
           f"{key} AS page_key FROM {source}{where} "
           f"ORDER BY page_key{direction}, page_seq LIMIT ? OFFSET ?) AS page "
           f"JOIN {source} ON {source}.\"seq\" = page.page_seq "
           f"ORDER BY page.page_key{direction}, page.page_seq")
    return total, sql, key_params + params + page, False


def fetch_page(conn: sqlite3.Connection, table: str, version: str, query: CollectionQuery,
               base_where: str = "hidden = 0", base_params: tuple = (),
               counts: dict | None = None, translate: Translate | None = None,
               visible: Visible | None = None) -> tuple[int, list[str]]:
    """(size of the filtered collection, the page's stored JSON texts in order).

    ``base_where`` scopes the collection (a route's nesting, a role), ANDed with the filter;
    the texts still carry compact refs (``refs.render_refs`` expands them). ``counts``, one
    dict per connection, remembers totals between pages. ``translate`` and ``visible`` go to
    ``where_sql`` (a flavor's filter values that differ from the stored ones; references a
    school-scoped caller is not served)."""
    total, sql, params, _ = _page_select(conn, table, version, query, base_where, base_params,
                                         counts, translate, visible, catalog(table, version).doc)
    if sql is None:
        return total, []
    return total, [row[0] for row in _rows(conn, sql, params)]


def fetch_page_joined(conn: sqlite3.Connection, table: str, version: str,
                      query: CollectionQuery, base_where: str = "hidden = 0",
                      base_params: tuple = (), counts: dict | None = None,
                      translate: Translate | None = None) -> tuple[int, bytes]:
    """(size of the filtered collection, ``fetch_page``'s texts as the stored UTF-8 bytes,
    joined by commas, never decoded), for a page served as stored.

    In store order SQLite joins the texts itself: one bytes object per page instead of one
    per record (a quarter of a page's SQLite time at 1,000 records)."""
    doc = f"CAST({catalog(table, version).doc} AS BLOB)"
    total, sql, params, limited = _page_select(conn, table, version, query, base_where,
                                               base_params, counts, translate, None, doc)
    if sql is None:
        return total, b""
    if not limited:
        # An ORDER BY without LIMIT in a subquery may be dropped under an aggregate.
        return total, b",".join(row[0] for row in _rows(conn, sql, params))
    # group_concat keeps the order its LIMITed subquery hands the rows in.
    joined = _rows(conn, f"SELECT CAST(group_concat(page_doc, ',') AS BLOB) FROM ({sql})",
                   params)[0][0]
    return total, joined or b""


def select_fields(text: str, fields: tuple[str, ...] | None) -> str:
    """Only the named top-level keys of a stored record, in the record's own order."""
    if fields is None:
        return text
    wanted = set(fields)
    record = json.loads(text)
    return _dumps({key: value for key, value in record.items() if key in wanted})
