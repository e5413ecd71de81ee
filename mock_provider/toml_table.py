"""Checking one table of a TOML file: known keys, value types, required keys.

TOML keeps booleans, integers, dates and date-times apart; Python does not (a bool is an int, a
datetime is a date), so the check does it for the loaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any


def table_problem(table: Mapping[str, Any], kinds: Mapping[str, tuple[type, ...]],
                  required: Sequence[str] = ()) -> tuple[str, str] | None:
    """The first (key, message) wrong with ``table``, or None. ``kinds`` maps every allowed key
    to the types it may hold; a list must hold strings."""
    for key, value in table.items():
        if key not in kinds:
            return key, f"unknown key (expected one of {', '.join(kinds)})"
        wanted = kinds[key]
        bad = (not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted)
               or isinstance(value, datetime))
        if bad:
            names = " or ".join("date" if t is date else t.__name__ for t in wanted)
            return key, f"expected {names}, got {type(value).__name__}"
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            return key, "expected a list of strings"
    for key in required:
        if key not in table:
            return key, "missing required key"
    return None
