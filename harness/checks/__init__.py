"""The check catalogue: small functions registered with a stable id, a rule and a severity.

A check gets a ``Context`` (the target plus what earlier checks already fetched) and returns an
``Outcome``; raising ``Finding`` is the short way to fail with evidence. Importing this package
registers every check module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import Evidence
from ..target import Exchange, Target


@dataclass
class Outcome:
    status: str  # passed | failed | warning | skipped
    message: str
    evidence: list[Evidence] = field(default_factory=list)


class Finding(Exception):
    """A check's verdict of non-conformance, with the exchanges that show it."""

    def __init__(self, message: str, *exchanges: Exchange) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = [e.evidence() for e in exchanges]


@dataclass
class Context:
    target: Target
    first_pages: dict[str, Exchange] = field(default_factory=dict)

    def first_page(self, collection: str) -> Exchange:
        """``GET /<collection>?limit=5``, fetched once per run."""
        if collection not in self.first_pages:
            self.first_pages[collection] = self.target.get(f"/{collection}", {"limit": 5})
        return self.first_pages[collection]


CheckFunction = Callable[[Context], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    rule: str
    severity: str
    run: CheckFunction
    explanation: str


CHECKS: dict[str, Check] = {}


def check(id: str, title: str, rule: str, severity: str = "error") -> Callable[[CheckFunction],
                                                                              CheckFunction]:
    """Register a check; its docstring is what ``oneroster-harness explain ID`` prints."""

    def register(func: CheckFunction) -> CheckFunction:
        if id in CHECKS:
            raise ValueError(f"check id {id} registered twice")
        explanation = " ".join((func.__doc__ or "").split())
        CHECKS[id] = Check(id, title, rule, severity, func, explanation)
        return func

    return register


def passed(message: str, *exchanges: Exchange) -> Outcome:
    return Outcome("passed", message, [e.evidence() for e in exchanges])


from . import rostering  # noqa: E402,F401  (registers the rostering checks)
