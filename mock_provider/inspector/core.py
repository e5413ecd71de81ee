"""The inspector of one running mock: what it has seen, and what it may change."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp

from ..connections import Connection
from ..middleware.faults import FaultPlan, FaultSwitch
from ..middleware.recorder import TokenLabels
from .activity import Activity
from .feed import LiveFeed
from .syncs import Syncs

if TYPE_CHECKING:
    from ..state import MockState
    from ..tokens import TokenIssuer

PREFIX = "/inspector"
VERDICTS_EVERY = 10.0  # seconds a judgement of the recording is reused (judging costs CPU)


@dataclass(frozen=True)
class InspectorOptions:
    """``admin_token``: when set, every page needs it (a host other than loopback);
    ``actions``: whether the pages may tick, roll over, reset and switch faults (off while
    ``check consumer`` runs its scenario); ``fault_scenarios``: name -> (summary, plan);
    ``verdicts``: judges the recording so far (given by the harness, which owns the judge)."""

    admin_token: str | None = None
    actions: bool = True
    reports_dir: Path = Path("reports")
    fault_scenarios: Mapping[str, tuple[str, FaultPlan]] = field(default_factory=dict)
    fault_scenario: str | None = None  # the scenario switched on at start
    # The consumer verdicts on the traffic so far (from the recording), for the Syncs page;
    # None where nothing is recorded.
    verdicts: Callable[[], dict[str, Any]] | None = None


class Inspector:
    def __init__(self, options: InspectorOptions | None = None) -> None:
        self.options = options or InspectorOptions()
        self.prefix = PREFIX
        self.feed = LiveFeed()
        self.activity = Activity()
        self.syncs = Syncs()
        self.labels = TokenLabels()
        self.form_token = secrets.token_urlsafe(16)  # a page's forms carry it (no CSRF)
        scenario = self.options.fault_scenario
        plan = self.options.fault_scenarios[scenario][1] if scenario else None
        self.faults = FaultSwitch(plan, scenario)
        self.last_change: dict[str, Any] | None = None  # the last tick/rollover/reset
        self.state: MockState | None = None
        self.connections: Sequence[Connection] = ()
        self.tokens: TokenIssuer | None = None
        self.token_path = "/oauth2/token"
        self.pages: ASGIApp = _not_bound
        self._verdicts: tuple[float, dict[str, Any]] | None = None
        self._judging = threading.Lock()

    def bind(self, state: MockState, connections: Sequence[Connection], tokens: TokenIssuer,
             token_path: str) -> None:
        """Attach the mock this inspector watches (called once by ``create_app``)."""
        from .pages import inspector_app

        self.state = state
        self.connections = connections
        self.tokens = tokens
        self.token_path = token_path
        self.pages = inspector_app(self)

    def verdicts(self) -> dict[str, Any] | None:
        """The consumer verdicts on the recording so far, judged at most every
        VERDICTS_EVERY seconds however often pages ask (call it off the event loop)."""
        judge = self.options.verdicts
        if judge is None:
            return None
        with self._judging:
            now = time.monotonic()
            if self._verdicts is None or now - self._verdicts[0] >= VERDICTS_EVERY:
                self._verdicts = (now, judge())
            return self._verdicts[1]

    def connection_named(self, client_id: str) -> str | None:
        return next((c.name for c in self.connections if c.client_id == client_id), None)

    def observe(self, record: dict[str, Any], detail: dict[str, Any] | None, *,
                token_request: bool, token_issued: bool) -> None:
        self.activity.count(record, token_issued)
        self.syncs.observe(record, token_request)
        self.feed.publish(record, detail)


async def _not_bound(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("the inspector is not bound to a mock yet")


__all__ = ["PREFIX", "Inspector", "InspectorOptions"]
