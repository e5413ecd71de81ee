"""A small bounded memo: values worked out once and remembered until there are too many."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


def remember(memo: dict, key: Hashable, make: Callable[[], T], most: int) -> T:
    """``memo[key]``, made by ``make()`` the first time; the memo is emptied when it holds
    ``most`` values (keys come from requests, so it must not grow without bound)."""
    value = memo.get(key)
    if value is None:
        if len(memo) >= most:
            memo.clear()
        value = memo[key] = make()
    return value
