"""SQL for a filter and a sort, following the rules in the ``fields`` module docstring.

Values only ever travel as ``?`` parameters. JSON paths and column names come from the catalog
(derived from the spec schemas), never from the request. Dates and date-times are normalised by
``values.canonical_time``, registered on the connection as ``oneroster_time`` by
``install_functions`` (``page.fetch_page`` does it when needed).

A provider flavor that serves some values differently from how they are stored (Campus 1.1
user ids) passes ``where_sql`` a ``translate`` callback: it may restate a predicate over the
served values as ``StoredValues``, a set of stored values, which the SQL then tests instead.

A caller that is served records without the references it may not read (a school-scoped
connection, see ``routes.school_scope``) passes a ``visible`` callback, so a filter judges the
record as served: a single reference it cannot read counts as missing, and so does an array
element that is such a reference or an object holding one (a role in another school's org);
an array left with no element is missing too, as it is not served.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import OneRosterError
from .fields import Field, FieldCatalog
from .filter import Bound, Filter, bind
from .values import INSTANT_LEN, MIDNIGHT, canonical_time, day_shift, instant

TIME_FUNCTION = "oneroster_time"


@dataclass(frozen=True)
class StoredValues:
    """A predicate restated over stored text values. ``op`` "=" holds when the field's value
    (for an array field, any element) is one of ``values``; "!=" when the field is present
    (an array: an array) and its value (no element) is one of them, the same complement rule
    as a plain ``!=``."""

    field: Field
    op: str  # "=" or "!="
    values: tuple[str, ...]


# Given one bound predicate: its restatement over stored values, or None to keep it as it is.
Translate = Callable[[Bound], "StoredValues | None"]
# Given a reference's kind code ("o", "u", ...; see ``refs``) and the SQL expression of its
# sourcedId: the condition (and parameters) that the caller may read that record, or None when
# it reads every record of that kind.
Visible = Callable[[str, str], "tuple[str, list] | None"]

_REF_CODE = re.compile(r'\."@([A-Za-z])"$')


def install_functions(conn: sqlite3.Connection) -> None:
    """Register the SQL functions ``where_sql`` uses on ``conn``. Call it once per connection,
    before statements run on it (SQLite refuses to redefine a function mid-statement)."""
    conn.create_function(TIME_FUNCTION, 1, canonical_time, deterministic=True)


def _guard(doc: str, path: str, kind: str) -> str:
    """The value at ``path`` when it has the JSON type ``kind`` needs, else NULL."""
    if kind in ("date", "datetime"):
        return f"json_extract({doc}, '{path}')"  # non-text gives oneroster_time() NULL
    types = "'text'" if kind == "text" else "'integer', 'real'"
    return (f"CASE WHEN json_type({doc}, '{path}') IN ({types}) "
            f"THEN json_extract({doc}, '{path}') END")


def _element(field: Field) -> str:
    """One ``json_each`` row's value for a multi field (alias ``e``), or NULL."""
    kind = "text" if field.kind in ("date", "datetime") else field.kind
    if field.elem_path is None:
        if field.kind in ("date", "datetime"):
            return "e.atom"
        types = "'text'" if kind == "text" else "'integer', 'real'"
        return f"CASE WHEN e.type IN ({types}) THEN e.atom END"
    # json_extract would fail on an element that is not JSON text, so look inside objects only.
    return f"CASE WHEN e.type = 'object' THEN {_guard('e.value', field.elem_path, kind)} END"


def _single(field: Field, catalog: FieldCatalog) -> str:
    """The field's value expression for a single-valued field, NULL when missing."""
    if field.constant is not None:
        source = field.column or _guard(catalog.doc, field.json_path, "text")
        return f"CASE WHEN {source} IS NOT NULL THEN '{field.constant}' END"
    if field.column is not None:
        return field.column
    return _guard(catalog.doc, field.json_path, field.kind)


