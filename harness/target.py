"""A provider under test at a URL: how the checker talks to it.

Credentials: OAuth 2.0 client credentials (the token fetched once and reused), a static bearer
token, or OAuth 1.0a request signing (1.1). Every request counts against a budget; answers are
read up to a size cap; at most ``concurrency`` requests run at once (``get_many``).

A real provider misbehaves, and the checker must not turn that into noise in every check: a
401 for the run's token gets one new token and a retry, a 429 is waited out (Retry-After,
bounded) and retried, a 5xx is retried once after a pause. Each such event is kept as an
``Incident``; the incident checks (run last) report them under their own ids.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from mock_provider.oauth1 import sign_oauth1

from .engine import Abort, Skip
from .model import Evidence

BASE_PATHS = {"1.2": "/ims/oneroster/rostering/v1p2", "1.1": "/ims/oneroster/v1p1"}
# The grade-book service: its own base in 1.2, the one 1.1 base for everything in 1.1.
GRADEBOOK_PATHS = {"1.2": "/ims/oneroster/gradebook/v1p2", "1.1": "/ims/oneroster/v1p1"}
SERVICES = ("rostering", "gradebook")
VENDOR_HEADER = "x-vendor-authorization"  # Infinite Campus's extra grade-book credential
SECRET_HEADERS = frozenset({"authorization", VENDOR_HEADER})
EXCERPT = 600
MAX_BODY = 64 * 1024 * 1024  # an answer is read up to this many bytes, then cut (a finding)
MAX_RETRY_AFTER = 10.0  # seconds the checker waits out a 429 at most, per answer
THROTTLE_RETRIES = 3
SERVER_ERROR_PAUSE = 0.5
MAX_CONCURRENCY = 5  # Infinite Campus asks vendors for at most five requests at once
AUTH_MODES = ("oauth2", "bearer", "oauth1")
_TOKEN_VALUE = re.compile(r'("(?:access|refresh)_token"\s*:\s*")[^"]*')


class TargetError(Abort):
    """The provider cannot be used at all (no token, nothing listening): a usage problem."""


class BudgetExceeded(Skip):
    """The run reached its request limit; the remaining checks are skipped."""


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    status: int | None
    headers: httpx.Headers
    text: str
    auth: str  # how the request was authorised: "bearer", "oauth1", "none" or "custom"
    sent: str | None = None  # the JSON body of a write, as sent
    extra_headers: tuple[tuple[str, str], ...] = ()  # further headers sent (name, value)

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (a finding for the caller)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def evidence(self) -> Evidence:
        header = {"bearer": " -H 'Authorization: Bearer ***'", "none": "",
                  "oauth1": " -H 'Authorization: OAuth ***'",
                  "custom": " -H 'Authorization: ***'"}[self.auth]
        for name, value in self.extra_headers:
            shown = "***" if name.lower() in SECRET_HEADERS else value
            header += f" -H {_quote(f'{name}: {shown}')}"
        if self.method != "GET":
            header = f" -X {self.method}{header}"
        if self.sent is not None:
            header += f" -H 'Content-Type: application/json' --data {_quote(self.sent)}"
        return Evidence(self.method, self.url, self.status, self.text[:EXCERPT],
                        f"curl -s{header} '{self.url}'")


@dataclass(frozen=True)
class Incident:
    """Something the provider did that the checker worked around: ``kind`` is
    ``token-refused``, ``rate-limited``, ``server-error``, ``timeout`` or ``oversized``."""

    kind: str
    exchange: Exchange
    detail: str
    premature: bool = False  # token-refused: before the lifetime the token was issued for


def _encode(body: Any) -> str:
    return json.dumps(body, separators=(",", ":"))


def _quote(text: str) -> str:
    """``text`` single-quoted for a POSIX shell."""
    return "'" + text.replace("'", "'\\''") + "'"


class Target:
    """Talks to one provider. Every request counts against ``max_requests``.

    ``auth``: "oauth2" (client credentials at ``token_url``), "bearer" (``client_secret`` is a
    token to send as it is) or "oauth1" (1.1 requests signed with the client id and secret).
    """

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str,
                 version: str = "1.2", timeout: float = 10.0, max_requests: int = 2_000,
                 client: httpx.Client | None = None, vendor_key: str | None = None, *,
                 auth: str = "oauth2", concurrency: int = 1) -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"unknown auth {auth!r}; expected one of {AUTH_MODES}")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}, got {concurrency}")
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.version = version
        self.auth = auth
        self.concurrency = concurrency
        self.root = self.base_url + BASE_PATHS[version]
        self.gradebook_root = self.base_url + GRADEBOOK_PATHS[version]
        self._credentials = (client_id, client_secret)
        self._client = client or httpx.Client(
            timeout=timeout, follow_redirects=False,
            limits=httpx.Limits(max_connections=concurrency))
        self._token: str | None = client_secret if auth == "bearer" else None
        self._token_at = 0.0
        self._token_lifetime: float | None = None
        # The token answer's ``scope`` (space-separated), None when it named none.
        self.granted_scope: str | None = None
        # "key:secret" sent as x-vendor-authorization on grade-book calls (Infinite Campus).
        self._vendor_key = vendor_key
        self.max_requests = max_requests
        self.requests = 0
        self.incidents: list[Incident] = []
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def authenticate(self) -> None:
        """Fail fast (TargetError) when the credentials cannot work at all."""
        if self.auth == "oauth2":
            self.token()

    def token(self) -> str:
        with self._lock:
            if self._token is None:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def _fetch_token(self) -> None:
        if self.auth != "oauth2":
            raise TargetError("this target has no token URL to fetch a token from")
        try:
            response = self._client.post(self.token_url, data={"grant_type": "client_credentials"},
                                         auth=self._credentials)
        except httpx.HTTPError as exc:
            raise TargetError(f"cannot reach the token URL {self.token_url}: {exc}") from None
        if response.status_code != 200:
            raise TargetError(f"the token URL answered {response.status_code}; check the "
                              "client id and secret")
        try:
            answer = response.json()
            self._token = str(answer["access_token"])
        except (ValueError, KeyError, TypeError):
            raise TargetError("the token URL did not answer an OAuth 2.0 token") from None
        scope = answer.get("scope")
        self.granted_scope = scope if isinstance(scope, str) else None
        lifetime = answer.get("expires_in")
        self._token_lifetime = float(lifetime) if isinstance(lifetime, (int, float)) else None
        self._token_at = time.monotonic()

    def token_request(self, secret: str | None = None, scope: str | None = None
                      ) -> tuple[Exchange, str | None]:
        """A token request of its own: with the run's client id and ``secret`` (the run's
        secret when None) and ``scope`` when given; (the exchange, the token issued or None).
        Counts against the budget; the exchange masks the credentials and the token."""
        self.spend()
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        credentials = (self._credentials[0],
                       self._credentials[1] if secret is None else secret)
        try:
            response = self._client.post(self.token_url, data=form, auth=credentials)
        except httpx.HTTPError as exc:
            return Exchange("POST", self.token_url, None, httpx.Headers(), f"no answer: {exc}",
                            "custom"), None
        try:
            token = response.json().get("access_token")
        except (ValueError, AttributeError):
            token = None
        shown = _TOKEN_VALUE.sub(r"\1***", response.text)
        return Exchange("POST", self.token_url, response.status_code, response.headers, shown,
                        "custom"), token if isinstance(token, str) else None

    def url(self, path: str, params: dict[str, Any] | None = None,
            service: str = "rostering") -> str:
        """An absolute URL: ``path`` under the service's base (rostering or gradebook)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
        root = self.gradebook_root if service == "gradebook" else self.root
        url = path if path.startswith("http") else root + path
        return f"{url}?{urlencode(params)}" if params else url

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            authorization: str | None = None) -> Exchange:
        """GET with the run's credentials, or with ``authorization`` as given ("" for none)."""
        return self._exchange("GET", self.url(path, params), authorization=authorization)

    def get_many(self, requests: Sequence[tuple[str, dict[str, Any] | None]]) -> list[Exchange]:
        """Several GETs, at most ``concurrency`` at once; answers in the order asked."""
        if self.concurrency == 1 or len(requests) < 2:
            return [self.get(path, params) for path, params in requests]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(lambda request: self.get(*request), requests))

    def send(self, method: str, path: str, params: dict[str, Any] | None = None,
             json: Any = None, *, service: str = "rostering",
             headers: dict[str, str] | None = None) -> Exchange:
        """Any request (GET, PUT, DELETE, ...) with the run's credentials, ``json`` as the body
        when given, to ``path`` under the service's base. Grade-book calls also carry the
        vendor key when the target has one. Counts against the request budget."""
        extra = dict(headers or {})
        if service == "gradebook" and self._vendor_key is not None:
            extra.setdefault(VENDOR_HEADER, self._vendor_key)
        sent = None if json is None else _encode(json)
        return self._exchange(method.upper(), self.url(path, params, service), extra=extra,
                              sent=sent)

    def put(self, path: str, json: Any, *, service: str = "gradebook") -> Exchange:
        """PUT ``json`` to a grade-book path (by default)."""
        return self.send("PUT", path, json=json, service=service)

    def delete(self, path: str, *, service: str = "gradebook") -> Exchange:
        """DELETE a grade-book path (by default)."""
        return self.send("DELETE", path, service=service)

    # --- one exchange, with the retry policy --------------------------------------------

    def spend(self) -> None:
        """Count one request against the budget (BudgetExceeded once it is used up)."""
        with self._lock:
            if self.requests >= self.max_requests:
                raise BudgetExceeded(f"the run reached its limit of {self.max_requests} "
                                     "requests")
            self.requests += 1

    def _credentials_for(self, method: str, url: str, authorization: str | None
                         ) -> tuple[dict[str, str], str]:
        if authorization == "":
            return {}, "none"
        if authorization is not None:
            return {"Authorization": authorization}, "custom"
        if self.auth == "oauth1":
            return {"Authorization": sign_oauth1(method, url, *self._credentials)}, "oauth1"
        return {"Authorization": f"Bearer {self.token()}"}, "bearer"

    def _exchange(self, method: str, url: str, *, authorization: str | None = None,
                  extra: dict[str, str] | None = None, sent: str | None = None) -> Exchange:
        extra = extra or {}
        renewed = retried = False
        throttled = 0
        while True:
            self.spend()
            headers, auth = self._credentials_for(method, url, authorization)
            exchange = self._once(method, url, {**headers, **extra}, auth, sent)
            status = exchange.status
            if status == 401 and auth == "bearer" and self.auth == "oauth2" and not renewed:
                renewed = True
                self._token_refused(exchange)
                continue
            if status == 429 and throttled < THROTTLE_RETRIES:
                throttled += 1
                wait = _retry_after(exchange.headers.get("retry-after"))
                self._incident("rate-limited", exchange,
                               f"Retry-After {exchange.headers.get('retry-after')!r}")
                time.sleep(min(wait if wait is not None else 1.0, MAX_RETRY_AFTER))
                continue
            if status is not None and status >= 500:
                self._incident("server-error", exchange, f"status {status}")
                if not retried:
                    retried = True
                    time.sleep(SERVER_ERROR_PAUSE)
                    continue
            return exchange

    def _once(self, method: str, url: str, headers: dict[str, str], auth: str,
              sent: str | None) -> Exchange:
        shown = tuple((k, v) for k, v in headers.items() if k.lower() != "authorization")
        if sent is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            with self._client.stream(method, url, headers=headers,
                                     content=None if sent is None else sent.encode()
                                     ) as response:
                raw, cut = _read_capped(response)
        except httpx.TimeoutException as exc:
            exchange = Exchange(method, url, None, httpx.Headers(), f"no answer: {exc}", auth,
                                sent, shown)
            self._incident("timeout", exchange, str(exc) or type(exc).__name__)
            return exchange
        except httpx.HTTPError as exc:
            return Exchange(method, url, None, httpx.Headers(), f"no answer: {exc}", auth,
                            sent, shown)
        exchange = Exchange(method, url, response.status_code, response.headers,
                            raw.decode(response.encoding or "utf-8", "replace"), auth, sent,
                            shown)
        if cut:
            self._incident("oversized", exchange, f"answer longer than {MAX_BODY:,} bytes")
        return exchange

    def _token_refused(self, exchange: Exchange) -> None:
        with self._lock:
            age = time.monotonic() - self._token_at
            lifetime = self._token_lifetime
            self._token = None
        self._incident("token-refused", exchange,
                       f"the token was {age:.1f} s old; it was issued for "
                       + (f"{lifetime:g} s" if lifetime is not None else "an unstated time"),
                       premature=lifetime is None or age < lifetime * 0.9)

    def _incident(self, kind: str, exchange: Exchange, detail: str,
                  premature: bool = False) -> None:
        with self._lock:
            self.incidents.append(Incident(kind, exchange, detail, premature))


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks)[:MAX_BODY], True
    return b"".join(chunks), False
