"""The OneRoster ``filter`` query parameter, as the checker reads the spec (1.1 §3 and the 1.2
REST binding §3.5, summarised in spec notes §4.3).

Grammar::

    filter  := pred | pred SP logical SP pred
    pred    := field op "'" value "'"
    op      := "=" | "!=" | ">" | ">=" | "<" | "<=" | "~"
    logical := "AND" | "OR"
    field   := name ("." name)*        e.g. roles.role, orgs.sourcedId, primaryOrg.sourcedId

At most two predicates and one logical, no parentheses. Spaces may stand around an operator and
around the whole text; the logical needs at least one on each side. The spec defines no escape
for a quote inside a value; like common implementations, ``''`` stands for one quote. A value
may be empty (``''``); a missing value (``familyName~``) is refused.

Which operator fits which field (``fields.Kind``): ``=`` and ``!=`` every kind; ``>``, ``>=``,
``<``, ``<=`` dates, date-times and numbers (the spec's ordering operators); ``~`` the string
kinds: text, enumerations and references.

How a predicate holds on a served record:

* A missing field (absent, null, of the wrong JSON type, or a date that cannot be read) never
  matches, for any operator, ``!=`` included.
* Text, enumerations and references compare by code point (exact ``=``).
* Dates and date-times compare as times (``values`` module): date-times as UTC instants, so
  equivalent spellings are equal, and a date against a date-time by the UTC day.
* Numbers compare as exact decimals.
* A field through an array holds when ANY element's value does; ``!=`` holds when the array is
  present and NO element's value equals (an empty array included).
* ``~`` is "contains". The spec does not say whether it ignores case, so the reading is a
  parameter (``Contains``): ignoring ASCII case, case-sensitive, or ignoring case (casefold).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from .fields import Catalogue, Field, Kind
from .values import Time, compare_times, read_number, read_time, served_number

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
LOGICALS = ("AND", "OR")
ORDERING = (">", ">=", "<", "<=")
ALLOWED: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("=", "!=", "~"),
    Kind.ENUM: ("=", "!=", "~"),
    Kind.REFERENCE: ("=", "!=", "~"),
    Kind.NUMBER: ("=", "!=", *ORDERING),
    Kind.DATE: ("=", "!=", *ORDERING),
    Kind.DATETIME: ("=", "!=", *ORDERING),
}
_SPACE = " \t"
_OPERATOR_CHARS = "=!<>~"
_NAME_START = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"
_NAME_CHARS = _NAME_START + "0123456789"


class FilterError(ValueError):
    """A filter the checker cannot evaluate; the message says why in one line."""


class FilterSyntaxError(FilterError):
    """The text does not follow the filter grammar."""


class UnknownFieldError(FilterError):
    """A predicate names a field the collection does not have in this version."""


class FilterValueError(FilterError):
    """The operator does not apply to the field's kind, or the value cannot be read as one."""


@dataclass(frozen=True)
class Predicate:
    """``field op 'value'``, the value as meant (quotes not doubled)."""

    field: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise FilterSyntaxError(f"unknown operator {self.op!r}; use one of "
                                    f"{' '.join(OPERATORS)}")

    def __str__(self) -> str:
        quoted = self.value.replace("'", "''")
        return f"{self.field}{self.op}'{quoted}'"


@dataclass(frozen=True)
class Filter:
    """One predicate, or two joined by ``logical`` ("AND" or "OR")."""

    predicates: tuple[Predicate, ...]
    logical: str | None = None

    def __post_init__(self) -> None:
        count = len(self.predicates)
        if not ((count == 1 and self.logical is None)
                or (count == 2 and self.logical in LOGICALS)):
            raise FilterSyntaxError("a filter is one predicate, or two joined by AND or OR; "
                                    f"got {count} with {self.logical!r}")

    def __str__(self) -> str:
        return f" {self.logical} ".join(map(str, self.predicates))


