"""Record kinds whose JSON the store renders from the row's own columns instead of keeping it.

Enrollments and results are most of a district's records, and nearly every value in their JSON
is already a column beside it (demographics, line items and categories nearly so). Keeping the
text as well doubled their size, which put a state-sized district past the free disk of a CI
runner. So a form is declared here once, as the record's keys in order, each read from a
column; the editor stores ``json12``/``json11`` as NULL when the form rendered from the row is
byte for byte the text it was given, and keeps the text otherwise (an escaped string, a number
the column does not hold, a key a consumer's write added, another key order). ``doc_sql``
renders a NULL in SQL when a record is read, so every reader sees the same text it was given,
whichever way it is stored.

What NULL means, per table:
- ``json12``: the 1.2 form below rendered from the columns (a table without one keeps it).
- ``json11``: the 1.1 form below rendered from the columns, and where the table has no 1.1
  form, the record's 1.2 text (the only meaning NULL had before forms).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .tables import DEMOGRAPHIC_VALUES, TAIL, columns


@dataclass(frozen=True)
class Key:
    """One key of a rendered form: its value is ``column``'s text, quoted as a JSON string,
    written as it is (``raw``: the column holds JSON text), or as a compact reference
    ``{"@<ref>":"..."}``. An ``optional`` key is left out where the column is NULL."""

    key: str
    column: str
    ref: str | None = None
    raw: bool = False
    optional: bool = False


def _head() -> tuple[Key, ...]:
    return (Key("sourcedId", "sourcedId"), Key("status", "status"),
            Key("dateLastModified", "dateLastModified"))


_RESULT_FLAGS = (Key("inProgress", "inProgress"), Key("incomplete", "incomplete"),
                 Key("late", "late"), Key("missing", "missing"))

_LINE_ITEM_HEAD = (*_head(), Key("title", "title"), Key("description", "description"),
                   Key("assignDate", "assignDate"), Key("dueDate", "dueDate"),
                   Key("class", "class_id", ref="c"))
_LINE_ITEM_TAIL = (Key("resultValueMin", "resultValueMin", raw=True),
                   Key("resultValueMax", "resultValueMax", raw=True))

# table -> version -> the keys of the form, in order.
FORMS: dict[str, dict[str, tuple[Key, ...]]] = {
    "demographics": {"1.2": (
        *_head(), Key("birthDate", "birthDate"), Key("sex", "sex"),
        # Only the birth state is left out of records often (born abroad); a record missing
        # any other keeps its text.
        *(Key(name, name, optional=name == "stateOfBirthAbbreviation")
          for name in DEMOGRAPHIC_VALUES))},
    "categories": {"1.2": (*_head(), Key("title", "title"),
                           Key("weight", "weight", raw=True, optional=True)),
                   "1.1": (*_head(), Key("title", "title"))},
    "lineItems": {
        "1.2": (*_LINE_ITEM_HEAD, Key("school", "school_id", ref="o"),
                Key("category", "category_id", ref="g"),
                Key("gradingPeriod", "gradingPeriod_id", ref="s"),
                Key("scoreScale", "scoreScale_id", ref="x", optional=True), *_LINE_ITEM_TAIL),
        "1.1": (*_LINE_ITEM_HEAD, Key("category", "category_id", ref="g"),
                Key("gradingPeriod", "gradingPeriod_id", ref="s"), *_LINE_ITEM_TAIL),
    },
    "enrollments": {"1.2": (
        *_head(), Key("user", "user_id", ref="u"), Key("class", "class_id", ref="c"),
        Key("school", "school_id", ref="o"), Key("role", "role"),
        Key("primary", "primary_", optional=True), Key("beginDate", "beginDate", optional=True),
        Key("endDate", "endDate", optional=True))},
    "results": {
        "1.2": (*_head(), Key("lineItem", "lineItem_id", ref="l"),
                Key("student", "student_id", ref="u"), Key("class", "class_id", ref="c"),
                Key("scoreStatus", "scoreStatus"), Key("score", "score", raw=True, optional=True),
                Key("scoreDate", "scoreDate"), Key("comment", "comment", optional=True),
                *_RESULT_FLAGS),
        "1.1": (*_head(), Key("lineItem", "lineItem_id", ref="l"),
                Key("student", "student_id", ref="u"), Key("scoreStatus", "scoreStatus"),
                Key("score", "score", raw=True), Key("scoreDate", "scoreDate"),
                Key("comment", "comment", optional=True)),
    },
}


# --- rendering in Python: deciding what to store ---------------------------------------------

def _pieces(key: Key, first: bool) -> tuple[str, str]:
    """The literal text before and after a key's value."""
    lead = "{" if first else ","
    if key.ref is not None:
        return f'{lead}"{key.key}":{{"@{key.ref}":"', '"}'
    if key.raw:
        return f'{lead}"{key.key}":', ""
    return f'{lead}"{key.key}":"', '"'


