"""A provider's credentials as ``httpx.Auth`` flows, for the checker's ``Target`` and for any
``httpx.Client`` (the pytest plugin's ``oneroster_client``):

- ``ClientCredentials``: OAuth 2.0 client credentials (RFC 6749 §4.4). The token is fetched on
  first use and reused; the answer's ``scope`` and ``expires_in`` are kept. A 401 gets one new
  token and one retry, unless the caller renews by itself (the Target does, to count and report
  each refusal).
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

MODES = ("oauth2", "bearer", "oauth1")
SIGNATURE_METHODS = (SIGNATURE_HMAC_SHA256, SIGNATURE_HMAC_SHA1)  # the first is the default
# Characters oauthlib accepts unescaped in a query; httpx leaves a few others (``[``, ``]``)
# as they are, and the signature's parameter normalisation is the same either way.
_QUERY_SAFE = "=&;:%+~,*@!()/?'$"


class CredentialsError(Exception):
    """No token can be had: the token URL is unreachable, refuses the client, or answers
    something that is not a token. One line, safe to print (no secret in it)."""


@dataclass(frozen=True)
class Refusal:
    """What was known of a token when the provider refused it."""

    age: float  # seconds since it was issued
    lifetime: float | None  # the ``expires_in`` it was issued with, None when unstated


class ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials at ``token_url`` (HTTP Basic with the client id and secret).

    Token requests go through ``client`` (the caller's, so they share its transport and
    timeouts) or a client of this flow's own. Synchronous clients only: a token is fetched
    while a request waits for it."""

    scheme = "bearer"

    def __init__(self, token_url: str, client_id: str, client_secret: str, *,
                 client: httpx.Client | None = None, timeout: float = 10.0,
                 renew_on_401: bool = True) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.renew_on_401 = renew_on_401
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._issued_at = 0.0
        self.scope: str | None = None  # the token answer's ``scope``, None when it named none
        self.expires_in: float | None = None  # its ``expires_in``, None when unstated

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def request_token(self, secret: str | None = None, scope: str | None = None
                      ) -> httpx.Response:
        """One token request with this client id and ``secret`` (this flow's secret when None),
        asking for ``scope`` when given. Leaves the flow's own token alone."""
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        return self._client.post(self.token_url, data=form,
                                 auth=(self.client_id, self._secret if secret is None else secret))

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

    def _fetch(self) -> None:
        try:
            response = self.request_token()
        except httpx.HTTPError as exc:
            raise CredentialsError(f"cannot reach the token URL {self.token_url}: {exc}"
                                   ) from None
        if response.status_code != 200:
            raise CredentialsError(f"the token URL answered {response.status_code}; check the "
                                   "client id and secret")
        try:
            answer = response.json()
            token = str(answer["access_token"])
        except (ValueError, KeyError, TypeError):
            raise CredentialsError("the token URL did not answer an OAuth 2.0 token") from None
        scope, lifetime = answer.get("scope"), answer.get("expires_in")
        self._token = token
        self._issued_at = time.monotonic()
        self.scope = scope if isinstance(scope, str) else None
        self.expires_in = float(lifetime) if isinstance(lifetime, (int, float)) else None


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
        if signature_method not in SIGNATURE_METHODS:
            raise ValueError(f"unknown signature method {signature_method!r}; expected one of "
                             f"{', '.join(SIGNATURE_METHODS)}")
        self.signature_method = signature_method
        self._client = OAuth1Client(consumer_key, client_secret=consumer_secret,
                                    signature_method=signature_method,
                                    signature_type=SIGNATURE_TYPE_AUTH_HEADER)

    def authorization(self, method: str, url: str, form: str | None = None) -> str:
        """The Authorization header value for one request (a fresh nonce and timestamp)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else None
        _, signed, _ = self._client.sign(_signable(url), method.upper(), body=form or None,
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
                signature_method: str = SIGNATURE_HMAC_SHA256, renew_on_401: bool = True
                ) -> Credentials:
    """The flow for a mode: "oauth2" (client credentials at ``token_url``), "bearer"
    (``client_secret`` is the token) or "oauth1" (the id and secret as consumer key and
    secret)."""
    if mode == "oauth2":
        return ClientCredentials(token_url, client_id, client_secret, client=client,
                                 renew_on_401=renew_on_401)
    if mode == "bearer":
        return StaticBearer(client_secret)
    if mode == "oauth1":
        return OAuth1Signature(client_id, client_secret, signature_method)
    raise ValueError(f"unknown auth {mode!r}; expected one of {MODES}")


def _signable(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=quote(parts.query, safe=_QUERY_SAFE)))
