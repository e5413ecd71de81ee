"""Run the provider check catalogue against a target: every check in turn, timed, never
crashing (the engine's run loop, with the provider's selection and profiles)."""

from __future__ import annotations

import time
from collections.abc import Callable

from .checks import CHECKS, Check, Context, WalkLimits
from .engine import ordered, run_all
from .model import RunSummary, utc_now
from .profiles import apply_profiles, parse_profiles
from .target import Target

Progress = Callable[[Check], None]


def select(only: str | None, profiles: str | None = None) -> list[Check]:
    """The checks to run: those of the profiles (``spec`` by default, see harness.profiles),
    all of them or the comma-separated ids (or id prefixes like OR-PAGE), at the severity the
    profiles give them, in the order they run (run-phase checks last)."""
    chosen_profiles = parse_profiles(profiles)
    if not only:
        return ordered(apply_profiles(list(CHECKS.values()), chosen_profiles))
    wanted = [part.strip() for part in only.split(",") if part.strip()]
    chosen = [c for c in CHECKS.values() if any(c.id == w or c.id.startswith(w + "-")
                                                 for w in wanted)]
    unknown = [w for w in wanted if not any(c.id == w or c.id.startswith(w + "-")
                                            for c in CHECKS.values())]
    if unknown:
        raise ValueError(f"unknown check {unknown[0]!r}; `oneroster-harness explain` lists them")
    return ordered(apply_profiles(chosen, chosen_profiles))


def run_checks(target: Target, checks: list[Check], progress: Progress | None = None,
               max_seconds: float | None = None, seed: int = 42,
               limits: WalkLimits | None = None, profile: str = "spec") -> RunSummary:
    """Every check against ``target``; once ``max_seconds`` have passed, the checks not yet
    started are skipped (a slow provider cannot hold a CI job forever). Raises TargetError
    when no token can be had at all."""
    started = time.perf_counter()
    began = utc_now()
    target.authenticate()
    ctx = Context(target, seed=seed, limits=limits or WalkLimits())
    results = run_all(checks, ctx, progress=progress, max_seconds=max_seconds)
    return RunSummary(target.base_url, target.version, tuple(results),
                      round(time.perf_counter() - started, 3), began, profile, seed)
