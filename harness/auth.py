"""A provider's credentials as ``httpx.Auth`` flows, for the checker's ``Target`` and for any
``httpx.Client`` (the pytest plugin's ``oneroster_client``):

- ``ClientCredentials``: OAuth 2.0 client credentials (RFC 6749 §4.4), asking for the scopes
  it is given, sent with HTTP Basic or as form fields (whichever the token URL takes). The
  token is fetched on first use and reused; the answer's ``scope`` and ``expires_in`` are kept
  (token answers are read up to MAX_TOKEN_ANSWER bytes; what is wrong with one is kept in
  ``answer_problems`` for OR-AUTH-012, and every token issued in ``issued``, to be masked).
  A 401 gets one new token and one retry, unless the caller renews by itself (the Target does,
  to count and report each refusal). A refused token request is one line naming the cause
  (``harness.token_refusal``).
- ``StaticBearer``: a token given as it is (RFC 6750).
- ``OAuth1Signature``: two-legged OAuth 1.0a request signing (RFC 5849) as OneRoster 1.1 uses
  it, by oauthlib, with HMAC-SHA256 (what the 1.1 security guide asks for) or HMAC-SHA1.

Each flow has a ``scheme`` ("bearer" or "oauth1"): how an ``Exchange`` shows, masked, the
Authorization header it sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
from oauthlib.oauth1 import Client as OAuth1Client

from .bounds import capped_response
from .oneroster.scopes import named_in, short
from .token_answer import issued_token, positive_number
from .token_answer import problems as token_answer_problems
from .token_refusal import Refusal as TokenRefusal
from .token_refusal import read_refusal

MODES = ("oauth2", "bearer", "oauth1")
SIGNATURE_METHODS = (SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1)  # the first is the spec's
# "auto": HMAC-SHA256 as OneRoster 1.1 asks, HMAC-SHA1 when the provider refuses that (Target).
SIGNATURE_CHOICES = ("auto", *SIGNATURE_METHODS)
# RFC 6749 §2.3.1: HTTP Basic (what the 1EdTech Security Framework uses) first, then the form.
CLIENT_AUTH = ("basic", "form")
STYLE_NAMES = {"basic": "HTTP Basic", "form": "the client_id/client_secret form fields"}
# Characters oauthlib accepts unescaped in a query; httpx leaves a few others (``[``, ``]``)
# as they are, and the signature's parameter normalisation is the same either way.
_QUERY_SAFE = "=&;:%+~,*@!()/?'$"
# A token answer is a few hundred bytes (a JWT a few kilobytes): more than this is not a token.
MAX_TOKEN_ANSWER = 1024 * 1024


class CredentialsError(Exception):
    """No token can be had: the token URL is unreachable, refuses the client, or answers
    something that is not a token. One line, safe to print (no secret in it)."""


@dataclass(frozen=True)
class Refusal:
    """What was known of a token when the provider refused it."""

    age: float  # seconds since it was issued
    lifetime: float | None  # the ``expires_in`` it was issued with, None when unstated


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials at ``token_url``.

    ``scope`` is what the token requests ask for (space-separated URIs; None or "" sends no
    ``scope`` parameter). With ``fallback_scope``, a request refused for its scope
    (``invalid_scope``, or ``invalid_request`` about the scope) is asked once more: without
    the scopes the refusal names, or when it names none, for ``fallback_scope`` alone.

    ``client_auth`` is how the client id and secret travel (RFC 6749 §2.3.1): "basic" (HTTP
    Basic), "form" (``client_id``/``client_secret`` form fields) or "auto": HTTP Basic, as the
    1EdTech Security Framework does, and the form fields once when Basic is refused; the one
    that worked is kept. What happened on the way in is kept in ``notes``.

    Token requests go through ``client`` (the caller's, so they share its transport and
    timeouts) or a client of this flow's own. Synchronous clients only: a token is fetched
    while a request waits for it."""

    scheme = "bearer"

    def __init__(self, token_url: str, client_id: str, client_secret: str, *,
                 client: httpx.Client | None = None, timeout: float = 10.0,
                 renew_on_401: bool = True, scope: str | None = None,
                 fallback_scope: str | None = None, client_auth: str = "auto",
                 scope_option: str = "--scope") -> None:
        if client_auth not in (*CLIENT_AUTH, "auto"):
            raise ValueError(f"unknown client authentication {client_auth!r}; expected one of "
                             f"{', '.join((*CLIENT_AUTH, 'auto'))}")
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.renew_on_401 = renew_on_401
        self.scope_asked = scope or None
        self.fallback_scope = fallback_scope
        self.client_auth = client_auth
        self.scope_option = scope_option  # how a message names the option that sets the scope
        self.notes: list[str] = []
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued_at = 0.0
        self.scope: str | None = None  # the token answer's ``scope``, None when it named none
        self.expires_in: float | None = None  # its ``expires_in``, None when unstated
        self.issued: list[str] = []  # every token this flow was given (to mask in reports)
        # What was wrong with the token answers the flow used (harness.token_answer).
        self.answer_problems: list[str] = []

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def ask(self, scope: str | None, fallback_scope: str | None = None) -> None:
        """Ask for ``scope`` from the next token request on (with ``fallback_scope`` as the
        one retry when it is refused)."""
        with self._lock:
            self.scope_asked = scope or None
            self.fallback_scope = fallback_scope

    def request_token(self, secret: str | None = None, scope: str | None = None, *,
                      grant_type: str = "client_credentials", style: str | None = None
                      ) -> httpx.Response:
        """One token request with this client id and ``secret`` (this flow's secret when
        None), asking for ``scope`` (the scope this flow asks for when None), sent the way
        that worked (``style`` to choose). Leaves the flow's own token alone."""
        chosen = style or (self.client_auth if self.client_auth != "auto" else CLIENT_AUTH[0])
        return self._post(chosen, self.scope_asked if scope is None else scope,
                          self._secret if secret is None else secret, grant_type)[0]

    def _post(self, style: str, scope: str | None, secret: str,
              grant_type: str = "client_credentials") -> tuple[httpx.Response, bool]:
        """(the answer, read up to MAX_TOKEN_ANSWER bytes; whether it was cut there)."""
        form = {"grant_type": grant_type, **({"scope": scope} if scope else {})}
        if style == "form":
            sent = {"data": {**form, "client_id": self.client_id, "client_secret": secret}}
        else:
            sent = {"data": form, "auth": (self.client_id, secret)}
        with self._client.stream("POST", self.token_url, **sent) as response:
            return capped_response(response, MAX_TOKEN_ANSWER)

    def token(self) -> str:
        """The current token, fetched first when there is none (CredentialsError if that
        fails)."""
        with self._lock:
            if self._token is None:
                self._fetch()
            assert self._token is not None
            return self._token

    def refuse(self) -> Refusal:
        """Drop the current token (the provider refused it); the next request fetches a new
        one. Says how old the dropped token was and what lifetime it was issued for."""
        with self._lock:
            refusal = Refusal(time.monotonic() - self._issued_at, self.expires_in)
            self._token = None
            return refusal

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401 and self.renew_on_401:
            response.read()  # frees its connection before the token request needs one
            self.refuse()
            request.headers["Authorization"] = f"Bearer {self.token()}"
            yield request

    # --- getting a token: one client-authentication retry, one scope retry ----------------

    def _ask(self, style: str, scope: str | None) -> tuple[httpx.Response, TokenRefusal | None]:
        try:
            response, cut = self._post(style, scope, self._secret)
        except httpx.TimeoutException as exc:
            raise CredentialsError(f"the token URL {self.token_url} did not answer in time: "
                                   f"{exc or type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise CredentialsError(f"cannot reach the token URL {self.token_url}: {exc}"
                                   ) from None
        if cut:
            raise CredentialsError(
                f"the token URL {self.token_url} answered {response.status_code} with more "
                f"than {MAX_TOKEN_ANSWER:,} bytes, which is no token answer; check the token "
                "URL")
        return response, read_refusal(response, (self._secret,))

    def _fail(self, refusal: TokenRefusal, context: str = "", scope: str | None = None
              ) -> CredentialsError:
        line = refusal.line(self.token_url, self.scope_option, _shorts(scope))
        return CredentialsError(line + context)

    def _fetch(self) -> None:
        styles = CLIENT_AUTH if self.client_auth == "auto" else (self.client_auth,)
        style, scope = styles[0], self.scope_asked
        response, refusal = self._ask(style, scope)
        if refusal is not None and refusal.style_may_matter and len(styles) > 1:
            other = styles[1]
            second, again = self._ask(other, scope)
            if again is not None and again.style_may_matter:
                raise self._fail(again, " (with HTTP Basic and with the form fields alike)"
                                 if again.said == refusal.said else
                                 f" (sent with {STYLE_NAMES[other]}; with "
                                 f"{STYLE_NAMES[style]}: {refusal.said})")
            self.notes.append(f"the token URL refused {STYLE_NAMES[style]} client "
                              f"authentication ({refusal.said}); {STYLE_NAMES[other]} "
                              + ("worked" if again is None else "got past it"))
            style, response, refusal = other, second, again
        if refusal is not None and refusal.kind == "scope":
            narrower = self._narrower(scope, refusal)
            if narrower is None and self.fallback_scope is None:
                raise self._fail(refusal, scope=scope)
            # Then no scope at all: RFC 6749 §3.3 lets the server apply its default scope
            # (a 1.1 provider may know only its own scope names).
            retries = list(dict.fromkeys(s for s in (narrower, None) if s != scope))
            if not retries:
                raise self._fail(refusal, scope=scope)
            again: TokenRefusal | None = refusal
            retry: str | None = None
            for retry in retries:
                response, again = self._ask(style, retry)
                if again is None or again.kind != "scope":
                    break
            if again is not None:
                raise self._fail(again, f" (after {refusal.said} for {_shorts(scope)})",
                                 retry)
            self.notes.append(f"the token URL refused the scopes asked for ({refusal.said}); "
                              f"asked again for {_shorts(retry)} and got a token: checks "
                              "that need the others may be refused")
            scope, refusal = retry, None
        if refusal is not None:
            raise self._fail(refusal, scope=scope)
        self.client_auth, self.scope_asked = style, scope
        answer = response.json()
        granted, lifetime = answer.get("scope"), answer.get("expires_in")
        self._token = issued_token(answer)
        self.issued.append(self._token or "")
        self.answer_problems += [p for p in token_answer_problems(answer)
                                 if p not in self.answer_problems]
        self._issued_at = time.monotonic()
        self.scope = granted if isinstance(granted, str) else None
        # A lifetime that is no positive number is as good as none (OR-AUTH-012 says so).
        self.expires_in = float(lifetime) if positive_number(lifetime) else None

    def _narrower(self, scope: str | None, refusal: TokenRefusal) -> str | None:
        """The one retry after a scope refusal: the scopes asked for less those the refusal
        names, or the fallback scope alone when it names none; None when there is nothing
        narrower to ask for (or no fallback was allowed)."""
        asked = (scope or "").split()
        if self.fallback_scope is None or not asked:
            return None
        named = named_in(refusal.description or refusal.error or "", asked)
        keep = [s for s in asked if s not in named]
        if not named or not keep:
            keep = [] if self.fallback_scope in named else [self.fallback_scope]
        return " ".join(keep) if keep and keep != asked else None


