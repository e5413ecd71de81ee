"""How the example consumer proves who it is, one class per way, both with the same two
methods: ``authorize(request)`` puts credentials on a request about to be sent (and answers
what it used), ``refused(used, count, why)`` is told of a 401 for them (the count-th in a row,
``why`` in the provider's words).

- ``BearerToken``: OAuth 2.0 client credentials (OneRoster 1.2, and 1.1 as Infinite Campus
  serves it): one token, reused until it is refused or 90 % of its lifetime has passed.
- ``OAuth1Signer``: OAuth 1.0a (OneRoster 1.1), every request signed by oauthlib when it is
  sent, so every attempt, a retry included, has its own nonce and timestamp.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from example_env import Env, Fatal, OAuth1Keys
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER
from oauthlib.oauth1 import Client as OAuth1Client

SCOPE = "https://purl.imsglobal.org/spec/or/{}/scope/"
SERVICE = {"1.2": "v1p2", "1.1": "v1p1"}
# Characters oauthlib takes unescaped in a query; httpx leaves a few more (such as "[").
QUERY_SAFE = "=&;:%+~,*@!()/?'$"

Retrying = Callable[[Callable[[], httpx.Response]], httpx.Response]


def scopes(version: str, write_grades: bool) -> str:
    prefix = SCOPE.format(SERVICE[version])
    names = ["roster.readonly"] + (["gradebook.createput", "gradebook.readonly"]
                                   if write_grades else [])
    return " ".join(prefix + name for name in names)


class BearerToken:
    """One client-credentials token. ``retrying`` is the consumer's retry policy, used for
    the token request as for any other (429 and 5xx are retried; a refusal is not)."""

    def __init__(self, http: httpx.Client, env: Env, retrying: Retrying) -> None:
        self.http = http
        self.env = env
        self.retrying = retrying
        self._token: str | None = None
        self._deadline = 0.0
        self._lock = threading.Lock()  # only the parallel variant has several threads

    def authorize(self, request: httpx.Request) -> str:
        token = self.token()
        request.headers["Authorization"] = f"Bearer {token}"
        return token

    def refused(self, used: str, count: int, why: str) -> None:
        """The token may have been revoked or expired early: fetch a new one ONCE."""
        if count > 1:
            raise Fatal(f"401 again with a fresh token, the credentials are not accepted: {why}")
        with self._lock:
            if self._token == used:  # another thread may have renewed it already
                self.fetch()

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._deadline:
                self.fetch()
            assert self._token is not None
            return self._token

    def fetch(self) -> None:
        assert self.env.token_url is not None
        form = {"grant_type": "client_credentials",
                "scope": scopes(self.env.version, self.env.write_grades)}
        response = self.retrying(lambda: self.http.post(
            self.env.token_url, data=form, auth=(self.env.client_id, self.env.client_secret)))
        if response.status_code != 200:
            # Wrong or expired credentials, or scopes. The answer is RFC 6749 JSON (error,
            # description), which never holds the secret, so it is safe to show.
            raise Fatal(f"token request -> {response.status_code}: {response.text[:200]}")
        body = response.json()
        self._token = body["access_token"]
        lifetime = float(body.get("expires_in") or 3600)
        # Renew a little early so a token never expires between our check and the server's.
        self._deadline = time.monotonic() + lifetime * 0.9


def signable(url: str) -> str:
    """``url`` with its query escaped the way oauthlib accepts (the signed parameters are
    the same: normalisation decodes them first)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=quote(parts.query, safe=QUERY_SAFE)))


class OAuth1Signer:
    """Two-legged OAuth 1.0a: the consumer key and secret, no token. Only form bodies are
    signed (RFC 5849 §3.4.1.3.1); the JSON of a grade-book write is not."""

    def __init__(self, keys: OAuth1Keys) -> None:
        self._client = OAuth1Client(keys.consumer_key, client_secret=keys.consumer_secret,
                                    signature_method=keys.signature_method,
                                    signature_type=SIGNATURE_TYPE_AUTH_HEADER)

    def authorize(self, request: httpx.Request) -> str:
        _, signed, _ = self._client.sign(signable(str(request.url)), request.method)
        request.headers["Authorization"] = signed["Authorization"]
        return signed["Authorization"]

    def refused(self, used: str, count: int, why: str) -> None:
        """A replayed nonce, a clock the provider disagrees with: the next attempt is signed
        anew anyway. A second refusal in a row means the keys themselves are refused."""
        if count > 1:
            raise Fatal(f"401 again on a freshly signed request, the OAuth 1.0a keys are not "
                        f"accepted: {why}")
