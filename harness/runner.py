"""Run the provider check catalogue against a target: every check in turn, timed, never
crashing (the engine's run loop, with the provider's selection and profiles)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from .checks import CHECKS, Check, Context, WalkLimits
from .engine import ordered, run_all
from .masking import Masker
from .model import RunSummary, utc_now
from .profiles import apply_profiles, parse_profiles
from .target import OutOfTime, Target, TargetError

Progress = Callable[[Check], None]
# Check families that use a service beyond rostering, by version: the token request asks
# for its scopes only when one of them runs. In 1.1, discovery and the OpenAPI check ask every
# read of the one v1p1 document, the grade book's and resources' included.
FAMILY_SERVICES: dict[str, dict[str, tuple[str, ...]]] = {
    "GB": {"1.2": ("gradebook",), "1.1": ("gradebook",)},
    "FILTER": {"1.2": ("gradebook-reads",), "1.1": ("gradebook-reads",)},  # OR-FILTER-005
    "DISC": {"1.1": ("gradebook", "resources")},
    "API": {"1.1": ("gradebook", "resources")},
}


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


def services_for(checks: list[Check], version: str = "1.2") -> set[str]:
    """The OneRoster services the checks read or write in ``version``: rostering, and the
    grade book (or resources) when a check that uses it is among them."""
    return {"rostering"} | {service for c in checks
                            for service in FAMILY_SERVICES.get(c.family, {}).get(version, ())}


def run_checks(target: Target, checks: list[Check], progress: Progress | None = None,
               max_seconds: float | None = None, seed: int = 42,
               limits: WalkLimits | None = None, profile: str = "spec") -> RunSummary:
    """Every check against ``target``; once ``max_seconds`` have passed, the check in progress
    is cut off at its next request (or the answer it awaits) and the checks not yet started
    are skipped (a slow provider cannot hold a CI job forever), while the run-phase checks
    still report. The token request asks
    for the scopes of the services the checks use; one request to ``/orgs`` goes first. Raises
    TargetError when the provider cannot be used at all (no token, the credentials refused,
    nothing OneRoster at the base URL)."""
    started = time.perf_counter()
    began = utc_now()
    if max_seconds is not None:
        target.limit_time(max_seconds)  # requests in flight are cut off, not only checks
    try:
        target.authenticate(services_for(checks, target.version))
        # Out of time already: every check is skipped for it, and the run phase still reports.
        with contextlib.suppress(OutOfTime):
            target.probe()
    except TargetError as exc:  # its line may quote a provider that echoes a token
        raise TargetError(Masker(target.all_secrets()).text(str(exc))) from None
    ctx = Context(target, seed=seed, limits=limits or WalkLimits())
    results = run_all(checks, ctx, progress=progress, max_seconds=max_seconds,
                      started=started)
    summary = RunSummary(target.base_url, target.version, tuple(results),
                         round(time.perf_counter() - started, 3), began, profile, seed,
                         target.access)
    return Masker(target.all_secrets()).value(summary)
