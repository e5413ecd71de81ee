"""A provider under test at a URL: how the checker talks to it.

Before the checks, ``probe`` asks for one page of ``/orgs`` and stops the run (TargetError, one
line) when the provider cannot be used at all: the credentials refused, nothing OneRoster at
the base URL. A base URL given as a service URL (``.../ims/oneroster/rostering/v1p2``) is cut
back to everything before ``/ims/oneroster``, and ``notes`` say so.

Credentials are one of the flows of ``harness.auth`` (OAuth 2.0 client credentials, a static
bearer token, OAuth 1.0a signing for 1.1); what comes back is an ``Exchange`` (harness.exchange)
with the credentials masked. Client credentials ask for the scopes of the services the run
checks (``authenticate``), or for the scope the user gave; how the checker got in is the
target's ``access``. Every request counts against a budget; answers are read up to a
size cap and must arrive whole within ``timeout`` (bytes trickling in count) and within the
run's time limit once ``limit_time`` set one (``harness.bounds``); at most ``concurrency``
requests run at once (``get_many``). Tokens and credentials are kept in ``all_secrets`` so
the runner can mask them in everything the run reports (``harness.masking``).

A real provider misbehaves, and the checker must not turn that into noise in every check: a
401 for the run's token gets one new token and a retry, a 429 is waited out (Retry-After,
bounded) and retried, a 5xx is retried once after a pause. Each such event is kept as an
``Incident``; the incident checks (run last) report them under their own ids.
"""

from __future__ import annotations

import codecs
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .auth import (
    MODES,
    SIGNATURE_CHOICES,
    SIGNATURE_METHODS,
    ClientCredentials,
    Credentials,
    CredentialsError,
    OAuth1Signature,
    credentials,
)
from .bounds import answer_window, bounded_client, read_capped, remaining
from .engine import Abort, Skip
from .exchange import VENDOR_HEADER, Exchange, encode_body
from .model import Access
from .oneroster import scopes
from .token_answer import issued_token
from .token_answer import problems as token_answer_problems

__all__ = ["AUTH_MODES", "BASE_PATHS", "GRADEBOOK_PATHS", "MAX_BODY", "MAX_CONCURRENCY",
           "BudgetExceeded", "Exchange", "Incident", "OutOfTime", "Target", "TargetError"]

BASE_PATHS = {"1.2": "/ims/oneroster/rostering/v1p2", "1.1": "/ims/oneroster/v1p1"}
# The grade-book service: its own base in 1.2, the one 1.1 base for everything in 1.1.
GRADEBOOK_PATHS = {"1.2": "/ims/oneroster/gradebook/v1p2", "1.1": "/ims/oneroster/v1p1"}
SERVICES = ("rostering", "gradebook")
MAX_BODY = 64 * 1024 * 1024  # an answer is read up to this many bytes, then cut (a finding)
# A cut answer, and an incident's, keeps this much of its text: enough for a status payload
# and an excerpt, while a run of thousands of oversized or failing answers keeps kilobytes
# each, not the answers (a cut answer is never parsed: it is not whole).
KEPT_TEXT = 16 * 1024
MAX_RETRY_AFTER = 60.0  # seconds the checker waits out a 429 at most, per answer
THROTTLE_RETRIES = 3
SERVER_ERROR_PAUSE = 0.5
MAX_CONCURRENCY = 5  # Infinite Campus asks vendors for at most five requests at once
AUTH_MODES = MODES
ONEROSTER_ROOT = "/ims/oneroster"  # a base URL is everything before it
PROBE = ("/orgs", {"limit": 1})  # every rostering provider serves it; roster-core opens it
# A token's value in a token answer: a JSON string (escapes and all) or any other JSON value.
_TOKEN_VALUE = re.compile(r'("(?:access|refresh)_token"\s*:\s*)'
                          r'(?:"(?:[^"\\]|\\.)*"?|[^\s,}\]]+)')


class TargetError(Abort):
    """The provider cannot be used at all (no token, nothing listening): a usage problem."""


class RateLimited(Skip):
    """The provider kept answering 429 after the checker waited as asked: the check that
    asked is skipped (OR-LOAD-001 reports the rate limit)."""


class BudgetExceeded(Skip):
    """The run reached its request limit; the remaining checks are skipped."""


