"""Request bodies, read one way by every route that takes one.

* ``read_body`` stops at a byte limit WHILE reading (a declared ``Content-Length`` over the
  limit is refused before the first byte), so an oversized body never sits in memory; a client
  that hangs up mid-body costs one log line, not a traceback.
* ``loads_strict`` parses JSON as the RFC means it: no ``NaN``/``Infinity``, no number that only
  fits as infinity (``1e999``), no lone surrogate in a string (``"\\ud800"`` is not text and
  cannot be stored or served as UTF-8), and no nesting deeper than ``MAX_DEPTH`` (measured
  before parsing, so a thousand ``[`` never reach the recursive parser).
* ``require_json`` refuses a body declared as something other than JSON (415); a body without
  a ``Content-Type`` is read as JSON.

Every refusal is a ``BodyError`` (status and message); the app answers it with the OneRoster
status payload, and the token endpoint with its RFC 6749 error.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

log = logging.getLogger("mock_provider.bodies")

# Deeper than any OneRoster record needs (envelope > array > record > metadata ...), far below
# the parser's recursion limit.
MAX_DEPTH = 64
# Strings and brackets in one pass: brackets inside strings do not count towards the depth.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.S)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]{1,30}")
JSON_MEDIA = "application/json"


class BodyError(Exception):
    """A request body the server refuses: the HTTP status (400, 413, 415) and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def too_large(limit: int) -> BodyError:
    return BodyError(413, f"the request body is larger than {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; BodyError 413 as soon as it is longer."""
    declared = request.headers.get("content-length", "")
    # fullmatch, not isdigit: a latin-1 header may hold "²", which isdigit accepts and int refuses
    if _DIGITS.fullmatch(declared) and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        # Nobody is left to answer; the one line says what happened.
        # (%r: a path with an encoded line break still logs one line)
        log.warning("client hung up during the body of %s %r after %d bytes",
                    request.method, request.url.path, size)
        raise BodyError(400, "the client closed the connection before the body ended") from None
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def require_json(request: Request) -> None:
    """BodyError 415 unless the body is declared as JSON (or not declared at all)."""
    media = media_type(request)
    if media and media != JSON_MEDIA and not media.endswith("+json"):
        raise BodyError(415, f"the request body must be {JSON_MEDIA}, not {media[:80]}")


def _depth(text: str) -> int:
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        elif token in "]}":
            depth -= 1
    return deepest


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _out_of_range(text: str) -> ValueError:
    shown = text if len(text) <= 40 else text[:40] + "..."
    return ValueError(f"the number {shown} is out of range (no finite double holds it)")


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _out_of_range(text)
    return value


def _int(text: str) -> int:
    value = int(text)
    try:
        float(value)
    except OverflowError:
        raise _out_of_range(text) from None
    return value


def _lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_lone_surrogate(k) or _lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(v) for v in value)
    return False


def loads_strict(raw: bytes | str) -> Any:
    """The JSON value of ``raw``; BodyError 400 naming what is wrong otherwise."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BodyError(400, f"the request body is not UTF-8 ({exc.reason} at byte "
                             f"{exc.start})") from None
    if _depth(text) > MAX_DEPTH:
        raise BodyError(400, f"the request body nests arrays and objects deeper than "
                             f"{MAX_DEPTH} levels")
    try:
        value = json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)
    except ValueError as exc:
        raise BodyError(400, f"the request body is not JSON ({exc})") from None
    except RecursionError:  # unreachable past the depth check; kept as a last guard
        raise BodyError(400, "the request body nests too deeply") from None
    # A lone surrogate can only come from a \u escape (UTF-8 decoding refuses raw ones).
    if _SURROGATE_ESCAPE.search(text) and _lone_surrogate(value):
        raise BodyError(400, "the request body holds a lone UTF-16 surrogate (\\ud800-\\udfff "
                             "without its pair), which is not text")
    return value


__all__ = ["JSON_MEDIA", "MAX_DEPTH", "BodyError", "loads_strict", "media_type", "read_body",
           "require_json", "too_large"]