def _compare(expr: str, field: Field, op: str, value: str | float) -> tuple[str, list]:
    """``expr op value`` for one value expression; NULL (missing) never satisfies it."""
    if op == "~":
        return f"instr(lower({expr}), ?) > 0", [value]
    if field.kind not in ("date", "datetime"):
        return f"{expr} {op} ?", [value]
    key = str(value)
    time = f"{TIME_FUNCTION}({expr})"
    if op in ("=", "!="):
        if len(key) == 10:
            return f"substr({time}, 1, 10) {op} ?", [key]
        # a stored date equals a date-time on its UTC date, a stored date-time on its instant
        negate = "NOT " if op == "!=" else ""
        return f"{time} {negate}IN (?, ?)", [key[:10], key]
    return f"substr({time} || '{MIDNIGHT}', 1, {INSTANT_LEN}) {op} ?", [instant(key)]


def _prefilter(field: Field, op: str, key: str) -> tuple[str, list]:
    """A range on a date column's raw text that the exact test implies, so SQLite can use an
    index: a readable value starts with its local date, within a day of its UTC date."""
    if field.column is None or op == "!=":
        return "", []
    clauses, params = [], []
    day = key[:10]
    if op in ("=", ">", ">="):
        low = day_shift(day, -1)
        if low is not None:
            clauses.append(f"{field.column} >= ?")
            params.append(low)
    if op in ("=", "<", "<="):
        high = day_shift(day, 2)
        if high is not None:
            clauses.append(f"{field.column} < ?")
            params.append(high)
    return " AND ".join(clauses), params


def _single_visible(field: Field, catalog: FieldCatalog,
                    visible: Visible | None) -> tuple[str, list]:
    """For a single reference field, the condition that the caller may read its record
    ("" when it is no reference or every record is readable)."""
    match = _REF_CODE.search(field.json_path) if visible is not None else None
    if match is None:
        return "", []
    assert visible is not None
    found = visible(match.group(1), field.column or _guard(catalog.doc, field.json_path, "text"))
    return found if found is not None else ("", [])


def _entry_visible(field: Field, catalog: FieldCatalog,
                   visible: Visible | None) -> tuple[str, list]:
    """For an array field, the condition that one element (``e``) is served: every reference
    it is or holds is absent or readable ("" when no element can be dropped)."""
    if visible is None:
        return "", []
    paths = dict.fromkeys(f.elem_path for f in catalog.fields.values()
                          if f.multi and f.json_path == field.json_path and f.elem_path)
    clauses, params = [], []
    for path in paths:
        match = _REF_CODE.search(path or "")
        if match is None:
            continue
        ref_id = f"CASE WHEN e.type = 'object' THEN {_guard('e.value', path, 'text')} END"
        found = visible(match.group(1), ref_id)
        if found is not None:
            clauses.append(f"({ref_id} IS NULL OR {found[0]})")
            params += found[1]
    return " AND ".join(clauses), params


def _array_served(field: Field, catalog: FieldCatalog,
                  visible: Visible | None) -> tuple[str, list]:
    """The condition that an array field is served: stored as an array, and when elements
    may be dropped, empty as stored or with an element left."""
    is_array = f"json_type({catalog.doc}, '{field.json_path}') = 'array'"
    served, params = _entry_visible(field, catalog, visible)
    if not served:
        return is_array, []
    each = f"json_each({catalog.doc}, '{field.json_path}') AS e"
    return (f"({is_array} AND (json_array_length({catalog.doc}, '{field.json_path}') = 0 "
            f"OR EXISTS (SELECT 1 FROM {each} WHERE {served})))", params)


def _array_test(field: Field, catalog: FieldCatalog, visible: Visible | None, inner: str,
                inner_params: list, negate: bool) -> tuple[str, list]:
    """An array field holds when some served element satisfies ``inner``; ``negate``: when
    the array is served and no served element does."""
    each = f"json_each({catalog.doc}, '{field.json_path}') AS e"
    served, served_params = _entry_visible(field, catalog, visible)
    element = f"{inner} AND {served}" if served else inner
    test = f"EXISTS (SELECT 1 FROM {each} WHERE {element})"
    if negate:
        present, present_params = _array_served(field, catalog, visible)
        return (f"({present} AND NOT {test})",
                present_params + inner_params + served_params)
    is_array = f"json_type({catalog.doc}, '{field.json_path}') = 'array'"
    return f"({is_array} AND {test})", inner_params + served_params


