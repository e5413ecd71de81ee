"""OR-API-001 sends schemathesis's generated requests through the run's Target: each one is
counted against the request budget (and nothing reaches the provider behind its back), and a
budget too small to ask every operation skips the check instead of breaking it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.checks import CHECKS, Context
from harness.engine import run_one
from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import FirstContact
from .conftest import make_district
from .live_server import live_server

CONNECTION = Connection(name="h", client_id="h", client_secret="h-secret",
                        scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
OPERATIONS = {"1.2": 41, "1.1": 55}  # the rostering document; the whole 1.1 document


class Counting:
    """The mock, counting the OneRoster requests that reach it."""

    def __init__(self, app) -> None:
        self.app, self.seen = app, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "/ims/oneroster/" in scope["path"]:
            self.seen += 1
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def store(districts_dir: Path):
    with Store(make_district(districts_dir, 42, 60)) as opened:
        yield opened


@pytest.mark.parametrize("version", ["1.2", "1.1"])
@pytest.mark.parametrize("budget", [2_000, 25])
def test_generated_requests_spend_the_targets_budget(store: Store, budget: int,
                                                     version: str) -> None:
    provider = Counting(create_app(store, [CONNECTION]))
    operations = OPERATIONS[version]
    with live_server(provider) as url, Target(url, f"{url}/oauth2/token", "h", "h-secret",
                                              version, max_requests=budget) as target:
        [result] = run_checks(target, select("OR-API-001")).results
    assert provider.seen == target.requests  # every generated request went through the Target
    if budget == 2_000:
        assert result.status == "passed", result.message
        sent = int(re.match(rf"(\d+) generated requests over {operations} operations",
                            result.message)[1])
        # the probe before the checks is the one request not generated
        assert sent == target.requests - 1 and operations <= sent <= 3 * operations
    else:
        assert result.status == "skipped", result.message
        assert target.requests == budget
        assert re.search(rf"limit of 25 requests after 24 generated requests: \d+ of "
                         f"{operations} operations asked", result.message)


def test_answers_that_all_refuse_do_not_pass(store: Store) -> None:
    # A provider answering 401 to everything: every answer is a documented refusal, and not
    # one operation was seen working. (Run alone: the probe of a whole run would stop first.)
    provider = FirstContact(create_app(store, [CONNECTION]), refuse_all=True)
    with live_server(provider) as url, Target(url, f"{url}/oauth2/token", "h", "h-secret",
                                              max_requests=500) as target:
        outcome = run_one(CHECKS["OR-API-001"], Context(target))
    assert provider.seen > 41
    assert outcome.status == "skipped", outcome.message
    assert re.search(r"none of the \d+ generated requests was answered 2xx \(401 x\d+\)",
                     outcome.message)