# --- parsing --------------------------------------------------------------------------------


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, why: str) -> FilterSyntaxError:
        return FilterSyntaxError(f"invalid filter {self.text!r}: {why}")

    def spaces(self) -> int:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1
        return self.pos - start

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def run(self, chars: str) -> str:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in chars:
            self.pos += 1
        return self.text[start:self.pos]

    def field(self) -> str:
        names = []
        while True:
            if self.at_end() or self.text[self.pos] not in _NAME_START:
                where = "a field name" if not names else f"a name after {'.'.join(names)}."
                raise self.fail(f"expected {where} at position {self.pos + 1}")
            names.append(self.run(_NAME_CHARS))
            if self.at_end() or self.text[self.pos] != ".":
                return ".".join(names)
            self.pos += 1

    def operator(self, field: str) -> str:
        op = self.run(_OPERATOR_CHARS)
        if not op:
            raise self.fail(f"expected an operator ({' '.join(OPERATORS)}) after {field!r} "
                            f"at position {self.pos + 1}")
        if op not in OPERATORS:
            raise self.fail(f"unknown operator {op!r} after {field!r}; use one of "
                            f"{' '.join(OPERATORS)}")
        return op

    def value(self, before: str) -> str:
        if self.at_end():
            raise self.fail(f"{before!r} has no value; write it in single quotes")
        if self.text[self.pos] != "'":
            raise self.fail(f"the value after {before!r} must be in single quotes "
                            f"(position {self.pos + 1})")
        start = self.pos
        self.pos += 1
        chars = []
        while True:
            end = self.text.find("'", self.pos)
            if end < 0:
                raise self.fail(f"the quote opened at position {start + 1} is never closed")
            chars.append(self.text[self.pos:end])
            if self.text.startswith("''", end):
                chars.append("'")
                self.pos = end + 2
                continue
            self.pos = end + 1
            return "".join(chars)

    def predicate(self) -> Predicate:
        self.spaces()
        field = self.field()
        self.spaces()
        op = self.operator(field)
        self.spaces()
        return Predicate(field, op, self.value(field + op))

    def logical(self, before: int) -> str:
        word = self.run(_NAME_CHARS)
        if word not in LOGICALS or not before:
            shown = word or self.text[self.pos:self.pos + 10]
            raise self.fail(f"expected AND or OR (with a space either side) after the "
                            f"predicate, found {shown!r} at position {self.pos - len(word) + 1}")
        if not self.spaces() or self.at_end():
            raise self.fail(f"{word} must be followed by a space and a second predicate")
        return word


def parse_filter(text: str) -> Filter:
    """Parse a ``filter`` value (already URL-decoded); FilterSyntaxError if it does not follow
    the grammar."""
    scanner = _Scanner(text)
    if not text.strip(_SPACE):
        raise scanner.fail("the filter is empty")
    first = scanner.predicate()
    gap = scanner.spaces()
    if scanner.at_end():
        return Filter((first,))
    logical = scanner.logical(gap)
    second = scanner.predicate()
    scanner.spaces()
    if not scanner.at_end():
        raise scanner.fail(f"a filter has at most two predicates and one AND or OR; "
                           f"unexpected {text[scanner.pos:]!r} at position {scanner.pos + 1}")
    return Filter((first, second), logical)


# --- checking against a collection ----------------------------------------------------------


class Contains(Enum):
    """A reading of ``~`` (contains): the spec does not say how it treats case."""

    ASCII = "ignoring ASCII case"
    EXACT = "case-sensitive"
    CASEFOLD = "ignoring case"

    def fold(self, text: str) -> str:
        """``text`` as this reading compares it."""
        if self is Contains.ASCII:
            return text.translate(_ASCII_LOWER)
        return text.casefold() if self is Contains.CASEFOLD else text


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def read_values(record: dict, field: Field) -> list | None:
    """The field's values in a served record, ready to compare: strings for the string kinds,
    exact numbers, dates or instants. None when the field is missing (a single value of the
    wrong type or unreadable counts as missing; in an array such an element is skipped)."""
    served = field.served(record)
    if served is None:
        return None
    if field.kind is Kind.NUMBER:
        read: list = [served_number(v) for v in served]
    elif field.kind.is_time:
        read = [read_time(v) if isinstance(v, str) else None for v in served]
    else:
        read = [v if isinstance(v, str) else None for v in served]
    values = [v for v in read if v is not None]
    return values if field.many or values else None


