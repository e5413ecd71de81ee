"""Judging a consumer: the consumer checks over one recording, giving a RunSummary like the
provider checker's, so the same reports serve both."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from ..checks import Check, Finding, Outcome
from ..model import RunSummary
from ..runner import result_of
from .recording import Recorded, Recording

CONSUMER_CHECKS: dict[str, Check] = {}
PAGING_PARAMS = frozenset({"limit", "offset"})
# The last path segment of every OneRoster collection endpoint (1.1 and 1.2).
COLLECTIONS = frozenset({
    "orgs", "schools", "academicSessions", "terms", "gradingPeriods", "courses", "classes",
    "users", "students", "teachers", "enrollments", "demographics", "lineItems", "results",
    "categories", "scoreScales", "resources", "assessmentLineItems", "assessmentResults"})


@dataclass
class Judgement:
    """What the consumer checks read: the recording, and the consumer's own roster when it
    handed one back (collection -> sourcedId -> status)."""

    recording: Recording
    roster: dict[str, dict[str, str]] | None = None
    roster_error: str | None = None  # why the roster asked for could not be read

    @property
    def header(self) -> dict:
        return self.recording.header

    @cached_property
    def data(self) -> list[Recorded]:
        """The OneRoster requests (not token requests), in the order they arrived."""
        return sorted((e for e in self.recording.exchanges if e.is_oneroster),
                      key=lambda e: (e.start, e.seq))

    @cached_property
    def token_requests(self) -> list[Recorded]:
        return sorted((e for e in self.recording.exchanges if e.is_token_request),
                      key=lambda e: (e.start, e.seq))

    @cached_property
    def all(self) -> list[Recorded]:
        return sorted(self.recording.exchanges, key=lambda e: (e.start, e.seq))

    @cached_property
    def walks(self) -> dict[tuple, list[Recorded]]:
        """Collection reads grouped by what was walked: phase, path and every query parameter
        except limit and offset. A read is of a collection when its answer carries
        X-Total-Count or its path ends in a collection's name (a walk that never got a page
        counts too)."""
        groups: dict[tuple, list[Recorded]] = {}
        for exchange in self.data:
            if exchange.method != "GET":
                continue
            query = tuple(sorted((k, v) for k, v in exchange.params.items()
                                 if k not in PAGING_PARAMS))
            groups.setdefault((exchange.phase, exchange.path, query), []).append(exchange)
        return {key: pages for key, pages in groups.items()
                if key[1].rsplit("/", 1)[-1] in COLLECTIONS
                or any(p.ok and p.header("x-total-count") is not None for p in pages)}

    def evidence(self, *exchanges: Recorded) -> list:
        return self.recording.evidence(*exchanges)

    def finding(self, message: str, *exchanges: Recorded) -> Finding:
        finding = Finding(message)
        finding.evidence = self.evidence(*exchanges)
        return finding


JudgeFunction = Callable[[Judgement], Outcome]


def consumer_check(id: str, title: str, rule: str, severity: str = "error"
                   ) -> Callable[[JudgeFunction], JudgeFunction]:
    """Register a consumer check; its docstring is what ``explain ID`` prints."""

    def register(func: JudgeFunction) -> JudgeFunction:
        if id in CONSUMER_CHECKS:
            raise ValueError(f"check id {id} registered twice")
        explanation = " ".join((func.__doc__ or "").split())
        CONSUMER_CHECKS[id] = Check(id, title, rule, severity, func, explanation)  # type: ignore[arg-type]
        return func

    return register


def skipped(message: str) -> Outcome:
    return Outcome("skipped", message)


def judge(recording: Recording, roster: dict[str, dict[str, str]] | None = None,
          target: str | None = None, roster_error: str | None = None) -> RunSummary:
    """Every consumer check over ``recording``; a check that breaks fails, never the run."""
    started = time.perf_counter()
    judgement = Judgement(recording, roster, roster_error)
    results = []
    for check in CONSUMER_CHECKS.values():
        began = time.perf_counter()
        try:
            outcome = check.run(judgement)  # type: ignore[arg-type]
        except Finding as finding:
            outcome = Outcome("failed", finding.message, finding.evidence)
        except Exception as exc:  # a strange recording must not crash the judge
            outcome = Outcome("failed", f"the check could not complete: "
                                        f"{type(exc).__name__}: {exc}")
        results.append(result_of(check, outcome, began))
    name = target or f"consumer, scenario {recording.header.get('scenario', '?')}"
    return RunSummary(name, str(recording.header.get("version", "1.2")), tuple(results),
                      round(time.perf_counter() - started, 3))


from . import checks  # noqa: E402,F401  (registers the consumer checks)
