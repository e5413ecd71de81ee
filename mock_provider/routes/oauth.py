"""The OAuth 2.0 token endpoint (client credentials, RFC 6749 §4.4), as OneRoster uses it.

Clients authenticate with HTTP Basic or with ``client_id``/``client_secret`` form fields: both
are used against real providers (campus-notes §1.1). A query string on the token URL, such as
Infinite Campus's ``?appName=``, is accepted and ignored. Errors are RFC 6749 JSON, never a
traceback and never a secret; a body over ``MAX_BODY`` is refused (413 ``invalid_request``)
while it is read, before the rest arrives.

``token_endpoint(connections, tokens)`` makes the endpoint for one set of connections and one
token issuer; the connections are looked up on every request.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import Response

from ..bodies import BodyError, read_body
from ..connections import Connection
from ..tokens import TokenIssuer

log = logging.getLogger(__name__)
FORM = "application/x-www-form-urlencoded"
MAX_BODY = 64 * 1024
# Compared against when the client_id is unknown, so a miss takes as long as a wrong secret.
_DUMMY_SECRET = "x" * 43
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE = {"WWW-Authenticate": 'Basic realm="oneroster"'}


class TokenError(Exception):
    """An RFC 6749 error response: status, error code, description."""

    def __init__(self, status: int, error: str, description: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = headers or {}


def _json(status: int, payload: dict, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(body, status, {**_NO_STORE, **(headers or {})},
                    media_type="application/json")


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise TokenError(400, "invalid_request", f"the body must be {FORM}")
    try:
        # Needs no login, so it must never buffer more than MAX_BODY of anyone's body.
        body = await read_body(request, MAX_BODY)
    except BodyError as exc:
        headers = {"Connection": "close"} if exc.status == 413 else None
        raise TokenError(exc.status, "invalid_request", exc.message, headers) from None
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                          strict_parsing=bool(body), errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise TokenError(400, "invalid_request", "the form body is malformed") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # RFC 6749 §3.2: parameters must not repeat
            raise TokenError(400, "invalid_request", f"parameter {name} is given more than once")
        if value:  # §3.1: a parameter without a value counts as omitted
            form[name] = value
    return form


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise TokenError(401, "invalid_client", "client authentication must use HTTP Basic "
                         "or the client_id and client_secret form fields", _BASIC_CHALLENGE)
    try:
        # A header is read as latin-1, so any byte can arrive; b64decode refuses non-ASCII
        # text with a bare ValueError (binascii.Error is one too).
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError:
        raise TokenError(401, "invalid_client", "malformed HTTP Basic credentials",
                         _BASIC_CHALLENGE) from None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise TokenError(401, "invalid_client", "malformed HTTP Basic credentials",
                         _BASIC_CHALLENGE)
    return client_id, secret


def _credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    basic = _basic(request)
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    if basic is not None:
        # Same values in both places are harmless; different ones mean a confused client.
        if (form_id is not None and form_id != basic[0]) or (
                form_secret is not None and form_secret != basic[1]):
            raise TokenError(400, "invalid_request",
                             "client credentials in the Authorization header and the form differ")
        return basic
    if form_id is None or form_secret is None:
        raise TokenError(401, "invalid_client", "client authentication is missing (HTTP Basic "
                         "or client_id and client_secret form fields)", _BASIC_CHALLENGE)
    return form_id, form_secret


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def authenticate(connections: Iterable[Connection], client_id: str, secret: str) -> Connection:
    """The connection these credentials open, checked in constant time."""
    match = None
    for connection in connections:
        if _equal(connection.client_id, client_id):
            match = connection
    # RFC 6749 §2.3.1 form-encodes id and secret inside Basic; most clients do not. Accept both.
    candidates = {secret, unquote_plus(secret)}
    expected = match.client_secret if match is not None else _DUMMY_SECRET
    ok = False
    for candidate in candidates:
        ok |= _equal(expected, candidate)
    if match is None or not ok:
        raise TokenError(401, "invalid_client", "unknown client or wrong secret",
                         _BASIC_CHALLENGE)
    return match


def _scopes(connection: Connection, requested: str | None) -> frozenset[str]:
    if requested is None:
        return connection.scopes
    scopes = frozenset(requested.split())
    # Every refused scope is named, so a client can ask again without them in one step.
    unavailable = sorted(scope for scope in scopes if scope not in connection.scopes)
    if unavailable:
        raise TokenError(400, "invalid_scope",
                         f"scope {' '.join(unavailable)} "
                         f"{'is' if len(unavailable) == 1 else 'are'} not available to this "
                         "client")
    return scopes or connection.scopes


async def _grant(request: Request, connections: Iterable[Connection],
                 tokens: TokenIssuer) -> Response:
    form = await _form(request)
    client_id, secret = _credentials(request, form)
    connection = authenticate(connections, client_id, secret)
    if connection.expired(tokens.today()):
        raise TokenError(401, "invalid_client",
                         f"credentials expired on {connection.expires.isoformat()}",
                         _BASIC_CHALLENGE)
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise TokenError(400, "invalid_request", "grant_type is missing")
    if grant_type != "client_credentials":
        raise TokenError(400, "unsupported_grant_type",
                         "only grant_type=client_credentials is supported")
    issued = tokens.issue(connection, _scopes(connection, form.get("scope")))
    return _json(200, {"access_token": issued.access_token, "token_type": "bearer",
                       "expires_in": issued.expires_in, "scope": issued.scope})


def token_endpoint(connections: Sequence[Connection],
                   tokens: TokenIssuer) -> Callable[[Request], Awaitable[Response]]:
    """POST <token URL>: grant_type=client_credentials[&scope=...] -> an RFC 6749 token."""

    async def endpoint(request: Request) -> Response:
        if request.method != "POST":
            return _json(405, {"error": "invalid_request", "error_description": "use POST"},
                         {"Allow": "POST"})
        try:
            return await _grant(request, connections, tokens)
        except TokenError as exc:
            return _json(exc.status, {"error": exc.error, "error_description": exc.description},
                         exc.headers)
        except Exception:
            log.exception("token endpoint failed")
            return _json(500, {"error": "server_error",
                               "error_description": "the token endpoint failed; "
                               "see the server log"})

    return endpoint
