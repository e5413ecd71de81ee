"""One vendor's connection to the provider: its own client credentials and token (from the
checker's ``ClientCredentials``), renewed before it runs out and once more when refused, at most
``concurrency`` (5) requests in flight, Retry-After honoured. Every answer is timed for Locust's
statistics through ``on_request``, and every trouble (5xx, timeout, 429) goes in the ledger.

Written against plain ``threading`` and ``time``: under Locust those are gevent's (it patches
them at import), so a wait blocks one vendor's greenlet, never the process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from harness.auth import ClientCredentials, CredentialsError

from .ledger import Ledger

MAX_RETRY_AFTER = 60.0  # seconds one answer may make a vendor wait, at most
RETRIES = 4  # attempts after the first, per request, for 429, 5xx and timeouts
RENEW_MARGIN = 0.9  # a token is renewed once this share of its lifetime has passed
# Requests in flight per client id in this process: vendors sharing credentials share the five.
_GATES: dict[str, threading.BoundedSemaphore] = {}
_GATES_LOCK = threading.Lock()

OnRequest = Callable[[str, str, float, int, Exception | None], None]


class Refused(Exception):
    """A request that failed for good (after its retries): one line."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    body: Any  # the parsed JSON, or None

    def total(self) -> int | None:
        value = self.headers.get("x-total-count", "")
        return int(value) if value.strip().isdigit() else None


def _said(response: httpx.Response) -> str:
    """The imsx_description of a refusal, when it has one: ": <description>"."""
    try:
        body = response.json()
    except ValueError:
        return ""
    said = body.get("imsx_description") if isinstance(body, dict) else None
    return f": {said[:200]}" if isinstance(said, str) and said else ""


def _gate(client_id: str, concurrency: int) -> threading.BoundedSemaphore:
    with _GATES_LOCK:
        if client_id not in _GATES:
            _GATES[client_id] = threading.BoundedSemaphore(concurrency)
        return _GATES[client_id]


def retry_after(headers: httpx.Headers) -> float | None:
    """Retry-After in seconds (delta-seconds form), None when absent or unreadable."""
    value = headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class VendorConnection:
    def __init__(self, vendor: str, token_url: str, client_id: str, client_secret: str, *,
                 ledger: Ledger, on_request: OnRequest, concurrency: int, timeout: float,
                 scope: str | None = None) -> None:
        self.vendor = vendor
        self.ledger = ledger
        self.on_request = on_request
        # Idle connections are dropped after 2 s, before a server's keep-alive (uvicorn's
        # is 5 s) closes them under a request that is just being sent.
        self._client = httpx.Client(timeout=timeout, follow_redirects=False,
                                    limits=httpx.Limits(max_connections=concurrency,
                                                        keepalive_expiry=2.0))
        self.credentials = ClientCredentials(token_url, client_id, client_secret,
                                             client=self._client, scope=scope)
        self._gate = _gate(client_id, concurrency)
        self._token_since: float | None = None
        self.closed = False

    def close(self) -> None:
        self.closed = True  # what fails from now on fails because the night ended
        self._client.close()

    def _renew_if_due(self) -> None:
        creds = self.credentials
        if not creds.has_token:
            self._token_since = None
            return
        lifetime = creds.expires_in
        if lifetime and self._token_since is not None and \
                time.monotonic() - self._token_since > lifetime * RENEW_MARGIN:
            creds.refuse()  # dropped: the next request fetches a fresh one
            self._token_since = None

    def _token(self) -> None:
        """Have a token before the request goes out (so its time is not the page's)."""
        had = self.credentials.has_token
        try:
            self.credentials.token()
        except CredentialsError as exc:
            if self.closed:
                raise Refused("the night ended") from None
            self.ledger.trouble("token_failures", f"{self.vendor}: {exc}")
            raise Refused(str(exc)) from None
        if not had:
            self._token_since = time.monotonic()

    def send(self, method: str, url: str, name: str, *, params: dict | None = None,
             json: Any = None) -> Answer:
        """One request, retried on 429 (after Retry-After, or a growing pause without one),
        on 5xx, on timeouts and broken connections; Refused when it still fails, or at once
        for any other 4xx. Waits happen outside the five slots."""
        problem = ""
        for attempt in range(RETRIES + 1):
            backoff = min(2.0 ** attempt, 8.0)  # without Retry-After: 1, 2, 4, 8 s
            self._renew_if_due()
            self._token()
            with self._gate:
                started = time.perf_counter()
                try:
                    response = self._client.request(method, url, params=params, json=json,
                                                     auth=self.credentials)
                    body = response.content
                except (httpx.HTTPError, OSError) as exc:
                    if self.closed:  # not the provider's doing: the night ended
                        raise Refused("the night ended") from None
                    response, failure = None, exc
                elapsed = (time.perf_counter() - started) * 1000
            if response is None:
                self.on_request(method, name, elapsed, 0, failure)
                if isinstance(failure, httpx.TimeoutException):
                    self.ledger.trouble("timeouts", f"{method} {url}")
                    problem = "timed out"
                    continue  # the timeout was the wait
                self.ledger.trouble("transport_errors", f"{method} {url}: {failure}")
                problem = f"failed: {failure}"
                time.sleep(backoff)
                continue
            status = response.status_code
            self.on_request(method, name, elapsed, len(body),
                            None if status < 400 else Refused(f"{status} {method} {name}"))
            if status == 401:
                # ClientCredentials already renewed once and retried: still refused.
                raise Refused(f"{method} {name} answered 401 with a fresh token")
            if 400 <= status < 500 and status != 429:
                raise Refused(f"{method} {name} answered {status}{_said(response)}")
            if status == 429 or status >= 500:
                wait = retry_after(response.headers)
                if status == 429:
                    self.ledger.trouble("throttled_with_retry_after" if wait is not None
                                        else "throttled_without_retry_after",
                                        f"{method} {url}")
                else:
                    self.ledger.trouble("server_errors", f"{status} {method} {url}")
                problem = f"answered {status}"
                time.sleep(min(wait if wait is not None else backoff, MAX_RETRY_AFTER))
                continue
            try:
                parsed = response.json() if body else None
            except ValueError:
                parsed = None
            return Answer(status, response.headers, parsed)
        raise Refused(f"{method} {url} {problem} {RETRIES + 1} times")


__all__ = ["Answer", "OnRequest", "Refused", "VendorConnection", "retry_after"]
