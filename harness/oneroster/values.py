"""How dates, date-times and numbers are read, in served records and in filter values.

OneRoster dates are ``YYYY-MM-DD``; date-times are ISO 8601 / RFC 3339 and ``dateLastModified``
"must include UTC" (spec notes §0.3, §7.3). The readings here:

* A date-time is an instant: ``YYYY-MM-DD``, ``T`` (or ``t`` or a space), ``hh:mm`` with
  optional ``:ss`` and fractional seconds of any length, then ``Z``, an offset (``+hh:mm``,
  ``+hhmm`` or ``+hh``) or nothing, read as UTC. Equivalent spellings are the same instant:
  ``10:00:00Z``, ``10:00:00.000Z`` and ``11:00:00+01:00`` are equal. Fractions are kept
  exactly (no rounding to microseconds), so ``.1234567`` and ``.123456`` differ.
* When a date meets a date-time, they compare as dates: the date-time stands for its UTC day
  (spec notes §7.3, "date-valued filters compare as dates"). So ``dateLastModified>'2015-01-01'``
  holds from 2015-01-02T00:00Z on, and ``dateLastModified='2015-01-01'`` all that day.
* A number is a finite decimal (sign, fraction and exponent allowed), kept exactly, so
  ``'9.50'`` equals a served ``9.5``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATE_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?")
MAX_EXPONENT = 400  # beyond any real score; keeps Fraction from building huge integers


@dataclass(frozen=True, order=True)
class Instant:
    """A moment in time: the UTC date-time to the whole second, and the exact fraction of a
    second after it (0 <= fraction < 1)."""

    utc: datetime
    fraction: Fraction = Fraction(0)

    @property
    def day(self) -> date:
        """The UTC calendar day the instant falls on."""
        return self.utc.date()


Time = date | Instant


def read_date(text: str) -> date | None:
    """A calendar date written ``YYYY-MM-DD``, else None."""
    found = _DATE.fullmatch(text)
    if not found:
        return None
    try:
        return date(*map(int, found.groups()))
    except ValueError:  # 2026-02-30
        return None


def read_instant(text: str) -> Instant | None:
    """A date-time (see the module docstring) as an instant, else None."""
    found = _DATE_TIME.fullmatch(text)
    if not found:
        return None
    year, month, day, hour, minute, second, digits, _zulu, sign, off_h, off_m = found.groups()
    offset = timedelta(0)
    if sign:
        if int(off_h) > 23 or int(off_m or 0) > 59:
            return None
        offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
        offset = -offset if sign == "-" else offset
    try:
        local = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), tzinfo=timezone(offset))
        utc = local.astimezone(UTC)
    except (ValueError, OverflowError):  # hour 24, second 60, a day before year 1
        return None
    return Instant(utc, Fraction(int(digits), 10 ** len(digits)) if digits else Fraction(0))


def read_time(text: str) -> Time | None:
    """A date, else a date-time instant, else None."""
    return read_date(text) or read_instant(text)


def compare_times(left: Time, right: Time) -> int:
    """-1, 0 or 1 as ``left`` is before, the same as or after ``right``; a date against a
    date-time compares with the date-time's UTC day."""
    if isinstance(left, Instant) and isinstance(right, Instant):
        a: object = left
        b: object = right
    else:
        a = left.day if isinstance(left, Instant) else left
        b = right.day if isinstance(right, Instant) else right
    return (a > b) - (a < b)  # type: ignore[operator]


def read_number(text: str) -> Fraction | None:
    """A finite decimal number written in a filter value, exactly, else None."""
    found = _NUMBER.fullmatch(text)
    if not found or (found.group(1) and abs(int(found.group(1))) > MAX_EXPONENT):
        return None
    return Fraction(text)


def served_number(value: object) -> Fraction | None:
    """A JSON number as served (not a boolean), at the decimal it was written with."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    # repr gives the shortest decimal that reads back as this float: the JSON text's number.
    return Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
