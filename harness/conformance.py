"""The check catalogue as pytest tests, one per check (run with ``pytest --pyargs
harness.conformance`` and the plugin's ``--oneroster-*`` options)."""

from __future__ import annotations

import pytest

from .checks import CHECKS, Context
from .runner import _run_one
from .target import Target


@pytest.fixture(scope="module")
def oneroster_context(oneroster_target: Target) -> Context:
    oneroster_target.token()
    return Context(oneroster_target)


@pytest.mark.parametrize("check_id", list(CHECKS))
def test_conformance(check_id: str, oneroster_context: Context) -> None:
    check = CHECKS[check_id]
    outcome = _run_one(check, oneroster_context)
    if outcome.status == "skipped":
        pytest.skip(outcome.message)
    evidence = "".join(f"\n  {e.curl} -> {e.status}" for e in outcome.evidence)
    if outcome.status == "failed" and check.severity == "error":
        pytest.fail(f"{check.id} {check.title}: {outcome.message}{evidence}", pytrace=False)
