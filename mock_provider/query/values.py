"""How filter values and stored values are read before they are compared.

Shared by the Python reference semantics (``filter.matches``) and the SQL (``sql.where_sql``,
which calls ``canonical_time`` back as the SQLite function ``oneroster_time``), so both sides
normalise dates and times with literally the same code.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

# A date, or a date-time whose zone may be Z, +HH:MM, +HHMM or left out (read as UTC). The
# separator may be T, t or a space, seconds and fractions are optional. Stored and filter
# values both go through this, so a provider's odd but readable timestamps still compare.
_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"\s*(Z|z|[+-][0-9]{2}:?[0-9]{2})?)?",
    re.ASCII,
)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}

MIDNIGHT = "T00:00:00.000000Z"
INSTANT_LEN = 10 + len(MIDNIGHT)


def canonical_time(value: object) -> str | None:
    """``YYYY-MM-DD`` for a date, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC) for a date-time, None
    for anything else. Both forms are fixed width, so string order is time order."""
    if not isinstance(value, str):
        return None
    match = _TIME.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day)).isoformat()
        micros = int((fraction or "0")[:6].ljust(6, "0"))
        moment = datetime(int(year), int(month), int(day), int(hour), int(minute),
                          int(second or 0), micros)
        if zone is not None and zone not in ("Z", "z"):
            hours, minutes = int(zone[1:3]), int(zone[-2:])
            if hours > 23 or minutes > 59:
                return None
            offset = timedelta(hours=hours, minutes=minutes)
            moment = moment - offset if zone[0] == "+" else moment + offset
    except (ValueError, OverflowError):
        return None
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z")


def instant(key: str) -> str:
    """A ``canonical_time`` key as an instant: a date stands for midnight UTC."""
    return (key + MIDNIGHT)[:INSTANT_LEN]


def time_holds(stored: str, op: str, value: str) -> bool:
    """``stored op value`` for two ``canonical_time`` keys (rules: ``fields`` docstring)."""
    if op in ("=", "!="):
        if len(stored) == 10 or len(value) == 10:
            equal = stored[:10] == value[:10]
        else:
            equal = stored == value
        return equal if op == "=" else not equal
    return compare(instant(stored), op, instant(value))


def compare(left: str | float, op: str, right: str | float) -> bool:
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == ">":
        return left > right  # type: ignore[operator]
    if op == ">=":
        return left >= right  # type: ignore[operator]
    if op == "<":
        return left < right  # type: ignore[operator]
    if op == "<=":
        return left <= right  # type: ignore[operator]
    raise ValueError(f"not an ordering operator: {op!r}")


def parse_number(text: str) -> float | None:
    """A finite decimal number (sign, fraction and exponent allowed), else None."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    number = float(text)
    return number if math.isfinite(number) else None


def ascii_lower(text: str) -> str:
    """Lower-case A-Z only, exactly as SQLite's built-in ``lower()`` does."""
    return text.translate(_ASCII_LOWER)


def day_shift(day: str, days: int) -> str | None:
    """``day`` (YYYY-MM-DD) moved by ``days``; None past the calendar's ends."""
    try:
        return (date.fromisoformat(day) + timedelta(days=days)).isoformat()
    except OverflowError:
        return None
