"""Collection and single-record query parameters: ``limit``, ``offset``, ``sort``, ``orderBy``,
``filter`` and ``fields``, checked the way the spec notes (§4) ask.

Choices made here:

* ``limit`` and ``offset`` are plain base-10 digit strings (no sign, spaces, decimals or
  exponents). ``limit`` is 1..max_limit and a larger one is REJECTED (400 naming the maximum)
  rather than clamped, so a client never silently gets fewer records per page than it asked
  for. ``offset`` is 0..2147483647, the OpenAPI's int32.
* ``limit``, ``offset``, ``sort``, ``orderBy`` and ``filter`` may appear once; ``fields`` may be
  repeated (the names are merged in order, duplicates dropped). Unknown parameters are ignored.
* ``orderBy`` must be ``asc`` or ``desc`` even when there is no ``sort`` (then it is ignored).
* An unknown (or multi-valued) sort field: 1.2 ignores it and keeps store order; 1.1 does the
  same and adds an ``invalid_sort_field`` warning.
* ``fields``: a blank list or a blank name is a 400 (1.2 ``invalid_selection_field``, 1.1
  ``invalid_blank_selection_field``). An unknown name is a 400 ``invalid_selection_field`` in
  1.2 with ``strict_fields``; otherwise every field is returned, and 1.1 adds an
  ``invalid_selection_field`` warning.

Warnings are (codeMinor, description) pairs in the 1.2 spelling; only 1.1 produces them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import OneRosterError
from .fields import catalog
from .filter import Filter, bind, parse_filter

MAX_OFFSET = 2**31 - 1
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_ONCE = ("limit", "offset", "sort", "orderBy", "filter")

QueryWarning = tuple[str, str]


@dataclass(frozen=True)
class CollectionQuery:
    limit: int
    offset: int
    sort: str | None
    descending: bool
    filter: Filter | None
    fields: tuple[str, ...] | None


def _shown(value: str) -> str:
    """A request value quoted for a message, cut short when long."""
    return f"'{value}'" if len(value) <= 60 else f"'{value[:57]}...'"


def _invalid(description: str) -> OneRosterError:
    return OneRosterError(400, "invaliddata", description)


def _whole(name: str, value: str, low: int, high: int) -> int:
    expected = f"{name} must be a whole number from {low} to {high}"
    if not _DIGITS.fullmatch(value):
        raise _invalid(f"{expected}; got {_shown(value)}")
    # a length check first: int() refuses very long digit strings outright
    digits = value.lstrip("0") or "0"
    number = int(digits) if len(digits) <= 20 else high + 1
    if number < low:
        raise _invalid(f"{expected}; got {_shown(value)}")
    if number > high:
        raise _invalid(f"{name} {_shown(value)} is above the maximum of {high}")
    return number


def _fields(values: Sequence[str], table: str, version: str, strict: bool,
            warnings: list[QueryWarning]) -> tuple[str, ...] | None:
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if not name:
                code = "invalid_blank_selection_field" if version == "1.1" else (
                    "invalid_selection_field")
                raise OneRosterError(400, code, f"fields {_shown(value)} has a blank field name")
            if name not in names:
                names.append(name)
    known = catalog(table, version).selectable
    unknown = [name for name in names if name not in known]
    if not unknown:
        return tuple(names)
    listed = ", ".join(f"'{name}'" for name in unknown)
    if version == "1.2" and strict:
        raise OneRosterError(400, "invalid_selection_field",
                             f"fields names unknown field(s) {listed} for {table}")
    if version == "1.1":
        warnings.append(("invalid_selection_field",
                         f"fields names unknown field(s) {listed} for {table}; "
                         "all fields are returned"))
    return None


def parse_collection_query(
    items: list[tuple[str, str]], *, table: str, version: str, max_limit: int = 50_000,
    default_limit: int = 100, strict_fields: bool = True,
) -> tuple[CollectionQuery, list[QueryWarning]]:
    """Check a collection request's decoded query pairs (in order, keys may repeat)."""
    once: dict[str, str] = {}
    field_values: list[str] = []
    for key, value in items:
        if key in _ONCE:
            if key in once:
                raise _invalid(f"query parameter '{key}' is given more than once "
                               f"({_shown(once[key])} and {_shown(value)})")
            once[key] = value
        elif key == "fields":
            field_values.append(value)
    warnings: list[QueryWarning] = []
    cat = catalog(table, version)

    limit = default_limit
    if "limit" in once:
        limit = _whole("limit", once["limit"], 1, max_limit)
    offset = _whole("offset", once["offset"], 0, MAX_OFFSET) if "offset" in once else 0

    descending = False
    if "orderBy" in once:
        if once["orderBy"] not in ("asc", "desc"):
            raise _invalid(f"orderBy must be 'asc' or 'desc'; got {_shown(once['orderBy'])}")
        descending = once["orderBy"] == "desc"
    sort = once.get("sort")
    if sort is not None and not cat.sortable(sort):
        if version == "1.1":
            warnings.append(("invalid_sort_field",
                             f"sort field {_shown(sort)} is not a sortable field of {table}; "
                             "the data is not sorted"))
        sort = None
    if sort is None:
        descending = False

    parsed: Filter | None = None
    if "filter" in once:
        parsed = parse_filter(once["filter"])
        bind(parsed, cat)

    fields = (_fields(field_values, table, version, strict_fields, warnings)
              if field_values else None)
    return CollectionQuery(limit, offset, sort, descending, parsed, fields), warnings


def parse_single_query(
    items: list[tuple[str, str]], *, table: str, version: str, strict_fields: bool = True,
) -> tuple[tuple[str, ...] | None, list[QueryWarning]]:
    """Check a get-by-id request's query pairs: only ``fields`` counts."""
    warnings: list[QueryWarning] = []
    values = [value for key, value in items if key == "fields"]
    fields = _fields(values, table, version, strict_fields, warnings) if values else None
    return fields, warnings
