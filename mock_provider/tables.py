"""The store's table layout, and where each indexed column's value comes from in the record.

Every record table has the same head and tail columns; the middle columns are the values
consumers page, filter and sort on, kept beside the JSON so SQLite can index them.
Where ``record_forms`` declares a kind's form, the JSON texts are NULL when the columns render
them exactly.

Each column is declared once, in ``RECORD_COLUMNS``, with the place in the stored 1.2 JSON its
value is read from and the place in the stored 1.1 JSON that holds the same value. Everything
else is a view of that declaration: the table's column order, ``record_row`` (which derives a
row from a record), ``Store.verify_columns`` (which checks rows against their JSON) and the
query layer's filter-field-to-column map. Adding an indexed column is one line here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# A value's JSON text as the store writes it (the editor's ``dumps``).
json_text = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                             check_circular=False).encode

HEAD = ("sourcedId", "status", "dateLastModified", "hidden")
TAIL = ("json12", "json11")


@dataclass(frozen=True)
class Column:
    """One column beside a record's JSON.

    Paths are dotted keys into the stored JSON, where a reference is ``{"@<code>": id}`` (see
    ``mock_provider.refs``): ``parent.@o`` is the parent org's sourcedId; a number picks an
    array element (``roles.0.role``).
    """

    name: str
    # Where the 1.2 JSON keeps the value; the first path present wins. Empty: the JSON does
    # not carry it at all, and whoever writes the record supplies it (a store-only column).
    v12: tuple[str, ...]
    # Where the 1.1 JSON keeps the same value, or None when 1.1 lacks it or words it another
    # way (then 1.1 filters read the JSON, not the column).
    v11: str | None
    # Whether filters on the 1.2 field at ``v12[0]`` may be answered from this column.
    filters: bool = True
    # Where the 1.1 JSON keeps the value when the 1.2 JSON has it at none of ``v12``.
    fallback11: str | None = None
    # The column holds the value's JSON text (a number as written), for a record form the
    # store renders from its columns (``record_forms``) rather than for queries.
    raw: bool = False


def both(name: str, path: str | None = None) -> Column:
    """A column whose value sits at the same place in the 1.2 and the 1.1 JSON."""
    return Column(name, (path or name,), path or name)


def v12_only(name: str, *paths: str, filters: bool = True,
             fallback11: str | None = None) -> Column:
    return Column(name, paths or (name,), None, filters, fallback11)


def rendered(name: str, path: str | None = None, raw: bool = False) -> Column:
    """A 1.2 value kept beside the JSON only so the store can render the record from its
    columns (``record_forms``); queries read the JSON, as before the column existed."""
    return Column(name, (path or name,), None, False, raw=raw)


# Demographics' values after birthDate and sex, in the order the builder writes them.
DEMOGRAPHIC_VALUES = (
    "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
    "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
    "hispanicOrLatinoEthnicity", "countryOfBirthCode", "stateOfBirthAbbreviation",
    "cityOfBirth", "publicSchoolResidenceStatus")


def store_only(name: str) -> Column:
    return Column(name, (), None, False)


HEAD_COLUMNS = (both("sourcedId"), both("status"), both("dateLastModified"))

RECORD_COLUMNS: dict[str, tuple[Column, ...]] = {
    "orgs": (both("type"), both("identifier"), both("name"), both("parent_id", "parent.@o")),
    "academicSessions": (
        both("type"), both("title"),
        store_only("school_id"),  # a session's school is not part of its JSON
        both("parent_id", "parent.@s"), both("schoolYear"), both("startDate"), both("endDate"),
    ),
    "courses": (both("title"), both("courseCode"), both("school_id", "org.@o"),
                both("schoolYear_id", "schoolYear.@s")),
    "classes": (both("title"), both("classCode"), both("classType"),
                both("school_id", "school.@o"), both("course_id", "course.@C")),
    "users": (
        # The primary 1.2 role; 1.2 filters on every element of roles and 1.1's role uses
        # another vocabulary, so no filter reads this column. A user left with no roles (a
        # quirk, students only) keeps its role in 1.1, where student is the same word.
        v12_only("role", "roles.0.role", filters=False, fallback11="role"),
        both("username"), both("email"), both("identifier"), both("givenName"),
        both("familyName"), v12_only("school_id", "primaryOrg.@o"),
    ),
    "enrollments": (
        both("role"), both("class_id", "class.@c"), both("school_id", "school.@o"),
        both("user_id", "user.@u"), both("primary_", "primary"), both("beginDate"),
        both("endDate"),
    ),
    # 1.1 has no "other"/"unspecified" sex: the column keeps the 1.2 value.
    "demographics": (both("birthDate"), v12_only("sex"),
                     *(rendered(name) for name in DEMOGRAPHIC_VALUES)),
    "categories": (both("title"), store_only("class_id"),  # a category's class is not in it
                   rendered("weight", raw=True)),
    "scoreScales": (v12_only("title"), v12_only("class_id", "class.@c"),
                    v12_only("course_id", "course.@C")),
    "lineItems": (
        both("title"), both("class_id", "class.@c"), v12_only("school_id", "school.@o"),
        both("category_id", "category.@g"),
        Column("gradingPeriod_id", ("gradingPeriod.@s", "academicSession.@s"),
               "gradingPeriod.@s"),
        both("assignDate"), both("dueDate"), rendered("description"),
        rendered("scoreScale_id", "scoreScale.@x"), rendered("resultValueMin", raw=True),
        rendered("resultValueMax", raw=True),
    ),
    "results": (both("lineItem_id", "lineItem.@l"), both("student_id", "student.@u"),
                v12_only("class_id", "class.@c"), both("scoreStatus"), both("scoreDate"),
                rendered("score", raw=True), rendered("comment"), rendered("inProgress"),
                rendered("incomplete"), rendered("late"), rendered("missing")),
    "resources": (both("title"), both("vendorResourceId")),
    "assessmentLineItems": (v12_only("title"), v12_only("class_id", "class.@c"),
                            v12_only("parent_id", "parentAssessmentLineItem.@a")),
    "assessmentResults": (
        v12_only("assessmentLineItem_id", "assessmentLineItem.@a"),
        v12_only("student_id", "student.@u"), v12_only("scoreStatus"), v12_only("scoreDate"),
    ),
}

RECORD_TABLES: dict[str, tuple[str, ...]] = {
    table: tuple(c.name for c in cols) for table, cols in RECORD_COLUMNS.items()}

# Side tables: many-to-many links that nested endpoints need (a class in several terms, a user
# with roles in several orgs), and the record of which data-quality quirk hit which record.
SIDE_TABLES: dict[str, tuple[str, ...]] = {
    "class_terms": ("class_id", "term_id"),
    "user_orgs": ("user_id", "org_id", "role", "roleType"),
    "quirks": ("quirk", "kind", "sourcedId"),
}

# Kinds that OneRoster 1.1 does not have.
NOT_IN_V11 = frozenset({"scoreScales", "assessmentLineItems", "assessmentResults"})

# Secondary indexes: what nested endpoints join on and what consumers filter by most (roles,
# e-mail/username look-ups). Every record table also gets sourcedId (unique) and
# dateLastModified (delta sync). Other filters and sorts scan, which is fine at page sizes.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "academicSessions": (("school_id",), ("parent_id",)),
    "courses": (("school_id",),),
    "classes": (("school_id",), ("course_id",)),
    "users": (("role", "hidden"), ("username",), ("email",), ("identifier",), ("familyName",)),
    "enrollments": (("class_id", "role"), ("user_id",), ("school_id",)),
    "categories": (("class_id",),),
    "scoreScales": (("class_id",),),
    # (class_id, title): title_unique_in_class looks a title up in its class on every line-item
    # write; on class_id alone that is a scan of the class, and bulk POSTs into one class
    # slowed with its size.
    "lineItems": (("class_id", "title"),),
    "results": (("lineItem_id",), ("student_id",)),
    "assessmentLineItems": (("class_id",), ("parent_id",)),
    "assessmentResults": (("assessmentLineItem_id",), ("student_id",)),
    "class_terms": (("class_id",), ("term_id",)),
    "user_orgs": (("user_id",), ("org_id", "role")),
    "quirks": (("quirk",),),
}


def index_statements(if_not_exists: bool = False) -> list[str]:
    """``CREATE INDEX`` for every secondary index; ``if_not_exists`` adds the ones a district
    file built by an older version lacks."""
    guard = " IF NOT EXISTS" if if_not_exists else ""
    return [f"CREATE INDEX{guard} {table}_{'_'.join(cols)} ON {table} ({', '.join(cols)})"
            for table, indexes in INDEXES.items() for cols in indexes]


def columns(table: str) -> tuple[str, ...]:
    if table in SIDE_TABLES:
        return SIDE_TABLES[table]
    return HEAD + RECORD_TABLES[table] + TAIL


ALL_TABLES = tuple(RECORD_TABLES) + tuple(SIDE_TABLES)

# A fingerprint of the columns above, part of every district file's cache key: a file built
# before a column was added (or a column's source changed) is never taken as current. Indexes
# are left out: the grade-book writer adds a missing one to an older file in place.
LAYOUT = hashlib.sha256(repr((RECORD_COLUMNS, SIDE_TABLES)).encode()).hexdigest()[:6]


# --- deriving columns from a record -------------------------------------------------------

def dig(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a stored JSON object, or None where there is none."""
    node = record
    for key in path.split("."):
        if isinstance(node, dict):
            node = node.get(key)
        elif isinstance(node, list) and key.isdigit():
            node = node[int(key)] if int(key) < len(node) else None
        else:
            return None
        if node is None:
            return None
    return node