_ORDER: dict[str, Callable[[int], bool]] = {
    "=": lambda c: c == 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0,
    "<": lambda c: c < 0, "<=": lambda c: c <= 0}


@dataclass(frozen=True)
class Condition:
    """A predicate checked against a collection: its field, and its value read for the field's
    kind (text as written, an exact number, a date or an instant)."""

    predicate: Predicate
    field: Field
    value: object

    def test(self, contains: Contains = Contains.ASCII) -> Callable[[object], bool]:
        """Whether one value (from ``read_values``) satisfies the predicate; for ``!=``, the
        test for ``=`` (``holds`` negates it over all the values)."""
        op = "=" if self.predicate.op == "!=" else self.predicate.op
        if op == "~":
            needle = contains.fold(self.value)  # type: ignore[arg-type]
            return lambda value: needle in contains.fold(value)  # type: ignore[arg-type]
        order = _ORDER[op]
        if self.field.kind.is_time:
            wanted: Time = self.value  # type: ignore[assignment]
            return lambda value: order(compare_times(value, wanted))  # type: ignore[arg-type]
        if self.field.kind is Kind.NUMBER:
            number = self.value
            return lambda value: order((value > number) - (value < number))  # type: ignore
        return lambda value: value == self.value

    def holds(self, values: list | None, contains: Contains = Contains.ASCII,
              test: Callable[[object], bool] | None = None) -> bool:
        """Whether the predicate holds on a field's values (``read_values``); ``test`` may be
        given, from ``self.test(contains)``, to build it once for many records."""
        if values is None:
            return False
        test = test or self.test(contains)
        if self.predicate.op == "!=":
            return not any(map(test, values))
        return any(map(test, values))


def check_predicate(predicate: Predicate, catalogue: Catalogue) -> Condition:
    """The predicate's field and value, checked against the collection's fields."""
    field = catalogue.fields.get(predicate.field)
    if field is None:
        raise UnknownFieldError(f"unknown filter field {predicate.field!r} for "
                                f"{catalogue.collection} in OneRoster {catalogue.version}")
    allowed = ALLOWED[field.kind]
    if predicate.op not in allowed:
        raise FilterValueError(f"operator {predicate.op} does not apply to {field.name!r} "
                               f"({field.kind}); use {' '.join(allowed)}")
    value: object = predicate.value
    if field.kind.is_time:
        value = read_time(predicate.value)
        if value is None:
            raise FilterValueError(f"{predicate.value!r} for {field.name!r} is not a date "
                                   "(YYYY-MM-DD) or a date-time (YYYY-MM-DDThh:mm:ssZ)")
    elif field.kind is Kind.NUMBER:
        value = read_number(predicate.value)
        if value is None:
            raise FilterValueError(f"{predicate.value!r} for {field.name!r} is not a number")
    return Condition(predicate, field, value)


@dataclass(frozen=True)
class CheckedFilter:
    """A filter whose predicates all fit the collection, ready to evaluate on its records."""

    filter: Filter
    conditions: tuple[Condition, ...]

    def matches(self, record: dict, contains: Contains = Contains.ASCII) -> bool:
        """Whether a served record satisfies the filter, ``~`` read as ``contains`` says."""
        results = (c.holds(read_values(record, c.field), contains) for c in self.conditions)
        return any(results) if self.filter.logical == "OR" else all(results)


def check_filter(flt: Filter, catalogue: Catalogue) -> CheckedFilter:
    """The filter checked against a collection's fields: UnknownFieldError for a field it does
    not have, FilterValueError for an operator or value that does not fit the field."""
    return CheckedFilter(flt, tuple(check_predicate(p, catalogue) for p in flt.predicates))


def matches(flt: Filter, record: dict, catalogue: Catalogue,
            contains: Contains = Contains.ASCII) -> bool:
    """Whether a served record of the catalogue's collection satisfies the filter."""
    return check_filter(flt, catalogue).matches(record, contains)


__all__ = [
    "ALLOWED", "LOGICALS", "OPERATORS", "CheckedFilter", "Condition", "Contains", "Filter",
    "FilterError", "FilterSyntaxError", "FilterValueError", "Predicate", "UnknownFieldError",
    "check_filter", "check_predicate", "matches", "parse_filter", "read_values",
]