def _predicate(bound: Bound, catalog: FieldCatalog,
               visible: Visible | None = None) -> tuple[str, list]:
    field, op = bound.field, bound.op
    if not field.multi:
        sql, params = _compare(_single(field, catalog), field, op, bound.value)
        if field.kind in ("date", "datetime"):
            extra, extra_params = _prefilter(field, op, str(bound.value))
            if extra:
                sql, params = f"{extra} AND {sql}", extra_params + params
        readable, readable_params = _single_visible(field, catalog, visible)
        if readable:
            sql, params = f"{sql} AND {readable}", params + readable_params
        return sql, params
    if op == "!=":
        inner, params = _compare(_element(field), field, "=", bound.value)
        return _array_test(field, catalog, visible, inner, params, negate=True)
    inner, params = _compare(_element(field), field, op, bound.value)
    return _array_test(field, catalog, visible, inner, params, negate=False)


def _stored_in(stored: StoredValues, catalog: FieldCatalog,
               visible: Visible | None = None) -> tuple[str, list]:
    """SQL for a ``StoredValues`` predicate (text fields only)."""
    field = stored.field
    if field.kind != "text" or stored.op not in ("=", "!="):
        raise ValueError(f"StoredValues needs a text field and = or != (got {field.name} "
                         f"{stored.op})")
    values = list(dict.fromkeys(stored.values))
    if len(values) <= 50:
        listed, params = f"({', '.join('?' * len(values))})", values
    else:
        listed, params = "(SELECT value FROM json_each(?))", [json.dumps(values)]
    if not field.multi:
        expr = _single(field, catalog)
        if stored.op == "=":
            sql = f"{expr} IN {listed}" if values else "0"
        else:
            sql = f"{expr} IS NOT NULL AND {expr} NOT IN {listed}" if values \
                else f"{expr} IS NOT NULL"
        readable, readable_params = _single_visible(field, catalog, visible)
        if readable and sql != "0":
            return f"{sql} AND {readable}", params + readable_params
        return sql, params
    if not values:
        # "= nothing" never holds; "!= nothing" holds wherever the array is served.
        return ("0", []) if stored.op == "=" else _array_served(field, catalog, visible)
    inner = f"{_element(field)} IN {listed}"
    return _array_test(field, catalog, visible, inner, params, negate=stored.op == "!=")


def where_sql(filter: Filter, catalog: FieldCatalog, translate: Translate | None = None,
              visible: Visible | None = None) -> tuple[str, list]:
    """A parenthesised WHERE fragment (no keyword) and its parameters, safe to AND with other
    conditions. Raises OneRosterError 400 for an unknown field or a value that does not fit.
    ``translate`` may restate predicates over stored values (see ``StoredValues``);
    ``visible`` judges references as a caller served without some of them sees them."""
    parts, params = [], []
    for bound in bind(filter, catalog):
        stored = translate(bound) if translate is not None else None
        if stored is not None:
            sql, values = _stored_in(stored, catalog, visible)
        else:
            sql, values = _predicate(bound, catalog, visible)
        parts.append(f"({sql})")
        params.extend(values)
    return (f"({f' {filter.logical} '.join(parts)})" if len(parts) > 1 else parts[0]), params


def sort_expr(sort: str, catalog: FieldCatalog) -> str:
    """The value ``sort=`` orders by (dates by their stored text; see ``fields``)."""
    if not catalog.sortable(sort):
        raise OneRosterError(400, "invalid_sort_field",
                             f"cannot sort {catalog.table} on '{sort}'")
    field = catalog.fields[sort]
    if field.kind in ("date", "datetime") and field.column is None:
        return _guard(catalog.doc, field.json_path, "text")
    return _single(field, catalog)


def sort_key(sort: str, catalog: FieldCatalog,
             visible: Visible | None = None) -> tuple[str, list]:
    """``sort_expr`` with its parameters, a reference the caller is not served sorting as a
    missing value."""
    expr = sort_expr(sort, catalog)
    readable, params = _single_visible(catalog.fields[sort], catalog, visible)
    return (f"CASE WHEN {readable} THEN {expr} END", params) if readable else (expr, [])


def order_sql(sort: str | None, descending: bool, catalog: FieldCatalog) -> str:
    """An ORDER BY clause: the sort field, then store order so pages are stable."""
    seq = f'"{catalog.table}"."seq"'
    if sort is None:
        return f"ORDER BY {seq}"
    return f"ORDER BY {sort_expr(sort, catalog)}{' DESC' if descending else ''}, {seq}"
