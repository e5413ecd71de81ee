"""The check engine shared by provider and consumer checks: one registry, phases, guards,
every offender kept, and a catalogue where each id family lives in its own module."""

from __future__ import annotations

import inspect
import time

import pytest

from harness.checks import CHECKS, FAMILY_MODULES
from harness.consumer.checks import FAMILY_MODULES as CONSUMER_FAMILY_MODULES
from harness.consumer.judge import CONSUMER_CHECKS
from harness.engine import (
    REGISTRY,
    Abort,
    Finding,
    Offenders,
    Registry,
    Skip,
    guard,
    passed,
    run_all,
)


def _module(check) -> str:
    return inspect.getmodule(check.run).__name__


def test_every_provider_check_lives_in_its_familys_module() -> None:
    misplaced = {c.id: _module(c) for c in CHECKS.values()
                 if _module(c) != f"harness.checks.{FAMILY_MODULES.get(c.family)}"}
    assert not misplaced
    assert set(FAMILY_MODULES) == {c.family for c in CHECKS.values()}


def test_every_consumer_check_lives_in_its_familys_module() -> None:
    def home(check) -> str:
        return f"harness.consumer.checks.{CONSUMER_FAMILY_MODULES.get(check.family)}"

    # A family's module may be a package (auth: tokens, signatures, refused credentials).
    misplaced = {c.id: _module(c) for c in CONSUMER_CHECKS.values()
                 if _module(c) != home(c) and not _module(c).startswith(home(c) + ".")}
    assert not misplaced
    assert set(CONSUMER_FAMILY_MODULES) == {c.family for c in CONSUMER_CHECKS.values()}


def test_provider_and_consumer_checks_share_one_registry_with_unique_ids() -> None:
    assert CHECKS is REGISTRY.of("provider") and CONSUMER_CHECKS is REGISTRY.of("consumer")
    assert not set(CHECKS) & set(CONSUMER_CHECKS)
    assert REGISTRY.get("OR-PAGE-006") is CHECKS["OR-PAGE-006"]
    assert REGISTRY.get("OR-CON-PAGE-001") is CONSUMER_CHECKS["OR-CON-PAGE-001"]
    with pytest.raises(ValueError, match="registered twice"):
        REGISTRY.register("OR-PAGE-006", "again", "rule", kind="consumer")(lambda s: passed(""))


def test_run_phase_checks_run_last_whatever_the_registration_order() -> None:
    registry = Registry()
    seen: list[str] = []

    def record(name: str):
        def run(subject: object):
            seen.append(name)
            return passed(name)
        return run

    registry.register("OR-X-001", "t", "r", phase="run")(record("incidents"))
    registry.register("OR-X-002", "t", "r")(record("first"))
    registry.register("OR-X-003", "t", "r")(record("second"))
    results = run_all(registry.of("provider").values(), None)
    assert seen == ["first", "second", "incidents"]
    assert [r.id for r in results] == ["OR-X-002", "OR-X-003", "OR-X-001"]


def test_the_time_limit_skips_checks_but_the_run_phase_still_reports() -> None:
    registry = Registry()

    def slow(subject: object):
        time.sleep(0.05)
        return passed("slow")

    registry.register("OR-X-001", "t", "r")(slow)
    registry.register("OR-X-002", "t", "r")(lambda s: passed("never"))
    registry.register("OR-X-003", "t", "r", phase="run")(lambda s: passed("run phase"))
    results = run_all(registry.of("provider").values(), None, max_seconds=0.01)
    assert [(r.id, r.status) for r in results] == [
        ("OR-X-001", "passed"), ("OR-X-002", "skipped"), ("OR-X-003", "passed")]
    assert "time limit of 0.01 s" in results[1].message


def test_guards_skip_with_their_reason_and_keep_the_explanation() -> None:
    registry = Registry()
    only_bearer = guard(lambda kind: None if kind == "bearer" else f"{kind} is not bearer")

    @registry.register("OR-X-001", "t", "r")
    @only_bearer
    def needs_bearer(subject: object):
        """Needs a bearer token."""
        return passed("ran")

    check = registry.get("OR-X-001")
    assert check is not None and check.explanation == "Needs a bearer token."
    assert [(r.status, r.message) for r in run_all([check], "oauth1")] == [
        ("skipped", "oauth1 is not bearer")]
    assert run_all([check], "bearer")[0].status == "passed"


def test_offenders_are_all_kept_while_the_message_names_a_few() -> None:
    registry = Registry()

    @registry.register("OR-X-001", "t", "r")
    def many(subject: object):
        offenders = Offenders()
        for n in range(7):
            offenders.add(f"user-{n}")
        offenders.raise_if_any(lambda count: f"{count} users have no username")
        return passed("none")

    result = run_all(registry.of("provider").values(), None)[0]
    assert result.status == "failed"
    assert result.message == "7 users have no username: user-0, user-1, user-2 and 4 more"
    assert result.items == tuple(f"user-{n}" for n in range(7))


def test_a_check_that_breaks_fails_alone_and_abort_ends_the_run() -> None:
    registry = Registry()
    registry.register("OR-X-001", "t", "r")(lambda s: {}["missing"])
    registry.register("OR-X-002", "t", "r")(lambda s: (_ for _ in ()).throw(Skip("no data")))
    registry.register("OR-X-003", "t", "r")(lambda s: (_ for _ in ()).throw(
        Finding("bad", items=["a", "b"])))
    results = run_all(registry.of("provider").values(), None)
    assert [r.status for r in results] == ["failed", "skipped", "failed"]
    assert "KeyError" in results[0].message and results[1].message == "no data"
    assert results[2].items == ("a", "b")
    registry.register("OR-X-004", "t", "r")(lambda s: (_ for _ in ()).throw(Abort("no token")))
    with pytest.raises(Abort):
        run_all(registry.of("provider").values(), None)
