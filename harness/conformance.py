"""The check catalogue as pytest tests, one per check (run with ``pytest --pyargs
harness.conformance`` and the plugin's ``--oneroster-*`` options)."""

from __future__ import annotations

import pytest

from .checks import Check, Context
from .engine import run_one
from .masking import Masker
from .runner import select, services_for
from .target import Target, TargetError


@pytest.fixture(scope="module")
def oneroster_context(oneroster_target: Target, pytestconfig: pytest.Config) -> Context:
    checks = select(None, pytestconfig.getoption("--oneroster-profile"))
    try:
        oneroster_target.authenticate(services_for(checks, oneroster_target.version))
        oneroster_target.probe()
    except TargetError as exc:  # the provider cannot be used: one line, not a failure per check
        masked = Masker(oneroster_target.all_secrets()).text(str(exc))
        pytest.exit(f"oneroster: {masked}", returncode=pytest.ExitCode.USAGE_ERROR)
    return Context(oneroster_target)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "oneroster_check" in metafunc.fixturenames:
        try:
            checks = select(None, metafunc.config.getoption("--oneroster-profile"))
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
        metafunc.parametrize("oneroster_check", checks, ids=[c.id for c in checks])


def test_conformance(oneroster_check: Check, oneroster_context: Context) -> None:
    check = oneroster_check
    # Masked as check provider masks its run: a provider may echo a token anywhere.
    outcome = Masker(oneroster_context.target.all_secrets()).value(
        run_one(check, oneroster_context))
    if outcome.status == "skipped":
        pytest.skip(outcome.message)
    evidence = "".join(f"\n  {e.curl} -> {e.status}" for e in outcome.evidence)
    if outcome.status == "failed" and check.severity == "error":
        pytest.fail(f"{check.id} {check.title}: {outcome.message}{evidence}", pytrace=False)
