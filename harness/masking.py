"""Secrets out of everything a run prints or writes.

Requests are shown with their credentials masked where they are built (``harness.exchange``),
but a secret also travels where nobody put it on purpose: a provider echoing a token in an
error description, an HTTP library quoting a header it refused to send (a token holding CR/LF),
a message that folded the token's line breaks into spaces. So the finished run is masked as a
whole, for every secret the run knew, in each form a secret takes on its way into text: as it
is, JSON-escaped, Python-escaped (str and bytes), URL-encoded, HTML-escaped, with its
whitespace folded, and line by line. Plain string replacement: a secret's characters mean
nothing special here, whatever they are.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

MASK = "***"
# Shorter values are masked only where they are known to be secrets (an Authorization header,
# a token answer's access_token): replacing "secret" everywhere would garble a report.
MIN_MASKED = 8

T = TypeVar("T")


def forms(secret: str) -> set[str]:
    """The ways ``secret`` can show up in text, each at least MIN_MASKED characters long."""
    found = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             repr(secret)[1:-1], repr(secret.encode("utf-8", "replace"))[2:-1],
             quote(secret), quote(secret, safe=""), quote_plus(secret), html.escape(secret),
             " ".join(secret.split())}
    found |= {part for part in secret.split() if len(part) >= 2 * MIN_MASKED}
    return {form for form in found if len(form) >= MIN_MASKED}


class Masker:
    """Masks a set of secrets in text, the longest form first (so a secret inside another is
    not left half shown)."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        every: set[str] = set()
        for secret in secrets:
            if secret:
                every |= forms(secret)
        self._forms = sorted(every, key=len, reverse=True)

    def text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text

    def value(self, value: T) -> T:
        """``value`` with every string in it masked: strings, tuples, lists, dicts and frozen
        dataclasses (rebuilt, never changed in place)."""
        return self._value(value)

    def _value(self, value: Any) -> Any:
        if not self._forms:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, tuple):
            return tuple(self._value(v) for v in value)
        if isinstance(value, list):
            return [self._value(v) for v in value]
        if isinstance(value, dict):
            return {self._value(k): self._value(v) for k, v in value.items()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {f.name: self._value(getattr(value, f.name))
                       for f in dataclasses.fields(value) if f.init}
            return dataclasses.replace(value, **changes)
        return value


__all__ = ["MASK", "Masker", "forms"]