def _shorts(scope: str | None) -> str:
    return " ".join(short(s) for s in (scope or "").split()) or "no scope"


class StaticBearer(httpx.Auth):
    """A bearer token given as it is; nothing to renew."""

    scheme = "bearer"

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self) -> str:
        return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


class OAuth1Signature(httpx.Auth):
    """Each request signed with the consumer key and secret (no token, no token secret), the
    signature in the Authorization header. Only form bodies are part of a signature; a JSON
    body is sent as it is (RFC 5849 §3.4.1.3.1)."""

    scheme = "oauth1"
    requires_request_body = True  # a form body is signed, so it must be read first

    def __init__(self, consumer_key: str, consumer_secret: str,
                 signature_method: str = SIGNATURE_HMAC_SHA256) -> None:
        self._clients = {name: OAuth1Client(consumer_key, client_secret=consumer_secret,
                                            signature_method=name,
                                            signature_type=SIGNATURE_TYPE_AUTH_HEADER)
                         for name in SIGNATURE_METHODS}
        self.signature_method = SIGNATURE_HMAC_SHA256
        self.use(signature_method)

    def use(self, signature_method: str) -> None:
        """Sign the requests from now on with ``signature_method``."""
        if signature_method not in SIGNATURE_METHODS:
            raise ValueError(f"unknown signature method {signature_method!r}; expected one of "
                             f"{', '.join(SIGNATURE_METHODS)}")
        self.signature_method = signature_method

    def authorization(self, method: str, url: str, form: str | None = None, *,
                      signature_method: str | None = None) -> str:
        """The Authorization header value for one request (a fresh nonce and timestamp),
        signed with this flow's method or ``signature_method``."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else None
        client = self._clients[signature_method or self.signature_method]
        _, signed, _ = client.sign(_signable(url), method.upper(), body=form or None,
                                   headers=headers)
        return signed["Authorization"]

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        content_type = request.headers.get("content-type", "")
        form = request.content.decode() if content_type.startswith(
            "application/x-www-form-urlencoded") else None
        request.headers["Authorization"] = self.authorization(request.method, str(request.url),
                                                              form)
        yield request


Credentials = ClientCredentials | StaticBearer | OAuth1Signature


def credentials(mode: str, token_url: str, client_id: str, client_secret: str, *,
                client: httpx.Client | None = None,
                signature_method: str = SIGNATURE_HMAC_SHA256, renew_on_401: bool = True,
                scope: str | None = None, fallback_scope: str | None = None,
                scope_option: str = "--scope") -> Credentials:
    """The flow for a mode: "oauth2" (client credentials at ``token_url`` asking for
    ``scope``), "bearer" (``client_secret`` is the token) or "oauth1" (the id and secret as
    consumer key and secret)."""
    if mode == "oauth2":
        return ClientCredentials(token_url, client_id, client_secret, client=client,
                                 renew_on_401=renew_on_401, scope=scope,
                                 fallback_scope=fallback_scope, scope_option=scope_option)
    if mode == "bearer":
        return StaticBearer(client_secret)
    if mode == "oauth1":
        return OAuth1Signature(client_id, client_secret, signature_method)
    raise ValueError(f"unknown auth {mode!r}; expected one of {MODES}")


def _signable(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=quote(parts.query, safe=_QUERY_SAFE)))
