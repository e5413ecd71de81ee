"""Faults on demand: the ways real providers misbehave, injected on a deterministic schedule.

``Faults`` counts the OneRoster requests it sees (token requests and discovery documents are
never touched) and, per its ``FaultPlan``:

* ``token_uses``: a bearer token stops working after that many requests, as if it expired:
  401 with ``WWW-Authenticate: Bearer error="invalid_token"``, from then on for that token;
* ``nonce_refusal_every``: the OAuth 1.0a twin of an expired token: every Nth signed request
  is refused with 401 "oauth_nonce was already used" (what a provider whose nonce store is
  shared across servers answers after a replay it believes it saw), and that nonce stays
  refused; a consumer survives by signing the request anew;
* ``rate_limit_every``: every Nth request opens a window of ``retry_after`` seconds in which
  every request answers 429 with ``Retry-After`` (the seconds left, rounded up);
* ``server_error_every``: every Nth request answers 503 with ``Retry-After: 0`` (the provider
  says when to retry: at once), every second one of those 500 without ``Retry-After`` (the
  consumer must back off on its own);
* ``slow_every``: every Nth request is answered ``slow_seconds`` late;
* ``page_cap``: ``limit`` is silently lowered to the cap, so pages are shorter than asked
  while ``Link`` and ``X-Total-Count`` stay true;
* ``paging_headers=False``: answers carry neither ``X-Total-Count`` nor ``Link`` (both are
  only recommended; some SIS send neither), so only a short or empty page ends a walk; the
  count withheld is noted for the judge;
* ``drift_after``: after that many pages past the first of any collection, ``on_drift`` is
  called once (the harness moves the district's clock: records change mid-walk);
* ``fail_first_write``: the first grade-book write answers 503 without being applied;
* ``latency``: every request is answered that many seconds late (without blocking others),
  as a real SIS over a network is; it also makes a consumer's parallel requests overlap.

What it did to a request is written into the recorder's notes (``scope[NOTES_KEY]``).
"""

from __future__ import annotations

import asyncio
import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import OneRosterError, error_body
from ..oauth1 import parse_authorization
from ..paths import version_of
from .auth import SIGNED_QUERY_KEY
from .recorder import NOTES_KEY

WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})


@dataclass(frozen=True)
class FaultPlan:
    token_uses: int | None = None
    nonce_refusal_every: int | None = None
    rate_limit_every: int | None = None
    retry_after: float = 1.0
    server_error_every: int | None = None
    slow_every: int | None = None
    slow_seconds: float = 0.5
    page_cap: int | None = None
    paging_headers: bool = True
    drift_after: int | None = None
    fail_first_write: bool = False
    latency: float = 0.0

    @functools.cached_property
    def empty(self) -> bool:
        # Asked on every request the mock answers; the plan is frozen, so once is enough.
        return self == FaultPlan()


class FaultSwitch:
    """The fault plan in force, which can change while serving (the inspector's Faults page):
    ``Faults`` reads it on every request and starts its counts afresh when it changes."""

    def __init__(self, plan: FaultPlan | None = None, name: str | None = None) -> None:
        self.plan = plan or FaultPlan()
        self.name = name if plan is not None and not plan.empty else None
        self.generation = 0

    def set(self, name: str | None, plan: FaultPlan | None) -> None:
        """Switch to ``plan`` (named ``name``); None turns every fault off."""
        self.plan = plan or FaultPlan()
        self.name = name if plan is not None and not self.plan.empty else None
        self.generation += 1


def _every(n: int, every: int | None) -> bool:
    return every is not None and every > 0 and n % every == 0