def _first(record: Any, paths: tuple[str, ...]) -> Any:
    for path in paths:
        value = dig(record, path)
        if value is not None:
            return value
    return None


def _fast_expr(path: str) -> str:
    """Python source reading ``path`` from ``o``: a top-level key with ``get``, deeper steps
    by subscript (a reference's one key is always there). A missing outer key or an
    unexpected type raises, and the row maker then sends the record to the generic walk."""
    keys = path.split(".")
    if len(keys) == 1:
        return f"o.get({keys[0]!r})"
    return "o" + "".join(f"[{int(key)}]" if key.isdigit() else f"[{key!r}]" for key in keys)


def _column_expr(col: Column) -> str:
    if not col.v12:
        return f"x.get({col.name!r})"
    expr = _fast_expr(col.v12[-1])
    if col.fallback11 is not None:
        expr = f"(v if (v := {expr}) is not None else (o11 or o).get({col.fallback11!r}))"
    for path in reversed(col.v12[:-1]):
        expr = f"(v if (v := {_fast_expr(path)}) is not None else {expr})"
    if col.raw:
        expr = f"(None if (r := {expr}) is None else json_text(r))"
    return expr


RowMaker = Callable[[dict, "dict | None", int, str, "str | None", Mapping[str, Any]], tuple]


