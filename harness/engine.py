"""The check engine shared by provider and consumer checks.

A check is a small function registered under a stable id with a title, the rule it enforces and
a severity. It receives a subject (a provider ``Context`` or a consumer ``Judgement``) and
returns an ``Outcome``; raising ``Finding`` is the short way to fail with evidence, and
``Skip`` the short way to say it cannot conclude. Checks of the ``run`` phase judge the whole
run (the incidents a target met, say) and always run after every ``checks``-phase check,
whatever order the modules were imported in.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from .model import CheckResult, Evidence

KINDS = ("provider", "consumer")
PHASES = ("checks", "run")  # run: judges what the whole run met, so it runs last
EXAMPLES = 3  # offending items named in a message
MAX_EVIDENCE = 3  # exchanges attached to a finding
# A message or an item quotes what a provider sent; a provider sending megabytes must not make
# a report of megabytes. Longer ones are cut (and say so).
MAX_MESSAGE = 4_000
MAX_ITEM = 1_000


class HasEvidence(Protocol):
    def evidence(self) -> Evidence: ...


def evidence_of(exchanges: Iterable[HasEvidence | None], limit: int = MAX_EVIDENCE
                ) -> list[Evidence]:
    """The evidence of distinct exchanges, in order, at most ``limit``."""
    chosen: list[HasEvidence] = []
    for exchange in exchanges:
        if exchange is not None and all(exchange is not c for c in chosen):
            chosen.append(exchange)
    return [e.evidence() for e in chosen[:limit]]


def few(items: Sequence[str], limit: int = EXAMPLES) -> str:
    """The first few of ``items`` and how many more there are."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass
class Outcome:
    status: str  # passed | failed | warning | skipped
    message: str
    evidence: list[Evidence] = field(default_factory=list)
    items: list[str] = field(default_factory=list)  # every offending item, for the reports


