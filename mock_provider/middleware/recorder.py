"""Record every exchange a consumer has with the mock, as NDJSON with the secrets masked.

A recording is one JSON object per line, each with a ``type``:

``header``
    written once, first: ``format`` ("oneroster-harness-recording"), ``format_version`` (1),
    ``epoch`` (the wall clock, Unix seconds, when the recording began: ``start`` + ``epoch``
    dates an exchange), plus whatever the caller knows about the run (scenario, flavor, base
    and token URLs, limits).
``exchange``
    one request and its answer: ``seq``; ``start``/``end`` (seconds since the recording began,
    from the moment the request reached the server to the last byte of the answer);
    ``phase``; ``method``, ``path``, ``query`` (the raw query string, percent-decoded);
    ``auth`` ("bearer", "basic", "oauth1", "form", "other" or "none") and ``token`` (a label
    such as ``token-2`` standing for the bearer token sent, never the token itself);
    ``oauth1`` for a signed request: its ``nonce``, ``timestamp``, ``signature_method`` and
    ``version`` as sent (never the signature, which with the request would let a reader try
    secrets offline, and never the consumer key);
    ``vendor_header`` (whether ``x-vendor-authorization`` was sent); ``body`` (a JSON request
    body, or for a token request its form fields with ``client_secret`` masked); ``status``;
    ``response_headers`` (those a consumer acts on: x-total-count, link, retry-after,
    www-authenticate, content-type); ``envelope``, ``ids`` and ``count`` (the key of a JSON
    answer, the sourcedIds in it and how many); ``code_minor`` and ``description`` for an
    imsx_StatusInfo answer (or a 1.1 warning beside the data); ``issued`` and ``expires_in``
    for a token answer; ``fault`` (what the fault middleware did to this request, if
    anything) and ``withheld`` (paging headers it kept from the consumer, with their values).
``event``
    something the harness did between exchanges: ``event`` names it (``phase``, ``tick``,
    ``command``, ``end``); ``at`` is when.

Tokens, client secrets and vendor keys never reach the file: tokens become labels in the order
they are first seen, secrets become ``***``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..bodies import BodyError, loads_strict
from ..errors import OneRosterError
from ..oauth1 import parse_authorization

FORMAT = "oneroster-harness-recording"
FORMAT_VERSION = 1
NOTES_KEY = "oneroster.notes"  # the dict the fault middleware writes what it did into
MAX_BODY = 8 * 1024 * 1024  # larger request or response bodies are passed on, not parsed
KEPT_RESPONSE_HEADERS = ("x-total-count", "link", "retry-after", "www-authenticate",
                         "content-type")
SECRET_FIELDS = frozenset({"client_secret", "password", "access_token", "refresh_token"})
# The OAuth 1.0a parameters a judge reads (fresh nonces, timestamps, the method), by the
# recording's names.
KEPT_OAUTH1 = {"oauth_nonce": "nonce", "oauth_timestamp": "timestamp",
               "oauth_signature_method": "signature_method", "oauth_version": "version"}


class TokenLabels:
    """Stand-ins for bearer tokens: ``token-1``, ``token-2``... in the order first seen, so a
    reader can follow which token a request used without ever seeing one."""

    def __init__(self) -> None:
        self._labels: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> str:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self._lock:
            if digest not in self._labels:
                self._labels[digest] = f"token-{len(self._labels) + 1}"
            return self._labels[digest]


class Recording:
    """The NDJSON sink: thread-safe, flushed per line so a crash leaves a readable file."""

    def __init__(self, path: str | Path, header: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._lock = threading.Lock()
        self._began = time.monotonic()
        epoch = time.time()
        self._seq = 0
        self._labels = TokenLabels()
        self.versions: set[str] = set()  # the OneRoster versions the client's requests used
        self.phase = "full"
        self._write({"type": "header", "format": FORMAT, "format_version": FORMAT_VERSION,
                     "epoch": round(epoch, 3), **(header or {})})

    def now(self) -> float:
        return round(time.monotonic() - self._began, 6)

    def token_label(self, token: str) -> str:
        return self._labels(token)

    def event(self, event: str, **fields: Any) -> None:
        self._write({"type": "event", "event": event, "at": self.now(), "phase": self.phase,
                     **fields})

    def exchange(self, record: dict[str, Any]) -> None:
        version = version_used(str(record.get("path", "")))
        with self._lock:
            record = {"type": "exchange", "seq": self._seq, **record}
            self._seq += 1
            if version is not None:
                self.versions.add(version)
        self._write(record)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self._lock:
            if not self._file.closed:
                self._file.write(line)
                self._file.flush()


def version_used(path: str) -> str | None:
    """The OneRoster version a request path speaks ("1.1" or "1.2"), None for anything else
    (token requests, discovery documents)."""
    if "/ims/oneroster/" not in path or "/discovery/" in path:
        return None
    # Only what follows /ims/oneroster says the version: a flavor's prefix may name another
    # (Infinite Campus serves its 1.1 base under .../oneroster/v1p1/<district>).
    tail = "/" + path.split("/ims/oneroster/", 1)[1] + "/"
    if tail.startswith("/v1p1/"):
        return "1.1"
    return "1.2" if "/v1p2/" in tail else None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _masked_form(text: str) -> dict[str, str]:
    return {k: ("***" if k in SECRET_FIELDS else v) for k, v in parse_qsl(text)}


def masked_authorization(value: str, label: TokenLabels) -> str:
    """An Authorization header as a reader may see it: a bearer token becomes its label,
    Basic credentials and OAuth 1.0a signatures and keys become ``***``."""
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return f"{scheme} {label(credentials.strip())}"
    if scheme.lower() == "oauth":
        facts = _oauth1_facts(value)
        kept = ", ".join(f'{name}="{facts[name]}"' for name in KEPT_OAUTH1.values()
                         if name in facts)
        return f"OAuth {kept}, oauth_consumer_key=\"***\", oauth_signature=\"***\""
    return f"{scheme} ***" if credentials else "***"


def masked_json(value: Any, label: TokenLabels) -> Any:
    """A parsed JSON body with every secret field masked (tokens become their labels)."""
    if isinstance(value, dict):
        return {k: (label(str(v)) if k in ("access_token", "refresh_token") and v
                    else "***" if k in SECRET_FIELDS else masked_json(v, label))
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked_json(v, label) for v in value]
    return value


def request_body(raw: bytes, content_type: str) -> Any:
    """A request body as the recording keeps it: JSON parsed, a form's secrets masked."""
    return _request_body(raw, content_type)


