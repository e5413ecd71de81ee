"""Which fields a collection can be filtered, sorted and selected on, derived from the spec.

A ``FieldCatalog`` exists per (table, version) and is built from that version's record schema:

* a top-level scalar property is a field of its own (``givenName``, ``score``, ``startDate``);
* a GUIDRef property gives ``<prop>.sourcedId`` and ``<prop>.type``;
* an array of strings or numbers (``grades``, ``subjects``, ``periods``) is one field whose
  value is "any element";
* an array of GUIDRefs gives ``<prop>.sourcedId``; an array of objects gives
  ``<prop>.<sub>`` for each scalar sub-property and ``<prop>.<sub>.sourcedId`` for each GUIDRef
  one (``roles.role``, ``roles.roleType``, ``roles.org.sourcedId``, ``userIds.identifier``);
* ``metadata`` and anything nested deeper is not filterable. ``fields=`` selects top-level
  property names, ``metadata`` included.

Each field has a value kind taken from the schema: text (strings, enums, the string booleans
"true"/"false"), number, date (``YYYY-MM-DD``) or date-time.

Comparison rules. ``filter.matches`` (Python, over a rendered record) and ``sql.where_sql``
(SQLite, over the stored JSON and columns) implement exactly these:

* A field that is missing, null or of the wrong JSON type for its kind never matches, for any
  operator, ``!=`` included. A date or date-time that cannot be read counts as missing.
* Text compares by code point (SQLite's BINARY collation agrees with Python ``str``).
* ``~`` is a substring test that ignores ASCII case only (SQLite ``lower()`` folds A-Z only).
  It applies to text fields; on a number, date or date-time field it is a 400 ``invaliddata``.
* Numbers compare numerically; the filter value must be a decimal number, else 400.
* Dates and date-times: the filter value must be a date or a date-time, else 400. Date-times
  with any offset (or none, read as UTC) are normalised to UTC, to the microsecond. When both
  sides are date-times they compare as instants; when both are dates, as dates. When one side
  is a date and the other a date-time, ``=``/``!=`` compare the date with the date-time's UTC
  date, and ``>``, ``>=``, ``<``, ``<=`` compare instants, the date standing for midnight UTC.
* An array field holds for ``=``, ``>``, ``>=``, ``<``, ``<=`` and ``~`` when ANY element
  satisfies it. ``!=`` is the complement of ``=`` on records that have the field: it holds when
  the array is present and NO element equals the value (an empty array included). The same
  complement rule makes scalar ``!=`` "present and not equal".
* ``AND``/``OR`` combine the two predicates as usual.

Sorting is on single-valued fields only: text by code point, numbers numerically, dates and
date-times by their stored text (the store writes canonical UTC ``...Z`` text, so that is time
order, and it lets ``sort=dateLastModified`` use the index). A record without the value sorts
as the lowest value (first ascending, last descending); ties keep store order in both
directions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from specs import schema_v11, schema_v12

from ..errors import OneRosterError
from ..record_forms import doc_sql
from ..refs import REF_KINDS
from ..tables import HEAD, HEAD_COLUMNS, NOT_IN_V11, RECORD_COLUMNS
from .values import canonical_time

# table -> (1.2 schema, 1.1 schema)
SCHEMAS: dict[str, tuple[str, str | None]] = {
    "orgs": ("OrgDType", "Org"),
    "academicSessions": ("AcademicSessionDType", "AcademicSession"),
    "courses": ("CourseDType", "Course"),
    "classes": ("ClassDType", "Class"),
    "users": ("UserDType", "User"),
    "enrollments": ("EnrollmentDType", "Enrollment"),
    "demographics": ("DemographicsDType", "Demographics"),
    "categories": ("CategoryDType", "Category"),
    "scoreScales": ("ScoreScaleDType", None),
    "lineItems": ("LineItemDType", "LineItem"),
    "results": ("ResultDType", "Result"),
    "resources": ("ResourceDType", "Resource"),
    "assessmentLineItems": ("AssessmentLineItemDType", None),
    "assessmentResults": ("AssessmentResultDType", None),
}



def _field_name(path: str) -> str:
    """The filter field a stored-JSON path holds: ``parent.@o`` is ``parent.sourcedId``."""
    return ".".join("sourcedId" if key.startswith("@") else key for key in path.split("."))


def _column_map(table: str, version: str) -> dict[str, str]:
    """Filter field -> the column holding its value, a view of ``tables.RECORD_COLUMNS``."""
    found: dict[str, str] = {}
    for col in HEAD_COLUMNS + RECORD_COLUMNS[table]:
        path = col.v12[0] if version == "1.2" and col.v12 else col.v11 if version == "1.1" \
            else None
        if path is not None and col.filters:
            found[_field_name(path)] = col.name
    return found


# Filter fields of 1.2 whose value the store also keeps in a column (so SQLite can use an
# index), head columns aside.
COLUMNS: dict[str, dict[str, str]] = {
    table: {f: c for f, c in _column_map(table, "1.2").items() if c not in HEAD}
    for table in RECORD_COLUMNS}

# The 1.1 schema has one generic GUIDRef; what it points at comes from the 1.2 property of the
# same name, or from here for properties 1.2 dropped.
_V11_ONLY_REFS = {"orgs": "org"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MISSING = object()


@dataclass(frozen=True)
class Field:
    """One filterable field and where its value lives."""

    name: str
    kind: str  # "text" | "number" | "date" | "datetime"
    path: tuple[str, ...]  # keys in the rendered record; path[0] is the top-level property
    multi: bool  # path[0] is an array and the field means "any element"
    json_path: str  # SQLite JSON path of the value, or of the array when multi
    elem_path: str | None = None  # multi: path inside one element; None = the element itself
    column: str | None = None  # a table column holding the same (single) value
    constant: str | None = None  # a GUIDRef's type: json_path/column locate its sourcedId


@dataclass(frozen=True, eq=False)
class FieldCatalog:
    table: str
    version: str
    fields: Mapping[str, Field]
    selectable: frozenset[str]
    doc: str  # SQL expression for the record's stored JSON in this version

    def field(self, name: str) -> Field:
        try:
            return self.fields[name]
        except KeyError:
            raise OneRosterError(
                400, "invalid_filter_field", f"unknown filter field '{name}' for {self.table}"
            ) from None

    def sortable(self, name: str) -> bool:
        found = self.fields.get(name)
        return found is not None and not found.multi


def _quote_path(*keys: str) -> str:
    for key in keys:
        if not (_NAME.fullmatch(key) or key.startswith("@")):
            raise ValueError(f"unexpected property name {key!r}")
    return "$" + "".join(f'."{key}"' for key in keys)


def _resolve(node: dict, defs: dict) -> dict:
    while "$ref" in node:
        node = defs[node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:
        branches = [_resolve(branch, defs) for branch in node["anyOf"]]
        shapes = {(b.get("type"), b.get("format")) for b in branches}
        return branches[0] if len(shapes) == 1 else {}
    return node


def _scalar_kind(node: dict) -> str | None:
    kind = node.get("type")
    if kind in ("number", "integer"):
        return "number"
    if kind == "string":
        return {"date": "date", "date-time": "datetime"}.get(node.get("format"), "text")
    return None


def _ref_kind(node: dict) -> str | None:
    """The referenced type when ``node`` is a GUIDRef; "" when it is one of unknown target."""
    props = node.get("properties", {})
    if node.get("type") != "object" or not {"href", "sourcedId", "type"} <= set(props):
        return None
    targets = props["type"].get("enum", [])
    return targets[0] if len(targets) == 1 else ""


def _walk_schema(schema: dict, ref_target: Callable[[tuple[str, ...]], str]) -> list[Field]:
    """Fields of one record schema; ``ref_target(path)`` names a generic GUIDRef's target."""
    defs = schema.get("$defs", {})
    found: list[Field] = []

    def code(kind: str | None, path: tuple[str, ...]) -> str:
        target = kind or ref_target(path)
        return "@" + REF_KINDS[target][0]

    for prop, raw in schema["properties"].items():
        if prop == "metadata":
            continue
        node = _resolve(raw, defs)
        scalar = _scalar_kind(node)
        ref = _ref_kind(node)
        if scalar:
            found.append(Field(prop, scalar, (prop,), False, _quote_path(prop)))
        elif ref is not None:
            at = code(ref, (prop,))
            target = ref or ref_target((prop,))
            path = _quote_path(prop, at)
            found.append(Field(f"{prop}.sourcedId", "text", (prop, "sourcedId"), False, path))
            found.append(Field(f"{prop}.type", "text", (prop, "type"), False, path,
                               constant=target))
        elif node.get("type") == "array":
            items = _resolve(node.get("items", {}), defs)
            array = _quote_path(prop)
            scalar = _scalar_kind(items)
            ref = _ref_kind(items)
            if scalar:
                found.append(Field(prop, scalar, (prop,), True, array))
            elif ref is not None:
                found.append(Field(f"{prop}.sourcedId", "text", (prop, "sourcedId"), True, array,
                                   _quote_path(code(ref, (prop,)))))
            elif items.get("type") == "object":
                for sub, sub_raw in items.get("properties", {}).items():
                    sub_node = _resolve(sub_raw, defs)
                    sub_scalar = _scalar_kind(sub_node)
                    sub_ref = _ref_kind(sub_node)
                    if sub_scalar:
                        found.append(Field(f"{prop}.{sub}", sub_scalar, (prop, sub), True, array,
                                           _quote_path(sub)))
                    elif sub_ref is not None:
                        at = code(sub_ref, (prop, sub))
                        found.append(Field(f"{prop}.{sub}.sourcedId", "text",
                                           (prop, sub, "sourcedId"), True, array,
                                           _quote_path(sub, at)))
    return found


