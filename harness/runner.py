"""Run the check catalogue against a target: every check in turn, timed, never crashing."""

from __future__ import annotations

import time
from collections.abc import Callable

from .checks import CHECKS, Check, Context, Finding, Outcome
from .model import CheckResult, RunSummary
from .profiles import apply_profiles, parse_profiles
from .target import BudgetExceeded, Target, TargetError

Progress = Callable[[Check], None]


def select(only: str | None, profiles: str | None = None) -> list[Check]:
    """The checks to run: those of the profiles (``spec`` by default, see harness.profiles),
    all of them or the comma-separated ids (or id prefixes like OR-PAGE), at the severity the
    profiles give them."""
    chosen_profiles = parse_profiles(profiles)
    if not only:
        return apply_profiles(list(CHECKS.values()), chosen_profiles)
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    chosen = [c for c in CHECKS.values() if any(c.id == w or c.id.startswith(w + "-")
                                                 for w in wanted)]
    unknown = [w for w in wanted if not any(c.id == w or c.id.startswith(w + "-")
                                            for c in CHECKS.values())]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; `oneroster-harness explain` lists them")
    return apply_profiles(chosen, chosen_profiles)


def _run_one(check: Check, ctx: Context) -> Outcome:
    try:
        return check.run(ctx)
    except Finding as finding:
        return Outcome("failed", finding.message, finding.evidence)
    except BudgetExceeded as exc:
        return Outcome("skipped", str(exc))
    except TargetError:
        raise
    except Exception as exc:  # a broken provider must not crash the checker
        return Outcome("failed", f"the check could not complete: {type(exc).__name__}: {exc}")


def result_of(check: Check, outcome: Outcome, began: float) -> CheckResult:
    """A check's result: a failed warning-severity check reads "warning"."""
    status = outcome.status
    if status == "failed" and check.severity == "warning":
        status = "warning"
    return CheckResult(check.id, check.title, check.rule, check.severity, status,
                       outcome.message, tuple(outcome.evidence),
                       round(time.perf_counter() - began, 3))


def run_checks(target: Target, checks: list[Check], progress: Progress | None = None,
               max_seconds: float | None = None, seed: int = 42) -> RunSummary:
    """Every check against ``target``; once ``max_seconds`` have passed, the checks not yet
    started are skipped (a slow provider cannot hold a CI job forever). Raises TargetError
    when no token can be had at all."""
    started = time.perf_counter()
    target.authenticate()
    ctx = Context(target, seed=seed)
    results = []
    for check in checks:
        if progress:
            progress(check)
        began = time.perf_counter()
        if max_seconds is not None and began - started > max_seconds:
            outcome = Outcome("skipped", f"the run's time limit of {max_seconds:g} s was reached")
        else:
            outcome = _run_one(check, ctx)
        results.append(result_of(check, outcome, began))
    return RunSummary(target.base_url, target.version, tuple(results),
                      round(time.perf_counter() - started, 3))