def _request_body(raw: bytes, content_type: str) -> Any:
    if not raw or len(raw) > MAX_BODY:
        return None
    text = raw.decode("utf-8", "replace")
    if "x-www-form-urlencoded" in content_type:
        return _masked_form(text)
    try:
        return loads_strict(text)  # a hostile body must not crash the recording
    except BodyError:
        return {"unparsed": text[:200]}


def _oauth1_facts(header: str) -> dict[str, str]:
    """The kept parameters of an ``OAuth ...`` Authorization header ({} when malformed)."""
    try:
        params = parse_authorization(header)
    except OneRosterError:
        return {}
    return {ours: params[theirs] for theirs, ours in KEPT_OAUTH1.items() if theirs in params}


def _status_info(body: dict) -> dict[str, str]:
    info = body.get("statusInfoSet")
    if isinstance(info, list) and info and isinstance(info[0], dict):
        info = info[0]
        return {"code_minor": str(info.get("imsx_codeMinor", "")),
                "description": str(info.get("imsx_description", ""))}
    fields = (body.get("imsx_CodeMinor") or {}).get("imsx_codeMinorField") or [{}]
    return {"code_minor": str(fields[0].get("imsx_codeMinorFieldValue", "")),
            "description": str(body.get("imsx_description", ""))}


def answer_facts(body: Any) -> dict[str, Any]:
    """The envelope, sourcedIds and count of a JSON answer (or its imsx status)."""
    return _answer_facts(body)