class Finding(Exception):
    """A check's verdict of non-conformance, with the exchanges that show it and every
    offending item (the message names only the first few)."""

    def __init__(self, message: str, *exchanges: HasEvidence,
                 evidence: list[Evidence] | None = None, items: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = list(evidence) if evidence is not None else \
            [e.evidence() for e in exchanges]
        self.items = list(items)


class Skip(Exception):
    """The check cannot conclude (a precondition is missing, a budget is spent)."""


class Abort(Exception):
    """The run cannot go on at all (no token, nothing listening): a usage problem."""


def passed(message: str, *exchanges: HasEvidence) -> Outcome:
    return Outcome("passed", message, [e.evidence() for e in exchanges])


def skipped(message: str, *exchanges: HasEvidence) -> Outcome:
    return Outcome("skipped", message, [e.evidence() for e in exchanges])


class Offenders:
    """Every offending item a check finds, collected before one finding is raised: the
    message counts them and names the first few, the finding keeps them all."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self._evidence: list[Evidence] = []

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: str, *exchanges: HasEvidence | None) -> None:
        self.items.append(item)
        self._keep(evidence_of(exchanges))

    def add_finding(self, label: str, finding: Finding) -> None:
        """Another step's finding, kept as one item with its evidence."""
        self.items.append(f"{label}: {finding.message}")
        self._keep(finding.evidence[:MAX_EVIDENCE])

    def _keep(self, evidence: list[Evidence]) -> None:
        self._evidence += [e for e in evidence if e not in self._evidence]

    def finding(self, message: str) -> Finding:
        return Finding(message, evidence=self._evidence[:MAX_EVIDENCE], items=self.items)

    def raise_if_any(self, headline: str | Callable[[int], str], suffix: str = "") -> None:
        """``<headline>: a, b, c and N more<suffix>`` when there is any offender."""
        if self.items:
            text = headline(len(self.items)) if callable(headline) else headline
            raise self.finding(f"{text}: {few(self.items)}{suffix}")

    def raise_if_failed(self, checked: int, what: str) -> None:
        """For items that are whole sentences: ``N of M <what> failed; first: <item>`` (the
        item alone when only one was checked)."""
        if self.items:
            first = self.items[0]
            raise self.finding(f"{len(self.items)} of {checked} {what} failed; first: {first}"
                               if checked > 1 else first)


CheckFunction = Callable[[Any], Outcome]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    rule: str
    severity: str
    run: CheckFunction
    explanation: str
    kind: str = "provider"
    phase: str = "checks"

    @property
    def family(self) -> str:
        """The id's family: OR-PAGE-006 -> PAGE, OR-CON-AUTH-001 -> CON-AUTH."""
        return self.id.removeprefix("OR-").rsplit("-", 1)[0]


class Registry:
    """Every check of every kind, each id once; ``of(kind)`` is the live catalogue of a kind,
    in registration order."""

    def __init__(self) -> None:
        self._kinds: dict[str, dict[str, Check]] = {kind: {} for kind in KINDS}

    def of(self, kind: str) -> dict[str, Check]:
        return self._kinds[kind]

    def get(self, check_id: str) -> Check | None:
        for checks in self._kinds.values():
            if check_id in checks:
                return checks[check_id]
        return None

    def all(self) -> list[Check]:
        return [c for checks in self._kinds.values() for c in checks.values()]

    def register(self, id: str, title: str, rule: str, severity: str = "error", *,
                 kind: str = "provider", phase: str = "checks"
                 ) -> Callable[[CheckFunction], CheckFunction]:
        """A decorator; the function's docstring is what ``oneroster-harness explain ID``
        prints."""
        if kind not in KINDS or phase not in PHASES or severity not in ("error", "warning"):
            raise ValueError(f"check {id}: unknown kind, phase or severity")

        def register(func: CheckFunction) -> CheckFunction:
            if self.get(id) is not None:
                raise ValueError(f"check id {id} registered twice")
            explanation = " ".join((func.__doc__ or "").split())
            self._kinds[kind][id] = Check(id, title, rule, severity, func, explanation, kind,
                                          phase)
            return func

        return register


REGISTRY = Registry()


def guard(reason: Callable[[Any], str | None]) -> Callable[[CheckFunction], CheckFunction]:
    """A precondition as a decorator: when ``reason(subject)`` names one, the check is
    skipped with it instead of run."""

    def wrap(func: CheckFunction) -> CheckFunction:
        @functools.wraps(func)
        def guarded(subject: Any) -> Outcome:
            why = reason(subject)
            return skipped(why) if why else func(subject)

        return guarded

    return wrap


def ordered(checks: Iterable[Check]) -> list[Check]:
    """The checks in the order they run: the ``checks`` phase, then the ``run`` phase."""
    chosen = list(checks)
    return [c for c in chosen if c.phase == "checks"] + [c for c in chosen if c.phase == "run"]


def run_one(check: Check, subject: Any) -> Outcome:
    """One check; a check that breaks on a strange answer fails, it never ends the run
    (only ``Abort`` does)."""
    try:
        return check.run(subject)
    except Finding as finding:
        return Outcome("failed", finding.message, finding.evidence, finding.items)
    except Skip as skip:
        return Outcome("skipped", str(skip))
    except Abort:
        raise
    except Exception as exc:  # a broken provider or recording must not crash the checker
        return Outcome("failed", f"the check could not complete: {type(exc).__name__}: {exc}")


def result_of(check: Check, outcome: Outcome, began: float) -> CheckResult:
    """A check's result: a failed warning-severity check reads "warning"."""
    status = outcome.status
    if status == "failed" and check.severity == "warning":
        status = "warning"
    return CheckResult(check.id, check.title, check.rule, check.severity, status,
                       bounded(outcome.message, MAX_MESSAGE), tuple(outcome.evidence),
                       round(time.perf_counter() - began, 3),
                       tuple(bounded(item, MAX_ITEM) for item in outcome.items))


def bounded(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


def run_all(checks: Iterable[Check], subject: Any, *,
            progress: Callable[[Check], None] | None = None,
            max_seconds: float | None = None, started: float | None = None
            ) -> list[CheckResult]:
    """Every check against ``subject`` in phase order; once ``max_seconds`` have passed since
    ``started`` (a ``time.perf_counter()`` value; now by default), the checks of the
    ``checks`` phase not yet started are skipped (a slow provider cannot hold a CI job
    forever), while the ``run`` phase still reports what the run met."""
    started = time.perf_counter() if started is None else started
    results = []
    for check in ordered(checks):
        if progress:
            progress(check)
        began = time.perf_counter()
        late = max_seconds is not None and began - started >= max_seconds
        if late and check.phase == "checks":
            outcome = skipped(f"the run's time limit of {max_seconds:g} s was reached")
        else:
            outcome = run_one(check, subject)
        results.append(result_of(check, outcome, began))
    return results