def _value(col: Column, v12: dict, v11: dict | None) -> Any:
    """The column's value as the record's JSON says it (``v11`` None: same as ``v12``)."""
    value = _first(v12, col.v12)
    if value is None and col.fallback11 is not None:
        value = dig(v12 if v11 is None else v11, col.fallback11)
    if col.raw and value is not None:
        return json_text(value)
    return value


def _slow_maker(table: str) -> RowMaker:
    cols = HEAD_COLUMNS + RECORD_COLUMNS[table]

    def make(o: dict, o11: dict | None, hidden: int, text12: str, text11: str | None,
             stored: Mapping[str, Any]) -> tuple:
        values = [stored.get(c.name) if not c.v12 else _value(c, o, o11) for c in cols]
        return (*values[:3], hidden, *values[3:], text12, text11)

    return make


def _compile(table: str) -> RowMaker:
    """A row maker for ``table`` as one generated expression: the builder calls it for every
    record, so it must cost about what a hand-written tuple does. Records the fast path
    cannot read (a missing reference, an empty array, an unexpected type) go to the generic
    walk, which gives the same values."""
    exprs = [_column_expr(col) for col in HEAD_COLUMNS + RECORD_COLUMNS[table]]
    body = ", ".join([*exprs[:3], "h", *exprs[3:], "t12", "t11"])
    source = (f"def make(o, o11, h, t12, t11, x):\n"
              f"    try:\n        return ({body})\n"
              f"    except (AttributeError, KeyError, IndexError, TypeError):\n"
              f"        return slow(o, o11, h, t12, t11, x)\n")
    scope = {"slow": _slow_maker(table), "json_text": json_text}
    exec(compile(source, f"<row maker {table}>", "exec"), scope)
    return scope["make"]  # type: ignore[no-any-return]


# table -> its row maker ``(record, record11, hidden, text12, text11, stored) -> row``.
ROW_MAKERS: dict[str, RowMaker] = {table: _compile(table) for table in RECORD_COLUMNS}
_NOTHING: Mapping[str, Any] = {}


def record_row(table: str, record: dict, text12: str, text11: str | None = None,
               hidden: int = 0, stored: Mapping[str, Any] | None = None,
               record11: dict | None = None) -> tuple:
    """The table row of a record: head and indexed columns read from its 1.2 JSON ``record``
    (``text12`` serialized; ``text11`` the 1.1 text when it differs, ``record11`` its object),
    store-only columns from ``stored``. The one place a row is made from a record."""
    return ROW_MAKERS[table](record, record11, hidden, text12, text11, stored or _NOTHING)


def expected_columns(table: str, v12: dict, v11: dict | None) -> dict[str, tuple[Any, ...]]:
    """Per column read from JSON: the values the record's JSON says it must hold (the 1.2
    value, then the 1.1 value where 1.1 carries it; ``v11`` None when the table has no 1.1
    form)."""
    expected: dict[str, tuple[Any, ...]] = {}
    for col in HEAD_COLUMNS + RECORD_COLUMNS[table]:
        if not col.v12:
            continue
        values = (_value(col, v12, v11),)
        if v11 is not None and col.v11 is not None:
            values += (dig(v11, col.v11),)
        expected[col.name] = values
    return expected