def _renderer(table: str, keys: tuple[Key, ...]) -> Callable[[tuple], str | None]:
    """``render(row)``: the form's text from a row, or None where a required column is NULL or
    a column holds something other than text. Compiled to one expression, like the row makers:
    the builder renders every record it writes."""
    order = columns(table)
    terms = []
    for i, key in enumerate(keys):
        before, after = _pieces(key, i == 0)
        value = f"r[{order.index(key.column)}]"
        if key.optional:
            # ``+`` and ``join`` both refuse anything but text: a number or a bool in a column
            # would otherwise come out as Python writes it, not as SQL does.
            term = f"{before!r} + {value}" + (f" + {after!r}" if after else "")
            terms.append(f"({term} if {value} is not None else '')")
        else:
            terms += [repr(before), value] + ([repr(after)] if after else [])
    source = (f"def render(r):\n    try:\n        return ''.join(({', '.join(terms)}, '}}'))\n"
              f"    except TypeError:\n        return None\n")
    scope: dict = {}
    exec(compile(source, f"<form renderer {table}>", "exec"), scope)
    return scope["render"]  # type: ignore[no-any-return]


_RENDER = {(table, version): _renderer(table, keys)
           for table, forms in FORMS.items() for version, keys in forms.items()}


def _compactor(table: str) -> Callable[[tuple], tuple]:
    at = columns(table).index(TAIL[0])
    render12, render11 = _RENDER.get((table, "1.2")), _RENDER.get((table, "1.1"))

    def compact_row(row: tuple) -> tuple:
        text12, text11 = row[at], row[at + 1]
        if text11 is None:
            text11 = text12
        stored12 = None if render12 is not None and render12(row) == text12 else text12
        default11 = render11(row) if render11 is not None else text12
        return (*row[:at], stored12, None if text11 == default11 else text11, *row[at + 2:])

    return compact_row


_COMPACT = {table: _compactor(table) for table in FORMS}


def compact(table: str, row: tuple) -> tuple:
    """``row`` as stored: its JSON texts NULL where the table's forms render them exactly."""
    compact_row = _COMPACT.get(table)
    return row if compact_row is None else compact_row(row)


# --- rendering in SQL: reading ----------------------------------------------------------------

def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _render_sql(keys: tuple[Key, ...], source: str) -> str:
    # One printf per record: a chain of ``||`` copies the text it has built so far once per
    # piece, which made a rendered page of 1,000 enrollments take half again as long to read.
    pattern, values = [], []
    for i, key in enumerate(keys):
        before, after = _pieces(key, i == 0)
        value = f'{source}."{key.column}"'
        if key.optional:
            pattern.append("%s")
            term = f"{_literal(before)} || {value}" + (f" || {_literal(after)}" if after else "")
            values.append(f"coalesce({term}, '')")
        else:
            pattern.append(before.replace("%", "%%") + "%s" + after.replace("%", "%%"))
            values.append(value)
    pattern.append("}")
    return f"printf({_literal(''.join(pattern))}, {', '.join(values)})"


def doc_sql(table: str, version: str, alias: str | None = None) -> str:
    """The SQL expression of a record's JSON text in ``version`` ("1.2" or "1.1"), with
    compact references; ``alias`` names the table in the query when it is not ``table``."""
    source = f'"{alias or table}"'
    forms = FORMS.get(table, {})
    doc12 = f'{source}."json12"'
    if "1.2" in forms:
        doc12 = f"coalesce({doc12}, {_render_sql(forms['1.2'], source)})"
    if version == "1.2":
        return doc12
    if "1.1" in forms:
        return f'coalesce({source}."json11", {_render_sql(forms["1.1"], source)})'
    return f'coalesce({source}."json11", {doc12})'


def texts_sql(table: str, alias: str | None = None) -> str:
    """Two result columns: the record's 1.2 text and its 1.1 text where that differs (else
    NULL), as a writer copying or editing a record wants them."""
    doc12 = doc_sql(table, "1.2", alias)
    return f"{doc12}, nullif({doc_sql(table, '1.1', alias)}, {doc12})"