class Faults:
    """Pure ASGI middleware; ``on_drift`` runs in a worker thread, once."""

    def __init__(self, app: ASGIApp, plan: FaultPlan | FaultSwitch,
                 on_drift: Callable[[], object] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.switch = plan if isinstance(plan, FaultSwitch) else FaultSwitch(plan)
        self.on_drift = on_drift
        self.clock = clock
        self._lock = threading.Lock()
        self._generation = self.switch.generation
        self._start_counts()

    @property
    def plan(self) -> FaultPlan:
        return self.switch.plan

    def _start_counts(self) -> None:
        self._count = 0
        self._token_uses: dict[str, int] = {}
        self._signed = 0
        self._refused_nonces: set[str] = set()
        self._window_ends = 0.0
        self._deeper_pages = 0
        self._drifted = False
        self._wrote = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or "/ims/oneroster" not in path
                or "/discovery/" in path or self.plan.empty):
            await self.app(scope, receive, send)
            return
        notes = scope.get(NOTES_KEY, {})
        refusal = self._decide(scope)
        if refusal is not None:
            notes["fault"], error = refusal
            await self._refuse(error, version_of(path), send)
            return
        if self.plan.latency:
            await asyncio.sleep(self.plan.latency)
        n = self._count
        if _every(n, self.plan.slow_every):
            notes["fault"] = "slow"
            await asyncio.sleep(self.plan.slow_seconds)
        scope = self._cap_page(scope, notes)
        if self._drift_due(scope):
            notes["fault"] = "drift"
            assert self.on_drift is not None
            await run_in_threadpool(self.on_drift)
        if not self.plan.paging_headers:
            send = _without_paging_headers(send, notes)
        await self.app(scope, receive, send)

    def _decide(self, scope: Scope) -> tuple[str, OneRosterError] | None:
        plan = self.plan
        with self._lock:
            if self._generation != self.switch.generation:
                # Another plan was switched on: its schedule starts from its first request.
                self._generation = self.switch.generation
                self._start_counts()
            self._count += 1
            n = self._count
            if plan.fail_first_write and scope["method"] in WRITE_METHODS and not self._wrote:
                self._wrote = True
                return "write-failed", OneRosterError(
                    503, "server_busy", "the provider could not store this write; try again",
                    headers={"Retry-After": "0"})
            nonce = _oauth1_nonce(scope)
            if plan.nonce_refusal_every is not None and nonce is not None:
                self._signed += 1
                if nonce in self._refused_nonces or _every(self._signed,
                                                           plan.nonce_refusal_every):
                    self._refused_nonces.add(nonce)
                    return "nonce-refused", OneRosterError(
                        401, "unauthorisedrequest", "oauth_nonce was already used",
                        headers={"WWW-Authenticate": 'OAuth realm="oneroster"'})
            token = _bearer(scope)
            if plan.token_uses is not None and token is not None:
                used = self._token_uses.get(token, 0) + 1
                self._token_uses[token] = used
                if used > plan.token_uses:
                    return "token-expired", OneRosterError(
                        401, "unauthorisedrequest", "the access token has expired",
                        headers={"WWW-Authenticate": 'Bearer realm="oneroster", '
                                 'error="invalid_token", error_description="token expired"'})
            now = self.clock()
            if now < self._window_ends or _every(n, plan.rate_limit_every):
                if now >= self._window_ends:
                    self._window_ends = now + plan.retry_after
                wait = max(1, math.ceil(self._window_ends - now))
                return "rate-limit", OneRosterError(
                    429, "server_busy", f"too many requests; retry after {wait} s",
                    headers={"Retry-After": str(wait)})
            if _every(n, plan.server_error_every):
                if (n // plan.server_error_every) % 2 == 0:  # type: ignore[operator]
                    return "server-error", OneRosterError(
                        500, "internal_server_error", "the provider failed to answer this request")
                return "server-error", OneRosterError(
                    503, "server_busy", "the provider is busy; retry now",
                    headers={"Retry-After": "0"})
        return None

    def _cap_page(self, scope: Scope, notes: dict) -> Scope:
        cap = self.plan.page_cap
        if cap is None or scope["method"] != "GET":
            return scope
        items = parse_qsl(scope.get("query_string", b"").decode("latin-1"),
                          keep_blank_values=True)
        limits = [v for k, v in items if k == "limit"]
        if len(limits) > 1 or (limits and not limits[0].isdigit()):
            return scope  # an invalid limit stays invalid: the provider still refuses it
        asked = int(limits[0]) if limits else 100
        if asked <= cap:
            return scope
        notes["fault"] = "page-cap"
        notes["limit"] = cap
        items = [(k, v) for k, v in items if k != "limit"] + [("limit", str(cap))]
        return {**scope, "query_string": urlencode(items).encode("latin-1"),
                SIGNED_QUERY_KEY: scope.get("query_string", b"")}

    def _drift_due(self, scope: Scope) -> bool:
        if self.plan.drift_after is None or self.on_drift is None or scope["method"] != "GET":
            return False
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if query.get("offset", "0") in ("", "0"):
            return False
        with self._lock:
            self._deeper_pages += 1
            if self._drifted or self._deeper_pages < self.plan.drift_after:
                return False
            self._drifted = True
            return True

    async def _refuse(self, error: OneRosterError, version: str, send: Send) -> None:
        body = error_body(error, version)
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in (error.headers or {}).items()]
        await send({"type": "http.response.start", "status": error.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


PAGING_HEADERS = (b"x-total-count", b"link")


def _without_paging_headers(send: Send, notes: dict) -> Send:
    """``send`` with X-Total-Count and Link taken out of the answer (and out of the CORS
    list that exposes them); what was withheld goes into the notes."""
    async def stripped(message: Message) -> None:
        if message["type"] == "http.response.start":
            kept = []
            for key, value in message.get("headers", []):
                name = key.lower()
                if name in PAGING_HEADERS:
                    notes.setdefault("withheld", {})[name.decode()] = value.decode("latin-1")
                elif name != b"access-control-expose-headers":
                    kept.append((key, value))
            message = {**message, "headers": kept}
        await send(message)

    return stripped


def _authorization(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key.lower() == b"authorization":
            return value.decode("latin-1").strip()
    return ""


def _bearer(scope: Scope) -> str | None:
    scheme, _, token = _authorization(scope).partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def _oauth1_nonce(scope: Scope) -> str | None:
    header = _authorization(scope)
    if not header.lower().startswith("oauth "):
        return None
    try:
        return parse_authorization(header).get("oauth_nonce") or None
    except OneRosterError:
        return None  # malformed: the auth layer refuses it with its own reason