class OutOfTime(Skip):
    """The run reached its time limit: the check in progress is cut off (skipped), and so
    are those not started; the run-phase checks still report what the run met."""


@dataclass(frozen=True)
class Incident:
    """Something the provider did that the checker worked around: ``kind`` is
    ``token-refused``, ``rate-limited``, ``server-error``, ``timeout`` or ``oversized``."""

    kind: str
    exchange: Exchange
    detail: str
    premature: bool = False  # token-refused: before the lifetime the token was issued for


class Target:
    """Talks to one provider. Every request counts against ``max_requests``.

    ``auth``: "oauth2" (client credentials at ``token_url``), "bearer" (``client_secret`` is a
    token to send as it is) or "oauth1" (1.1 requests signed with the client id and secret as
    consumer key and secret, by ``signature_method``: "HMAC-SHA256", "HMAC-SHA1" or "auto",
    HMAC-SHA256 until the probe's signed request is refused with 401, then HMAC-SHA1 if that
    is accepted). ``harness.connect.open_target`` opens one from a set of options, checking
    them first.

    ``scope``: what the token requests ask for, as given (space-separated; "" for no scope
    parameter); None lets the run ask for the scopes of the services it checks (until then,
    those of every service the checker reads and writes), with one narrower retry when the
    token URL refuses them (``harness.auth.ClientCredentials``). ``spell`` names an option
    the way the caller spells it, for messages.
    """

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str,
                 version: str = "1.2", timeout: float = 10.0, max_requests: int = 2_000,
                 client: httpx.Client | None = None, vendor_key: str | None = None, *,
                 auth: str = "oauth2", concurrency: int = 1,
                 signature_method: str = SIGNATURE_METHODS[0], scope: str | None = None,
                 spell: Callable[[str], str] = lambda name: f"--{name}") -> None:
        if auth not in AUTH_MODES:
            raise ValueError(f"unknown auth {auth!r}; expected one of {AUTH_MODES}")
        if signature_method not in SIGNATURE_CHOICES:
            raise ValueError(f"unknown signature method {signature_method!r}; expected one of "
                             f"{SIGNATURE_CHOICES}")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be 1 to {MAX_CONCURRENCY}, got {concurrency}")
        self.notes: list[str] = []  # how the checker got in, beyond what ``access`` names
        self.base_url = self._base_of(base_url.strip().rstrip("/"))
        self.token_url = token_url
        self.version = version
        self.auth = auth
        self.concurrency = concurrency
        self.root = self.base_url + BASE_PATHS[version]
        self.gradebook_root = self.base_url + GRADEBOOK_PATHS[version]
        # Every answer must arrive whole within ``timeout`` (bytes trickling in count against
        # it), and within the run's time limit once one is set (``limit_time``).
        self._client = client or bounded_client(timeout, concurrency)
        self.timeout = timeout
        self.deadline: float | None = None  # time.monotonic() when the run's time is up
        self._time_limit = 0.0
        self.spell = spell
        self.scope_given = scope is not None
        # The Target renews a refused token itself, to count the retry and report the refusal.
        # "auto" signs with the spec's HMAC-SHA256 and may fall back once, in ``probe``.
        self.signature_auto = signature_method == "auto"
        self.sha1_tried = False
        self.credentials: Credentials = credentials(
            auth, token_url, client_id, client_secret, client=self._client,
            signature_method=SIGNATURE_METHODS[0] if self.signature_auto else signature_method,
            renew_on_401=False,
            scope=scope if scope is not None else self._scopes_for(SERVICES),
            fallback_scope=None if scope is not None else scopes.uri(scopes.MINIMUM, version),
            scope_option=spell("scope"))
        # "key:secret" sent as x-vendor-authorization on grade-book calls (Infinite Campus).
        self._vendor_key = vendor_key
        self.max_requests = max_requests
        self.requests = 0
        self.incidents: list[Incident] = []
        # What was wrong with the token answers of the run's own token requests (OR-AUTH-012).
        self.token_answers: list[tuple[str, Exchange]] = []
        # Every credential and token of the run, masked wherever it shows in the reports.
        self.secrets: set[str] = {client_secret, *([vendor_key] if vendor_key else [])}
        self._unreached: list[Exchange] = []  # requests that found nothing to connect to
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def limit_time(self, seconds: float) -> None:
        """The run may take ``seconds`` from now: no request starts after that (OutOfTime),
        and an answer still arriving then is cut off."""
        self._time_limit = seconds
        self.deadline = time.monotonic() + seconds

    def all_secrets(self) -> set[str]:
        """Every credential and token the run knows of (the reports mask them all)."""
        flow = self.credentials
        issued = flow.issued if isinstance(flow, ClientCredentials) else []
        with self._lock:
            return {*self.secrets, *issued}

    @property
    def time_left(self) -> float:
        """Seconds left of the run's time limit (infinite without one)."""
        return remaining(self.deadline)

    def _out_of_time(self) -> OutOfTime:
        return OutOfTime(f"the run's time limit of {self._time_limit:g} s "
                         f"({self.spell('max-seconds')}) was reached")

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or raise OutOfTime (at once) when the run's time would run out
        first: a check that waits must not hold the run past its limit."""
        if seconds >= self.time_left:
            raise self._out_of_time()
        time.sleep(seconds)

    def _window(self) -> AbstractContextManager[None]:
        """The answer window of one exchange: ``timeout``, or the run's time left if less."""
        left = self.time_left
        if left < self.timeout:
            return answer_window(left, f"the run's time limit of {self._time_limit:g} s, "
                                       f"{self.spell('max-seconds')}")
        return answer_window(self.timeout, f"{self.timeout:g} s, {self.spell('timeout')}")

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def granted_scope(self) -> str | None:
        """The token answer's ``scope`` (space-separated), None when it named none."""
        flow = self.credentials
        return flow.scope if isinstance(flow, ClientCredentials) else None

    def authenticate(self, services: Iterable[str] | None = None) -> None:
        """Get in: with client credentials, fetch the run's token, asking for the scopes of
        ``services`` (rostering, gradebook, resources) unless a scope was given. TargetError
        when no token can be had, in one line naming the cause. Once a token is held, nothing
        more is asked."""
        flow = self.credentials
        if not isinstance(flow, ClientCredentials) or flow.has_token:
            return
        if services is not None and not self.scope_given:
            flow.ask(self._scopes_for(services), scopes.uri(scopes.MINIMUM, self.version))
        self.token()

    def _base_of(self, given: str) -> str:
        cut = given.find(ONEROSTER_ROOT)
        if cut < 0:
            return given
        self.notes.append(f"the base URL is everything before {ONEROSTER_ROOT}: using "
                          f"{given[:cut]} (from {given})")
        return given[:cut]

    def probe(self) -> None:
        """Fail fast, before the checks: ``GET /orgs?limit=1`` with the run's credentials.
        TargetError, one line naming the cause and what to try, when nothing answers at the
        base URL, when it answers 404 (no OneRoster rostering service there) or when the
        credentials are refused (401, 403, after one new token). Anything else, a timeout or
        a broken answer included, is left to the checks to judge."""
        try:
            exchange = self.get(*PROBE)
        except RateLimited:
            return  # throttled: the checks wait their turn, OR-LOAD-001 reports it
        if exchange.status is None:
            if not any(exchange is unreached for unreached in self._unreached):
                return  # it answered, badly (timed out, cut short): the checks say so
            reason = exchange.text.removeprefix("no answer: ")
            raise TargetError(f"GET {exchange.url} got no answer ({reason}): nothing answers "
                              f"at the base URL {self.base_url}; check "
                              f"{self.spell('base-url')}")
        if exchange.status == 404:
            raise TargetError(self._not_found(exchange))
        if exchange.status == 401 and self._sha1_instead(exchange):
            return
        if exchange.status in (401, 403):
            raise TargetError(self._refused(exchange))

    def _sha1_instead(self, refused: Exchange) -> bool:
        """With "auto" signing: after HMAC-SHA256 was refused, the probe signed with HMAC-SHA1;
        True (and the run signs with it from now on) when that is accepted."""
        flow = self.credentials
        if not (self.signature_auto and isinstance(flow, OAuth1Signature)):
            return False
        flow.use(SIGNATURE_METHODS[1])
        self.sha1_tried = True
        again = self.get(*PROBE)
        if again.status in (401, 403, 404, None):
            flow.use(SIGNATURE_METHODS[0])  # the refusal to report is the spec's method's
            return False
        detail = status_description(refused)
        self.notes.append("the provider refused requests signed with HMAC-SHA256 (401"
                          + (f' "{detail}"' if detail else "") + "); HMAC-SHA1 was accepted, "
                          "so the run signs with HMAC-SHA1 (OR-AUTH-009 reports it)")
        return True

    def oauth1_authorization(self, method: str, url: str, signature_method: str) -> str:
        """An OAuth 1.0a Authorization header for one request to ``url``, signed with the
        run's consumer key and secret by ``signature_method`` (TargetError when the run does
        not sign)."""
        flow = self.credentials
        if not isinstance(flow, OAuth1Signature):
            raise TargetError("this target does not sign its requests with OAuth 1.0a")
        return flow.authorization(method, url, signature_method=signature_method)

    def _not_found(self, exchange: Exchange) -> str:
        line = (f"GET {exchange.url} answered 404: no OneRoster {self.version} rostering "
                f"service under the base URL {self.base_url} (the base URL is everything "
                f"before {ONEROSTER_ROOT}); check {self.spell('base-url')}")
        other = next(v for v in BASE_PATHS if v != self.version)
        elsewhere = self._exchange("GET", self.base_url + BASE_PATHS[other] + "/orgs?limit=1")
        if elsewhere.status not in (None, 404):
            line += (f"; {BASE_PATHS[other]} answers there ({elsewhere.status}): add "
                     f"{self.spell('version')} {other}")
        return line

    def _refused(self, exchange: Exchange) -> str:
        said = [f"WWW-Authenticate: {challenge}" for challenge in
                [exchange.headers.get("www-authenticate")] if challenge]
        said += [f'"{text}"' for text in [status_description(exchange)] if text]
        line = f"GET {exchange.url} answered {exchange.status}" + (
            f" ({'; '.join(said)})" if said else "")
        return f"{line}: the provider refuses the run's credentials; {self._advice(exchange)}"

    def _advice(self, exchange: Exchange) -> str:
        base = f"or check {self.spell('base-url')} ({self.base_url})"
        flow = self.credentials
        if isinstance(flow, ClientCredentials):
            granted = " ".join(scopes.short(s) for s in (flow.scope or "").split())
            held = f"the token was granted {granted}" if granted else \
                "the token answer named no scope"
            need = f"{scopes.CORE} or {scopes.ROSTER}"
            return (f"{held}; GET /orgs needs {need}: ask for the scopes the connection holds "
                    f"with {self.spell('scope')}, {base}")
        if isinstance(flow, OAuth1Signature):
            signed = "signed with HMAC-SHA256 and with HMAC-SHA1 alike" if self.sha1_tried \
                else f"signed with {flow.signature_method}"
            return (f"{signed}: check the consumer key and secret and "
                    f"{self.spell('signature-method')}, {base}")
        return f"the token may have expired or lack {scopes.CORE}: give a fresh " \
               f"{self.spell('token')}, {base}"

    def _scopes_for(self, services: Iterable[str]) -> str:
        return " ".join(scopes.scopes_for(set(services) | {"rostering"}, self.version))

    @property
    def access(self) -> Access:
        """How the checker got in: the auth mode, the client authentication and scopes of a
        token request, the signature method, and notes on any retry that was needed."""
        flow = self.credentials
        if isinstance(flow, ClientCredentials):
            return Access(self.auth, flow.client_auth if flow.has_token else None,
                          flow.scope_asked, flow.scope, None, (*self.notes, *flow.notes))
        method = flow.signature_method if isinstance(flow, OAuth1Signature) else None
        return Access(self.auth, signature_method=method, notes=tuple(self.notes))

    def token(self) -> str:
        """The bearer token requests carry (fetched first with client credentials)."""
        flow = self.credentials
        if isinstance(flow, OAuth1Signature):
            raise TargetError("this target has no token URL to fetch a token from")
        try:
            with self._window():
                return flow.token()
        except CredentialsError as exc:
            raise TargetError(str(exc)) from None

    def token_request(self, secret: str | None = None, scope: str | None = None, *,
                      grant_type: str = "client_credentials") -> tuple[Exchange, str | None]:
        """A token request of its own: with the run's client id and ``secret`` (the run's
        secret when None), asking for ``scope`` (the run's when None) with ``grant_type``,
        its credentials sent the way the run's were; (the exchange, the token issued or
        None). Counts against the budget; the exchange masks the credentials and the token."""
        flow = self.credentials
        if not isinstance(flow, ClientCredentials):
            raise TargetError("this target has no token URL to ask for a token")
        self.spend()
        style = "form" if flow.client_auth == "form" else "basic"
        try:
            with self._window():
                response = flow.request_token(secret, scope, grant_type=grant_type)
        except httpx.HTTPError as exc:
            return Exchange("POST", self.token_url, None, httpx.Headers(), f"no answer: {exc}",
                            style), None
        try:
            body = response.json()
        except ValueError:
            body = None
        token = issued_token(body)
        shown = _TOKEN_VALUE.sub(r'\1"***"', response.text)
        exchange = Exchange("POST", self.token_url, response.status_code, response.headers,
                            shown, style)
        if token is not None:
            with self._lock:
                self.secrets.add(token)
                self.token_answers.extend((problem, exchange)
                                          for problem in token_answer_problems(body))
        return exchange, token

    def url(self, path: str, params: dict[str, Any] | None = None,
            service: str = "rostering") -> str:
        """An absolute URL: ``path`` under the service's base (rostering or gradebook)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {SERVICES}")
        root = self.gradebook_root if service == "gradebook" else self.root
        url = path if path.startswith("http") else root + path
        return f"{url}?{urlencode(params, doseq=True)}" if params else url

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            authorization: str | None = None) -> Exchange:
        """GET with the run's credentials, or with ``authorization`` as given ("" for none)."""
        return self._exchange("GET", self.url(path, params), authorization=authorization)

    def get_many(self, requests: Sequence[tuple[str, dict[str, Any] | None]],
                 service: str = "rostering") -> list[Exchange]:
        """Several GETs to one service, at most ``concurrency`` at once; answers in the order
        asked (grade-book reads carry the vendor key, as ``send`` does)."""
        def one(request: tuple[str, dict[str, Any] | None]) -> Exchange:
            path, params = request
            if service == "rostering":
                return self.get(path, params)
            return self.send("GET", path, params, service=service)

        if self.concurrency == 1 or len(requests) < 2:
            return [one(request) for request in requests]
        with ThreadPoolExecutor(self.concurrency) as pool:
            return list(pool.map(one, requests))

    def send(self, method: str, path: str, params: dict[str, Any] | None = None,
             json: Any = None, *, service: str = "rostering",
             headers: dict[str, str] | None = None) -> Exchange:
        """Any request (GET, PUT, DELETE, ...) with the run's credentials, ``json`` as the body
        when given, to ``path`` under the service's base. Grade-book calls also carry the
        vendor key when the target has one. Counts against the request budget."""
        extra = dict(headers or {})
        if service == "gradebook" and self._vendor_key is not None:
            extra.setdefault(VENDOR_HEADER, self._vendor_key)
        sent = None if json is None else encode_body(json)
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
        """Count one request against the budget (BudgetExceeded once it is used up, OutOfTime
        once the run's time is)."""
        if self.time_left <= 0:
            raise self._out_of_time()
        with self._lock:
            if self.requests >= self.max_requests:
                raise BudgetExceeded(f"the run reached its limit of {self.max_requests} "
                                     "requests")
            self.requests += 1

    def _credentials_for(self, authorization: str | None
                         ) -> tuple[httpx.Auth | None, dict[str, str], str]:
        """(the flow to send with, headers to add, how the request is authorised)."""
        if authorization == "":
            return None, {}, "none"
        if authorization is not None:
            return None, {"Authorization": authorization}, "custom"
        return self.credentials, {}, self.credentials.scheme

    def _exchange(self, method: str, url: str, *, authorization: str | None = None,
                  extra: dict[str, str] | None = None, sent: str | None = None) -> Exchange:
        extra = extra or {}
        renewed = retried = False
        throttled = 0
        while True:
            self.spend()
            flow, headers, auth = self._credentials_for(authorization)
            exchange = self._once(method, url, {**headers, **extra}, flow, auth, sent)
            status = exchange.status
            if status == 401 and auth == "bearer" and self.auth == "oauth2" and not renewed:
                renewed = True
                self._token_refused(exchange)
                continue
            if status == 429:
                if throttled == THROTTLE_RETRIES:
                    # Still throttled after waiting as asked: a check cannot conclude from
                    # a 429 (OR-LOAD-001 reports the rate limit itself).
                    raise RateLimited(f"the provider kept answering 429 to {method} {url} "
                                      f"after {throttled} waits; the check could not conclude")
                throttled += 1
                wait = _retry_after(exchange.headers.get("retry-after"))
                self._incident("rate-limited", exchange,
                               f"Retry-After {exchange.headers.get('retry-after')!r}")
                self.pause(min(wait if wait is not None else 1.0, MAX_RETRY_AFTER))
                continue
            if status is not None and status >= 500:
                self._incident("server-error", exchange, f"status {status}")
                if not retried:
                    retried = True
                    self.pause(SERVER_ERROR_PAUSE)
                    continue
            return exchange

    def _once(self, method: str, url: str, headers: dict[str, str], flow: httpx.Auth | None,
              auth: str, sent: str | None) -> Exchange:
        shown = tuple((k, v) for k, v in headers.items() if k.lower() != "authorization")
        if sent is not None:
            headers = {**headers, "Content-Type": "application/json"}
        try:
            with self._window(), self._client.stream(
                    method, url, headers=headers, auth=flow,
                    content=None if sent is None else sent.encode()) as response:
                raw, cut = read_capped(response, MAX_BODY)
        except CredentialsError as exc:  # a token could not be had again: the run cannot go on
            raise TargetError(str(exc)) from None
        except httpx.TimeoutException as exc:
            exchange = Exchange(method, url, None, httpx.Headers(), f"no answer: {exc}", auth,
                                sent, shown)
            self._incident("timeout", exchange, str(exc) or type(exc).__name__)
            return exchange
        except httpx.HTTPError as exc:
            exchange = Exchange(method, url, None, httpx.Headers(), f"no answer: {exc}", auth,
                                sent, shown)
            if isinstance(exc, httpx.ConnectError):  # nothing listening, no such host
                self._unreached.append(exchange)
            return exchange
        text = (raw[:KEPT_TEXT] if cut else raw).decode(_codec(response.encoding), "replace")
        del raw  # the text alone is kept: one copy of a large answer at a time
        exchange = Exchange(method, url, response.status_code, response.headers, text, auth,
                            sent, shown, cut=cut)
        if cut:
            self._incident("oversized", exchange, f"answer longer than {MAX_BODY:,} bytes")
        return exchange

    def _token_refused(self, exchange: Exchange) -> None:
        assert isinstance(self.credentials, ClientCredentials)
        refusal = self.credentials.refuse()
        age, lifetime = refusal.age, refusal.lifetime
        self._incident("token-refused", exchange,
                       f"the token was {age:.1f} s old; it was issued for "
                       + (f"{lifetime:g} s" if lifetime is not None else "an unstated time"),
                       premature=lifetime is None or age < lifetime * 0.9)

    def _incident(self, kind: str, exchange: Exchange, detail: str,
                  premature: bool = False) -> None:
        with self._lock:
            self.incidents.append(Incident(kind, exchange.trimmed(KEPT_TEXT), detail,
                                           premature))


def status_description(exchange: Exchange) -> str | None:
    """The description a refusal carries: a 1.2 status payload's ``imsx_description``, a 1.1
    ``statusInfoSet``'s first one, or an OAuth ``error_description`` (None when none)."""
    body = exchange.json()
    if not isinstance(body, dict):
        return None
    infos = body.get("statusInfoSet")
    info = infos[0] if isinstance(infos, list) and infos and isinstance(infos[0], dict) else body
    for key in ("imsx_description", "error_description", "message"):
        if isinstance(info.get(key), str) and info[key].strip():
            return " ".join(info[key].split())[:200]
    return None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _codec(encoding: str | None) -> str:
    """The codec to decode an answer with: its declared charset when Python knows it."""
    try:
        return codecs.lookup(encoding or "utf-8").name
    except LookupError:  # a charset nobody knows: read as UTF-8, replacing what does not fit
        return "utf-8"
