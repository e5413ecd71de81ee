"""The OneRoster ``filter`` parameter: parsing, checking against a collection's fields, and the
plain-Python reference semantics (``matches``) that the SQL must agree with.

Grammar (1.1 and 1.2)::

    filter  := pred | pred SP logical SP pred
    pred    := field op "'" value "'"
    op      := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    logical := "AND" | "OR"

Whitespace is allowed around operators and around the whole text; a quote inside a value is
written twice (``''``). The comparison rules are in the ``fields`` module docstring.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..errors import OneRosterError
from .fields import Field, FieldCatalog, values_of
from .values import ascii_lower, canonical_time, compare, parse_number, time_holds

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", re.ASCII)
_OPERATOR_CHARS = re.compile(r"[!=<>~]+")
_SPACE = re.compile(r"\s*")
_LOGICAL = re.compile(r"\s+(AND|OR)\s+")


@dataclass(frozen=True)
class Predicate:
    field: str
    op: str
    value: str


@dataclass(frozen=True)
class Filter:
    """One predicate, or two joined by ``logical``."""

    predicates: tuple[Predicate, ...]
    logical: str | None = None

    def __str__(self) -> str:
        parts = [f"{p.field}{p.op}'{p.value.replace(chr(39), chr(39) * 2)}'"
                 for p in self.predicates]
        return f" {self.logical} ".join(parts)


def _fail(text: str, problem: str) -> OneRosterError:
    return OneRosterError(400, "invaliddata", f'invalid filter "{text}": {problem}')


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        self.pos = _SPACE.match(self.text, self.pos).end()  # type: ignore[union-attr]

    def predicate(self) -> Predicate:
        text = self.text
        self.skip_space()
        match = _FIELD.match(text, self.pos)
        if match is None:
            raise _fail(text, f"expected a field name at position {self.pos + 1}")
        field = match.group()
        self.pos = match.end()
        self.skip_space()
        match = _OPERATOR_CHARS.match(text, self.pos)
        if match is None:
            raise _fail(text, f"expected an operator (one of {' '.join(OPERATORS)}) after "
                              f"'{field}' at position {self.pos + 1}")
        op = match.group()
        if op not in OPERATORS:
            raise _fail(text, f"unknown operator '{op}' after '{field}'; "
                              f"use one of {' '.join(OPERATORS)}")
        self.pos = match.end()
        self.skip_space()
        if not text.startswith("'", self.pos):
            raise _fail(text, f"the value after '{field}{op}' must be in single quotes "
                              f"(position {self.pos + 1})")
        return Predicate(field, op, self.quoted())

    def quoted(self) -> str:
        text = self.text
        start = self.pos
        chunks = []
        pos = start + 1
        while True:
            end = text.find("'", pos)
            if end < 0:
                raise _fail(text, f"the value opened at position {start + 1} has no closing "
                                  "quote (write a quote inside a value as '')")
            chunks.append(text[pos:end])
            if text.startswith("''", end):
                chunks.append("'")
                pos = end + 2
                continue
            self.pos = end + 1
            return "".join(chunks)


def parse_filter(text: str) -> Filter:
    """Parse a decoded ``filter`` value; raise OneRosterError 400 invaliddata if malformed."""
    if not text.strip():
        raise OneRosterError(400, "invaliddata", "invalid filter: the filter is empty")
    parser = _Parser(text)
    first = parser.predicate()
    match = _LOGICAL.match(text, parser.pos)
    if match is None:
        parser.skip_space()
        if parser.pos == len(text):
            return Filter((first,))
        raise _fail(text, f"unexpected text at position {parser.pos + 1}; predicates are "
                          "joined by ' AND ' or ' OR '")
    logical = match.group(1)
    parser.pos = match.end()
    second = parser.predicate()
    parser.skip_space()
    if parser.pos != len(text):
        rest = text[parser.pos:]
        if re.match(r"(AND|OR)\b", rest):
            raise _fail(text, "at most two predicates joined by one AND or OR are allowed")
        raise _fail(text, f"unexpected text at position {parser.pos + 1}")
    return Filter((first, second), logical)


@dataclass(frozen=True)
class Bound:
    """A predicate checked against a catalog, its value converted for the field's kind:
    text as given (``~``: ASCII lower-cased), a float, or a ``canonical_time`` key."""

    field: Field
    op: str
    value: str | float


def _bind_one(predicate: Predicate, catalog: FieldCatalog) -> Bound:
    field = catalog.field(predicate.field)
    value = predicate.value
    if predicate.op == "~" and field.kind != "text":
        raise OneRosterError(400, "invaliddata",
                             f"filter operator ~ needs a text field; '{field.name}' of "
                             f"{catalog.table} is a {field.kind}")
    if field.kind == "text":
        return Bound(field, predicate.op, ascii_lower(value) if predicate.op == "~" else value)
    if field.kind == "number":
        number = parse_number(value)
        if number is None:
            raise OneRosterError(400, "invaliddata",
                                 f"filter value '{value}' for '{field.name}' is not a number")
        return Bound(field, predicate.op, number)
    key = canonical_time(value)
    if key is None:
        raise OneRosterError(400, "invaliddata",
                             f"filter value '{value}' for '{field.name}' is not a date "
                             "(YYYY-MM-DD) or date-time (YYYY-MM-DDThh:mm:ssZ)")
    return Bound(field, predicate.op, key)


@functools.lru_cache(maxsize=256)
def bind(filter: Filter, catalog: FieldCatalog) -> tuple[Bound, ...]:
    """Check each predicate's field and value for this collection (400 when they do not fit)."""
    return tuple(_bind_one(p, catalog) for p in filter.predicates)


def _value_holds(stored: object, bound: Bound, op: str) -> bool:
    kind = bound.field.kind
    if op == "~":
        return ascii_lower(stored).find(bound.value) >= 0  # type: ignore[arg-type]
    if kind in ("date", "datetime"):
        return time_holds(stored, op, bound.value)  # type: ignore[arg-type]
    return compare(stored, op, bound.value)  # type: ignore[arg-type]


def _holds(bound: Bound, record: dict) -> bool:
    values = values_of(record, bound.field)
    if values is None:
        return False
    if bound.op == "!=":
        return not any(_value_holds(value, bound, "=") for value in values)
    return any(_value_holds(value, bound, bound.op) for value in values)


def matches(filter: Filter, record: dict, catalog: FieldCatalog) -> bool:
    """Whether a rendered record (GUIDRefs expanded) satisfies ``filter``."""
    results = (_holds(bound, record) for bound in bind(filter, catalog))
    return all(results) if filter.logical != "OR" else any(results)
