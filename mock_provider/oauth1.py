"""OAuth 1.0a request signing (RFC 5849), two-legged, as OneRoster 1.1 uses it.

Signature base string: ``METHOD&pct(base URL)&pct(normalised params)``. The base URL is scheme
and host in lower case, default port dropped, path kept, no query. The params are every query
parameter and every ``oauth_*`` header parameter except ``oauth_signature``, each name and value
percent-encoded (RFC 3986 unreserved set), sorted by name then value, joined ``k=v`` with ``&``.
Key: ``pct(consumer_secret)&`` (no token secret). IMS certifies HMAC-SHA256; HMAC-SHA1 (used by
some client libraries) only when the server allows it (spec-notes §6.2, §10.15).

Server checks beyond the signature: a timestamp window (10 minutes past, 5 minutes future, as
Instructure asks of providers) and no nonce used twice inside it.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .connections import Connection
from .errors import OneRosterError

MAX_AGE = 600  # seconds a timestamp may lie in the past
MAX_AHEAD = 300  # seconds it may lie in the future
_HASHES = {"HMAC-SHA256": hashlib.sha256, "HMAC-SHA1": hashlib.sha1}
_REQUIRED = ("oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce",
             "oauth_signature")
_PARAM = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
_DEFAULT_PORTS = {"http": 80, "https": 443}


def pct(text: str) -> str:
    """RFC 3986 percent-encoding: everything but the unreserved set."""
    return quote(text, safe="~")


def base_url(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def base_string(method: str, url: str, oauth_params: Mapping[str, str]) -> str:
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    params = [(k, v) for k, v in oauth_params.items() if k != "oauth_signature"] + query
    normalised = "&".join(f"{k}={v}" for k, v in sorted((pct(k), pct(v)) for k, v in params))
    return "&".join((method.upper(), pct(base_url(url)), pct(normalised)))


def signature(method_name: str, consumer_secret: str, base: str) -> str:
    digest = hmac.new(f"{pct(consumer_secret)}&".encode(), base.encode(), _HASHES[method_name])
    return base64.b64encode(digest.digest()).decode("ascii")


def sign_oauth1(method: str, url: str, consumer_key: str, consumer_secret: str, *,
                method_name: str = "HMAC-SHA256", timestamp: int | None = None,
                nonce: str | None = None) -> str:
    """The ``Authorization`` header value for a two-legged signed request to ``url``."""
    if method_name not in _HASHES:
        raise ValueError(f"unsupported signature method {method_name!r}")
    params = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": method_name,
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_version": "1.0",
    }
    params["oauth_signature"] = signature(method_name, consumer_secret,
                                          base_string(method, url, params))
    return "OAuth " + ", ".join(f'{k}="{pct(v)}"' for k, v in params.items())


class NonceCache:
    """Nonces seen recently, per consumer key, each kept until its timestamp leaves the window.

    Bounded: when full, the entries closest to expiry go first (a mock server should not grow
    without limit under a load test; a replay that old is already nearly out of the window)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._seen: dict[tuple[str, str], float] = {}
        self._expiries: list[tuple[float, tuple[str, str]]] = []
        self._lock = threading.Lock()

    def use(self, consumer_key: str, nonce: str, keep_until: float, now: float) -> bool:
        """Record the nonce; False when it was already used and is still remembered."""
        key = (consumer_key, nonce)
        with self._lock:
            while self._expiries and (self._expiries[0][0] <= now
                                      or len(self._seen) >= self.max_entries):
                _, old = heapq.heappop(self._expiries)
                self._seen.pop(old, None)
            if key in self._seen:
                return False
            self._seen[key] = keep_until
            heapq.heappush(self._expiries, (keep_until, key))
            return True

    def __len__(self) -> int:
        return len(self._seen)


def _unauthorised(why: str) -> OneRosterError:
    return OneRosterError(401, "unauthorisedrequest", why)


def parse_authorization(header: str) -> dict[str, str]:
    """The parameters of an ``OAuth k="v", ...`` header, percent-decoded."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        raise _unauthorised("expected an 'OAuth' Authorization header")
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _PARAM.match(rest, position)
        if match is None:
            raise _unauthorised("malformed OAuth Authorization header")
        name, value = match.group(1), unquote(match.group(2))
        if name in params:
            raise _unauthorised(f"OAuth parameter {name} given twice")
        params[name] = value
        position = match.end()
    params.pop("realm", None)  # not signed (RFC 5849 §3.4.1.3.1)
    return params


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def verify_oauth1(method: str, url: str, headers: Mapping[str, str],
                  connections: Iterable[Connection], nonce_cache: NonceCache, now: float,
                  allow_sha1: bool = False) -> Connection:
    """The connection that signed this request, or OneRosterError 401 saying why not.

    ``url`` is the full URL as the client addressed it (scheme, Host, path, raw query)."""
    header = _header(headers, "authorization")
    if header is None:
        raise _unauthorised("missing Authorization header")
    params = parse_authorization(header)
    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        raise _unauthorised(f"OAuth parameter {missing[0]} is missing")
    if params.get("oauth_version", "1.0") != "1.0":
        raise _unauthorised("oauth_version must be 1.0")
    if params.get("oauth_token"):
        raise _unauthorised("OneRoster signing is two-legged: oauth_token is not used")
    method_name = params["oauth_signature_method"]
    if method_name not in _HASHES or (method_name == "HMAC-SHA1" and not allow_sha1):
        raise _unauthorised(f"signature method {method_name} is not accepted (use HMAC-SHA256)")
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        raise _unauthorised("oauth_timestamp is not a whole number of seconds") from None
    if now - timestamp > MAX_AGE:
        raise _unauthorised(f"oauth_timestamp is more than {MAX_AGE // 60} minutes old")
    if timestamp - now > MAX_AHEAD:
        raise _unauthorised(f"oauth_timestamp is more than {MAX_AHEAD // 60} minutes ahead")
    consumer_key = params["oauth_consumer_key"]
    connection = next((c for c in connections if c.client_id == consumer_key), None)
    if connection is None:
        raise _unauthorised("unknown oauth_consumer_key")
    if not connection.oauth1:
        raise _unauthorised("this connection does not accept OAuth 1.0a signatures")
    expected = signature(method_name, connection.client_secret, base_string(method, url, params))
    if not hmac.compare_digest(expected.encode(), params["oauth_signature"].encode()):
        raise _unauthorised("OAuth signature does not match the request")
    # Only after the signature holds, so unsigned junk cannot fill the cache.
    if not nonce_cache.use(consumer_key, params["oauth_nonce"], timestamp + MAX_AGE, now):
        raise _unauthorised("oauth_nonce was already used")
    return connection
