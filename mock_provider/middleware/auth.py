"""Who is calling: bearer tokens (1.2 and 1.1) and OAuth 1.0a signatures (1.1), as pure ASGI.

``BearerAuth`` guards the OneRoster paths: it answers 401 itself, in the path's OneRoster
version, and on success leaves a ``Grant`` in ``scope["state"]["grant"]``. Routes then call
``require(request, scopes)`` for the 403 decision, because only the route knows its operation.

It is given what it checks against when it is made, e.g. ``Middleware(BearerAuth,
connections=connections, tokens=issuer)``. The connections are looked up on every call, so a
connection removed from that list loses its live tokens.
"""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Sequence
from datetime import date

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ..connections import Connection
from ..errors import OneRosterError, error_body
from ..oauth1 import NonceCache, verify_oauth1
from ..paths import version_of
from ..scopes import granted
from ..tokens import Grant, TokenIssuer

REALM = 'Bearer realm="oneroster"'
# Where a middleware in front that rewrites the query (the page-cap fault) keeps the query the
# client sent: a provider caps pages after checking the request, so the signature still holds.
SIGNED_QUERY_KEY = "oneroster.signed_query"


def _unauthorised(why: str) -> OneRosterError:
    return OneRosterError(401, "unauthorisedrequest", why)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _request_url(scope: Scope) -> str:
    """The URL as the client addressed it, which is what an OAuth 1.0a client signed."""
    host = _header(scope, b"host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else scope["path"]
    query = scope.get(SIGNED_QUERY_KEY, scope.get("query_string", b"")).decode("latin-1")
    return f"{scope.get('scheme', 'http')}://{host}{path}" + (f"?{query}" if query else "")


class BearerAuth:
    """Require credentials on ``protected_prefixes``; everything else passes untouched, and so
    do paths containing one of ``public_parts`` (the discovery documents a client reads before
    it has a token). Bearer tokens are verified by ``tokens``; OAuth 1.0a signatures (1.1
    connections that allow them) against ``nonces``, HMAC-SHA1 only with ``allow_oauth1_sha1``."""

    def __init__(self, app: ASGIApp, connections: Sequence[Connection], tokens: TokenIssuer, *,
                 nonces: NonceCache | None = None, allow_oauth1_sha1: bool = False,
                 protected_prefixes: tuple[str, ...] = ("/ims/oneroster",),
                 public_parts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.connections = connections
        self.tokens = tokens
        self.nonces = nonces if nonces is not None else NonceCache()
        self.allow_oauth1_sha1 = allow_oauth1_sha1
        self.protected_prefixes = protected_prefixes
        self.public_parts = public_parts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or not path.startswith(self.protected_prefixes)
                or any(part in path for part in self.public_parts)):
            await self.app(scope, receive, send)
            return
        version = version_of(scope["path"])
        sent_token = False
        try:
            header = _header(scope, b"authorization")
            scheme, _, token = (header or "").strip().partition(" ")
            sent_token = scheme.lower() == "bearer" and bool(token.strip())
            grant = self._authenticate(scope, header, version)
        except OneRosterError as exc:
            await self._refuse(exc, version, sent_token, send)
            return
        scope.setdefault("state", {})["grant"] = grant
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope, header: str | None, version: str) -> Grant:
        if header is None:
            raise _unauthorised("missing Authorization header (expected 'Bearer <access token>')")
        auth_scheme, _, credentials = header.strip().partition(" ")
        if auth_scheme.lower() == "oauth":
            if version != "1.1":
                raise _unauthorised("OAuth 1.0a signatures are accepted only on OneRoster 1.1; "
                                    "send 'Bearer <access token>'")
            return self._oauth1(scope)
        if auth_scheme.lower() != "bearer":
            raise _unauthorised(f"unsupported Authorization scheme {auth_scheme[:20]!r} "
                                "(expected 'Bearer <access token>')")
        token = credentials.strip()
        if not token or " " in token:
            raise _unauthorised("malformed Authorization header (expected 'Bearer <token>')")
        grant = self.tokens.verify(token)
        connection = _registered(self.connections, grant.client_id)
        _check_expiry(connection, self.tokens.today())
        return dataclasses.replace(grant, connection=connection)

    def _oauth1(self, scope: Scope) -> Grant:
        now = self.tokens.clock()
        headers = {"authorization": _header(scope, b"authorization") or ""}
        connection = verify_oauth1(scope["method"], _request_url(scope), headers,
                                   self.connections, self.nonces, now,
                                   allow_sha1=self.allow_oauth1_sha1)
        _check_expiry(connection, self.tokens.today())
        return Grant(connection.name, connection.client_id, connection.scopes, now, connection,
                     auth="oauth1")

    async def _refuse(self, exc: OneRosterError, version: str, sent_token: bool,
                      send: Send) -> None:
        challenge = REALM + (', error="invalid_token"' if sent_token else "")
        body = error_body(exc, version)
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"www-authenticate", challenge.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _registered(connections: Sequence[Connection], client_id: str) -> Connection:
    # Looked up on every call, so removing or renewing a connection cuts off its live tokens.
    for connection in connections:
        if connection.client_id == client_id:
            return connection
    raise _unauthorised("the client this token was issued to is no longer registered")


def _check_expiry(connection: Connection, today: date) -> None:
    if connection.expired(today):
        assert connection.expires is not None
        raise _unauthorised(f"credentials expired on {connection.expires.isoformat()}")


def require(request: Request, any_of: frozenset[str]) -> Grant:
    """The request's grant, if it holds any one of ``any_of``; else 403 forbidden."""
    grant: Grant | None = request.scope.get("state", {}).get("grant")
    if grant is None:
        raise _unauthorised("this request carries no verified credentials")
    if not granted(grant.scopes, any_of):
        listed = ", ".join(sorted(any_of))
        raise OneRosterError(403, "forbidden",
                             f"this token lacks the scope this request needs (any of: {listed})")
    return grant


def require_vendor_key(request: Request, grant: Grant) -> None:
    """Infinite Campus's extra grade-book check: ``x-vendor-authorization: key:secret`` must
    match the connection's vendor_key (no-op when it has none); 401 otherwise."""
    connection = grant.connection
    if connection is None or connection.vendor_key is None:
        return
    sent = request.headers.get("x-vendor-authorization")
    if sent is None:
        raise _unauthorised("grade book calls need the x-vendor-authorization header "
                            "(vendorKey:vendorSecret)")
    if not hmac.compare_digest(sent.strip().encode(), connection.vendor_key.encode()):
        raise _unauthorised("x-vendor-authorization does not match this connection")
