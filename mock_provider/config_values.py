"""Configuration values that can be refused: the error naming the bad key, and the check of
one TOML table's keys and value types.

TOML keeps booleans, integers, dates and date-times apart; Python does not (a bool is an int, a
datetime is a date), so the check does it for the loaders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any


class ConfigValueError(ValueError):
    """One bad value; ``key`` names it so a loader can point at it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def check_table(table: Mapping[str, Any], kinds: Mapping[str, tuple[type, ...]],
                required: Sequence[str] = ()) -> None:
    """ConfigValueError for the first thing wrong with ``table``. ``kinds`` maps every allowed
    key to the types it may hold; a list must hold strings."""
    for key, value in table.items():
        if key not in kinds:
            raise ConfigValueError(key, f"unknown key (expected one of {', '.join(kinds)})")
        wanted = kinds[key]
        bad = (not isinstance(value, wanted) or (isinstance(value, bool) and bool not in wanted)
               or isinstance(value, datetime))
        if bad:
            names = " or ".join("date" if t is date else t.__name__ for t in wanted)
            raise ConfigValueError(key, f"expected {names}, got {type(value).__name__}")
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            raise ConfigValueError(key, "expected a list of strings")
    for key in required:
        if key not in table:
            raise ConfigValueError(key, "missing required key")
