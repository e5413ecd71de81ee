"""Access tokens: issued at the token endpoint, checked on every resource call.

Two kinds, chosen once per issuer:

* opaque (default): random strings remembered in memory with their grant. Expired ones are
  purged whenever a token is issued, so memory stays bounded by the tokens still alive.
* signed (``signing_key`` given): ``base64url(payload).base64url(HMAC-SHA256(payload))`` with a
  compact JSON payload, so several worker processes sharing the key accept each other's tokens
  without sharing memory.

Either way a new token never invalidates earlier ones: consumers that fetch a token per job,
or several in parallel, keep working.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import heapq
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from .connections import SCOPE_PREFIX_V11, SCOPE_PREFIX_V12, Connection
from .errors import OneRosterError

# Payload scopes are shortened with these tags: the token travels on every request.
_SCOPE_TAGS = {"2:": SCOPE_PREFIX_V12, "1:": SCOPE_PREFIX_V11}


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint returns: the token, its lifetime, the granted scopes."""

    access_token: str
    expires_in: int
    scope: str  # space-separated, sorted


@dataclass(frozen=True)
class Grant:
    """Who a request acts for and what it may do. ``connection`` is filled in by the auth
    middleware from the live registry; ``auth`` says how the request proved it ("bearer" or
    "oauth1")."""

    connection_name: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    connection: Connection | None = None
    auth: str = "bearer"


def _unauthorised(why: str) -> OneRosterError:
    return OneRosterError(401, "unauthorisedrequest", why)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pack_scope(scope: str) -> str:
    for tag, prefix in _SCOPE_TAGS.items():
        if scope.startswith(prefix):
            return tag + scope.removeprefix(prefix)
    return scope


def _unpack_scope(packed: str) -> str:
    prefix = _SCOPE_TAGS.get(packed[:2])
    return prefix + packed[2:] if prefix else packed


class TokenIssuer:
    """Issues and verifies bearer tokens. ``clock`` returns Unix seconds (tests pass a fake)."""

    def __init__(self, clock: Callable[[], float] = time.time,
                 signing_key: bytes | None = None) -> None:
        if signing_key is not None and len(signing_key) < 16:
            raise ValueError("signing_key must be at least 16 bytes")
        self.clock = clock
        self._key = signing_key
        self._grants: dict[str, Grant] = {}
        self._expiries: list[tuple[float, str]] = []  # heap, so purging is cheap
        self._lock = threading.Lock()

    @property
    def signed(self) -> bool:
        return self._key is not None

    def today(self) -> date:
        """The UTC date by this issuer's clock (credential expiry is checked against it)."""
        return datetime.fromtimestamp(self.clock(), UTC).date()

    def issue(self, connection: Connection, scopes: Iterable[str]) -> IssuedToken:
        """A new token for ``scopes``, which must all be scopes the connection may have."""
        granted = frozenset(scopes)
        extra = granted - connection.scopes
        if extra:
            raise ValueError(f"connection {connection.name!r} may not have {sorted(extra)[0]!r}")
        now = self.clock()
        expires_at = now + connection.token_lifetime
        grant = Grant(connection.name, connection.client_id, granted, expires_at, connection)
        if self._key is not None:
            token = self._sign(grant)
        else:
            token = secrets.token_urlsafe(32)
            with self._lock:
                self._purge(now)
                self._grants[token] = grant
                heapq.heappush(self._expiries, (expires_at, token))
        return IssuedToken(token, connection.token_lifetime, " ".join(sorted(granted)))

    def verify(self, token: str) -> Grant:
        """The grant behind ``token``; OneRosterError 401 when unknown, malformed or expired."""
        if self._key is not None:
            grant = self._unsign(token)
        else:
            found = self._grants.get(token)
            if found is None:
                raise _unauthorised("unknown access token")
            grant = found
        if self.clock() >= grant.expires_at:
            raise _unauthorised("the access token has expired")
        return grant

    def connection_of(self, token: str) -> str | None:
        """The name of the connection ``token`` was issued to, expired or not; None for a
        token this issuer never made."""
        if self._key is not None:
            try:
                return self._unsign(token).connection_name
            except OneRosterError:
                return None
        grant = self._grants.get(token)
        return grant.connection_name if grant is not None else None

    def __len__(self) -> int:
        """Opaque tokens held in memory (0 for a signing issuer)."""
        return len(self._grants)

    def _purge(self, now: float) -> None:
        while self._expiries and self._expiries[0][0] <= now:
            _, token = heapq.heappop(self._expiries)
            self._grants.pop(token, None)

    # --- signed tokens ---

    def _mac(self, payload: bytes) -> bytes:
        assert self._key is not None
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _sign(self, grant: Grant) -> str:
        body = {"c": grant.client_id, "n": grant.connection_name,
                "s": sorted(map(_pack_scope, grant.scopes)), "x": grant.expires_at,
                "j": secrets.token_urlsafe(6)}  # j: two tokens issued in the same instant differ
        payload = json.dumps(body, separators=(",", ":")).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def _unsign(self, token: str) -> Grant:
        encoded, dot, mac = token.partition(".")
        try:
            payload = _b64decode(encoded)
            signature = _b64decode(mac)
        except (binascii.Error, ValueError):
            raise _unauthorised("malformed access token") from None
        if not dot or not payload or not signature:
            raise _unauthorised("malformed access token")
        if not hmac.compare_digest(signature, self._mac(payload)):
            raise _unauthorised("unknown access token (not signed by this provider)")
        try:
            body = json.loads(payload)
            return Grant(connection_name=str(body["n"]), client_id=str(body["c"]),
                         scopes=frozenset(map(_unpack_scope, body["s"])),
                         expires_at=float(body["x"]))
        except (ValueError, KeyError, TypeError):
            raise _unauthorised("malformed access token") from None
