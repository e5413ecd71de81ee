"""The ASGI middleware in front of the mock: it answers ``/inspector`` itself and notes every
other exchange for the inspector.

Unwatched (no inspector page open) a request costs a timer, a look at the answer's status
and headers, and a few counters: nothing is parsed and no body is kept, except for token
requests (a small form, read to name the connection). Watched, the request and the answer are
kept whole, masked, for the detail view.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import OneRosterError
from ..middleware.recorder import (
    NOTES_KEY,
    TokenLabels,
    masked_authorization,
    masked_json,
    read_body,
    replaying,
    request_body,
)
from ..oauth1 import parse_authorization

if TYPE_CHECKING:
    from .core import Inspector

DETAIL_BODY = 256 * 1024  # body bytes kept for the detail view (200 of them at most)
SECRET_HEADERS = frozenset({"x-vendor-authorization", "cookie", "set-cookie"})
FORM = "application/x-www-form-urlencoded"


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _client_id(headers: list[tuple[bytes, bytes]], raw: bytes) -> str | None:
    """The client id a token request names, by HTTP Basic or by form field."""
    scheme, _, encoded = (_header(headers, b"authorization") or "").strip().partition(" ")
    if scheme.lower() == "basic":
        try:
            user = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return unquote(user.partition(":")[0])
    form = dict(parse_qsl(raw.decode("utf-8", "replace")))
    return form.get("client_id")


class Watch:
    """Pure ASGI middleware: ``/inspector`` goes to the inspector's pages, the rest is noted."""

    def __init__(self, app: ASGIApp, inspector: Inspector) -> None:
        self.app = app
        self.inspector = inspector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        inspector = self.inspector
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == inspector.prefix or path.startswith(inspector.prefix + "/"):
            await inspector.pages(scope, receive, send)
            return
        watched = inspector.feed.watched
        began = time.monotonic()
        at = time.time()
        headers = scope["headers"]
        content_type = _header(headers, b"content-type") or ""
        is_form = FORM in content_type.lower()
        raw, more = b"", False
        if watched or is_form:
            raw, more = await read_body(receive)
        replay = replaying(receive, raw, more, already=not (watched or is_form))

        notes: dict[str, Any] = {}
        # The app's state dict is shared by every copy of the scope, so the grant the auth
        # middleware leaves in it can be read here afterwards.
        scope.setdefault("state", {})
        inner = {**scope, NOTES_KEY: notes}
        status: int | None = None
        answer_headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, answer_headers, size
            if message["type"] == "http.response.start":
                status = message["status"]
                answer_headers = list(message.get("headers", []))
            elif watched and message["type"] == "http.response.body":
                body = message.get("body", b"")
                if size < DETAIL_BODY:
                    chunks.append(body[:DETAIL_BODY - size])
                size += len(body)
            await send(message)

        try:
            await self.app(inner, replay, capture)
        except Exception:
            # The app's last-resort handler, outside this middleware, answers it with a 500.
            status = status or 500
            raise
        finally:
            took = (time.monotonic() - began) * 1000
            grant = scope["state"].get("grant")
            client_id = _client_id(headers, raw) if is_form else None
            record = self._record(scope, at, took, status, answer_headers, notes, grant,
                                  client_id)
            detail = None
            answer = b"".join(chunks)
            if watched:
                detail = self._detail(scope, raw, content_type, answer_headers, answer, size)
            token_issued = (is_form and status == 200 and scope["method"] == "POST"
                            and path == inspector.token_path)
            inspector.observe(record, detail, token_request=is_form and path ==
                              inspector.token_path, token_issued=token_issued)

    def _record(self, scope: Scope, at: float, took: float, status: int | None,
                answer_headers: list[tuple[bytes, bytes]], notes: dict[str, Any],
                grant: Any, client_id: str | None) -> dict[str, Any]:
        query = scope.get("query_string", b"").decode("latin-1")
        withheld = notes.get("withheld") or {}
        total_text = _header(answer_headers, b"x-total-count") or withheld.get("x-total-count")
        total = int(total_text) if total_text and total_text.isdigit() else None
        connection = grant.connection_name if grant is not None else (
            self.inspector.connection_named(client_id) if client_id
            else self._sender(scope["headers"]))
        record: dict[str, Any] = {
            "at": round(at, 3), "ms": round(took, 1), "connection": connection,
            "method": scope["method"], "path": scope["path"], "query": unquote(query),
            "status": status, "fault": notes.get("fault"), "total": total,
            "retry_after": _header(answer_headers, b"retry-after"),
            "count": _page_size(query, total, notes) if status == 200 else None,
        }
        return record

    def _sender(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """The connection behind a request that was refused before the auth middleware named
        it (a fault answered it first, or its token had expired): by the bearer token it
        sent, or by the consumer key of its OAuth 1.0a signature."""
        header = _header(headers, b"authorization") or ""
        scheme, _, credentials = header.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip() and self.inspector.tokens:
            return self.inspector.tokens.connection_of(credentials.strip())
        if scheme.lower() == "oauth":
            try:
                key = parse_authorization(header).get("oauth_consumer_key")
            except OneRosterError:
                return None
            return self.inspector.connection_named(key) if key else None
        return None

    def _detail(self, scope: Scope, raw: bytes, content_type: str,
                answer_headers: list[tuple[bytes, bytes]], answer: bytes,
                size: int) -> dict[str, Any]:
        """What is kept of a watched exchange. Only the headers are masked now (cheap, and a
        token's label must follow the order tokens were first seen); the bodies are kept as
        bytes and masked when someone opens the exchange (see ``detail_view``)."""
        labels = self.inspector.labels
        request_headers = {}
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            request_headers[name] = (masked_authorization(text, labels)
                                     if name == "authorization"
                                     else "***" if name in SECRET_HEADERS else text)
        if FORM in content_type.lower() and b"access_token" in answer[:4096]:
            # A token answer: label the token now, in the order it was issued.
            masked_json(_json_or_none(answer), labels)
        host = request_headers.get("host") or "127.0.0.1"
        query = scope.get("query_string", b"").decode("latin-1")
        return {
            "url": f"{scope.get('scheme', 'http')}://{host}{scope['path']}"
                   + (f"?{query}" if query else ""),
            "request_headers": request_headers,
            "request_raw": raw[:DETAIL_BODY], "request_bytes": len(raw),
            "content_type": content_type,
            "answer_headers": {k.decode("latin-1").lower(): ("***" if k.lower() == b"set-cookie"
                                                            else v.decode("latin-1"))
                               for k, v in answer_headers},
            "answer_raw": answer,
            "answer_bytes": size,
        }


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def detail_view(detail: dict[str, Any], labels: TokenLabels) -> dict[str, Any]:
    """A kept exchange as the page shows it: bodies parsed, every secret masked."""
    body: Any = request_body(detail["request_raw"], detail["content_type"])
    if detail["request_bytes"] > DETAIL_BODY:
        body = f"({detail['request_bytes']} bytes; the first {DETAIL_BODY} are kept)"
    if isinstance(body, dict | list):
        body = masked_json(body, labels)
    answer: bytes = detail["answer_raw"]
    size = detail["answer_bytes"]
    parsed = _json_or_none(answer) if size <= DETAIL_BODY else None
    if parsed is not None:
        answer_text = json.dumps(masked_json(parsed, labels), indent=2, ensure_ascii=False)
    else:
        answer_text = answer.decode("utf-8", "replace")
        if size > DETAIL_BODY:
            answer_text += f"\n... ({size - DETAIL_BODY} more bytes not kept)"
    kept = {k: v for k, v in detail.items() if k not in ("request_raw", "answer_raw")}
    return {**kept, "request_body": body, "answer_body": answer_text}


def _page_size(query: str, total: int | None, notes: dict[str, Any]) -> int | None:
    """Records on a collection page, from the paging the answer states (no body parsed):
    ``min(limit, total - offset)``, with the limit the provider applied."""
    if total is None:
        return None
    values = dict(parse_qsl(query))
    limit_text = values.get("limit", "100")
    offset_text = values.get("offset", "0") or "0"
    if not limit_text.isdigit() or not offset_text.isdigit():
        return None
    limit = min(int(limit_text), int(notes.get("limit") or limit_text))
    return max(0, min(limit, total - int(offset_text)))


__all__ = ["Watch", "detail_view"]