@functools.cache
def _ref_targets_v12(table: str) -> dict[tuple[str, ...], str]:
    schema = schema_v12(SCHEMAS[table][0])
    defs = schema.get("$defs", {})
    targets = {}
    for prop, raw in schema["properties"].items():
        node = _resolve(raw, defs)
        if node.get("type") == "array":
            node = _resolve(node.get("items", {}), defs)
        kind = _ref_kind(node)
        if kind:
            targets[(prop,)] = kind
    return targets


@functools.cache
def catalog(table: str, version: str) -> FieldCatalog:
    """The filter/sort/selection fields of ``table`` in OneRoster ``version`` ("1.2"/"1.1")."""
    if table not in SCHEMAS:
        raise ValueError(f"no record table {table!r}; expected one of {sorted(SCHEMAS)}")
    if version == "1.2":
        schema = schema_v12(SCHEMAS[table][0])
        doc = doc_sql(table, "1.2")
    elif version == "1.1":
        if table in NOT_IN_V11 or SCHEMAS[table][1] is None:
            raise ValueError(f"OneRoster 1.1 has no {table}")
        schema = schema_v11(SCHEMAS[table][1])  # type: ignore[arg-type]
        doc = doc_sql(table, "1.1")
    else:
        raise ValueError(f"unknown OneRoster version {version!r}; expected '1.1' or '1.2'")

    v12_targets = _ref_targets_v12(table)

    def ref_target(path: tuple[str, ...]) -> str:
        target = v12_targets.get(path[:1]) or _V11_ONLY_REFS.get(path[0])
        if target is None:
            raise ValueError(f"cannot tell what {table}.{'.'.join(path)} refers to")
        return target

    columns = _column_map(table, version)
    fields: dict[str, Field] = {}
    for found in _walk_schema(schema, ref_target):
        # A GUIDRef's type is present exactly when its sourcedId is.
        source = found.name.rsplit(".", 1)[0] + ".sourcedId" if found.constant else found.name
        column = columns.get(source)
        if column is not None and not found.multi:
            found = Field(found.name, found.kind, found.path, found.multi, found.json_path,
                          found.elem_path, f'"{table}"."{column}"', found.constant)
        fields[found.name] = found
    selectable = frozenset(schema["properties"])
    return FieldCatalog(table, version, fields, selectable, doc)


def selectable_fields(table: str, version: str) -> frozenset[str]:
    """Top-level property names ``fields=`` may name."""
    return catalog(table, version).selectable


def _walk(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _typed(value: Any, kind: str) -> Any:
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return value if ok else None
    if kind == "text":
        return value if isinstance(value, str) else None
    return canonical_time(value)


def values_of(record: dict, field: Field) -> list | None:
    """The field's comparable values in a rendered record: None when the field is missing,
    else one value, or one per usable array element (dates as ``canonical_time`` keys)."""
    if not field.multi:
        value = _typed(_walk(record, field.path), field.kind)
        return None if value is None else [value]
    array = record.get(field.path[0]) if isinstance(record, dict) else None
    if not isinstance(array, list):
        return None
    values = []
    for element in array:
        value = _typed(_walk(element, field.path[1:]), field.kind)
        if value is not None:
            values.append(value)
    return values


def sort_key(record: dict, field: Field) -> tuple:
    """Python's order for ``sort=field``: missing values lowest, dates by their stored text."""
    value = _walk(record, field.path)
    kind = "number" if field.kind == "number" else "text"
    value = _typed(value, kind)
    return (0,) if value is None else (1, value)