def _answer_facts(body: Any) -> dict[str, Any]:
    """What the judge needs from an answer, without keeping the answer."""
    if not isinstance(body, dict):
        return {}
    if "imsx_codeMajor" in body or ("statusInfoSet" in body and len(body) == 1):
        return _status_info(body)
    keys = [k for k in body if k != "statusInfoSet"]
    if len(keys) != 1:
        return {}
    envelope, content = keys[0], body[keys[0]]
    records = content if isinstance(content, list) else [content]
    ids = [r.get("sourcedId") for r in records if isinstance(r, dict)]
    # A 1.1 answer may carry a warning beside the data (an unknown sort or selection field).
    warning = _status_info(body) if "statusInfoSet" in body else {}
    return {"envelope": envelope, "ids": ids, "count": len(records), **warning}


class Recorder:
    """Pure ASGI middleware: every HTTP exchange goes to ``recording``; nothing is changed."""

    def __init__(self, app: ASGIApp, recording: Recording) -> None:
        self.app = app
        self.recording = recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = self.recording.now()
        # Let every request that has already arrived reach this point before any is answered,
        # so the in-flight count reflects the consumer's concurrency even though the handlers
        # themselves run without yielding.
        await asyncio.sleep(0)
        headers = _headers(scope)
        raw, more = await _read_body(receive)
        # Shared with a watcher further out (the inspector), which reads the same notes.
        notes: dict[str, Any] = scope.get(NOTES_KEY, {})
        scope = {**scope, NOTES_KEY: notes}
        status: int | None = None
        answer_headers: dict[str, str] = {}
        chunks: list[bytes] = []
        size = 0
        replay = replaying(receive, raw, more)

        async def capture(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    name = key.decode("latin-1").lower()
                    if name in KEPT_RESPONSE_HEADERS:
                        answer_headers[name] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_BODY:
                    chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay, capture)
        finally:
            self.recording.exchange(self._record(scope, headers, raw, start, status,
                                                 answer_headers, b"".join(chunks), notes))

    def _record(self, scope: Scope, headers: dict[str, str], raw: bytes, start: float,
                status: int | None, answer_headers: dict[str, str], answer: bytes,
                notes: dict[str, Any]) -> dict[str, Any]:
        auth, token = self._auth(headers, raw)
        record: dict[str, Any] = {
            "start": start, "end": self.recording.now(), "phase": self.recording.phase,
            "method": scope["method"], "path": scope["path"],
            "query": unquote(scope.get("query_string", b"").decode("latin-1")),
            "auth": auth, "token": token,
            "vendor_header": "x-vendor-authorization" in headers,
            "body": _request_body(raw, headers.get("content-type", "")),
            "status": status, "response_headers": answer_headers,
            "fault": notes.get("fault"),
        }
        if notes.get("withheld"):
            record["withheld"] = notes["withheld"]
        try:
            parsed = json.loads(answer) if answer else None
        except ValueError:
            parsed = None
        if auth == "oauth1":
            record["oauth1"] = _oauth1_facts(headers.get("authorization", ""))
        if isinstance(parsed, dict) and "access_token" in parsed:
            record["issued"] = self.recording.token_label(str(parsed["access_token"]))
            record["expires_in"] = parsed.get("expires_in")
        else:
            record.update(_answer_facts(parsed))
        return record

    def _auth(self, headers: dict[str, str], raw: bytes) -> tuple[str, str | None]:
        header = headers.get("authorization", "").strip()
        scheme, _, credentials = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and credentials.strip():
            return "bearer", self.recording.token_label(credentials.strip())
        if scheme in ("basic", "oauth"):
            return ("basic" if scheme == "basic" else "oauth1"), None
        if header:
            return "other", None
        if b"client_secret=" in raw:
            return "form", None
        return "none", None


async def read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body up to MAX_BODY, and whether more is still to be received."""
    return await _read_body(receive)


def replaying(receive: Receive, raw: bytes, more: bool, already: bool = False) -> Receive:
    """A ``receive`` for the app that first hands back the body a middleware read (``raw``,
    and ``more`` when the rest is still coming), then goes on with the real one; ``already``:
    nothing was read, pass straight through."""
    replayed = already

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": more}
        return await receive()

    return replay


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The request body up to MAX_BODY; ``more`` is True when it was longer and the rest is
    still to be received by the app."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts), False
        body = message.get("body", b"")
        parts.append(body)
        size += len(body)
        if not message.get("more_body", False):
            return b"".join(parts), False
        if size > MAX_BODY:
            return b"".join(parts), True
