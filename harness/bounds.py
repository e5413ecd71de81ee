"""How much of a provider's answer the checker reads, and for how long.

httpx's timeouts bound each socket operation, so an answer trickling in one byte a second
never times out, and ``response.read()`` keeps whatever arrives. Here, an ``answer_window``
gives the requests a thread makes a deadline for the whole answer (headers and body, every
byte counted against it), enforced by the transport of a ``bounded_client``; ``read_capped``
stops reading at a size limit and says whether it cut the body.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

# Headers about a body's wire form: a body rebuilt from the bytes already read (decoded,
# perhaps cut) must not be decoded or length-checked again.
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})

_window = threading.local()  # per thread: each request runs in the thread that sent it


@contextmanager
def answer_window(seconds: float | None, reason: str = "") -> Iterator[None]:
    """The requests of this thread, inside the block, must be answered whole within
    ``seconds`` (None: no limit beyond an enclosing window). Nested windows keep the earlier
    deadline. ``reason`` names the limit in a timeout's message (e.g. "--timeout 10")."""
    before = (getattr(_window, "deadline", None), getattr(_window, "reason", ""))
    if seconds is not None:
        deadline = time.monotonic() + max(0.0, seconds)
        if before[0] is None or deadline < before[0]:
            _window.deadline = deadline
            _window.reason = reason or f"{seconds:g} s"
    try:
        yield
    finally:
        _window.deadline, _window.reason = before


def _left(timeout: float | None, operation: str) -> float | None:
    """The socket timeout for one operation: the smaller of httpx's and the window's rest."""
    deadline = getattr(_window, "deadline", None)
    if deadline is None:
        return timeout
    rest = deadline - time.monotonic()
    if rest <= 0:
        raise _late(operation)
    return rest if timeout is None else min(timeout, rest)


def _late(operation: str) -> httpcore.TimeoutException:
    text = f"timed out: the answer did not arrive whole within {_window.reason}"
    return httpcore.ConnectTimeout(text) if operation == "connect" else \
        httpcore.WriteTimeout(text) if operation == "write" else httpcore.ReadTimeout(text)


def _in_window(timeout: float | None, operation: str, call: Any) -> Any:
    limit = _left(timeout, operation)
    try:
        return call(limit)
    except httpcore.TimeoutException:
        # The window, not httpx's own timeout, ran out: say so.
        if limit is not None and (timeout is None or limit < timeout):
            raise _late(operation) from None
        raise


class _WindowStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return _in_window(timeout, "read", lambda t: self._stream.read(max_bytes, t))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        _in_window(timeout, "write", lambda t: self._stream.write(buffer, t))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _WindowStream(_in_window(timeout, "connect", lambda t: self._stream.start_tls(
            ssl_context, server_hostname, t)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _WindowBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _WindowStream(_in_window(timeout, "connect", lambda t: self._backend.connect_tcp(
            host, port, t, local_address, socket_options)))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        return _WindowStream(_in_window(timeout, "connect", lambda t: (
            self._backend.connect_unix_socket(path, t, socket_options))))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def bounded_client(timeout: float, max_connections: int) -> httpx.Client:
    """An httpx client whose requests keep the ``answer_window`` they are sent in."""
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=max_connections))
    # httpx takes no network backend of its own: its connection pool's is wrapped (the pool is
    # httpcore's, whose backends are public API; only the attribute name is httpx's).
    pool = transport._pool
    pool._network_backend = _WindowBackend(pool._network_backend)
    return httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)


def read_capped(response: httpx.Response, limit: int) -> tuple[bytearray, bool]:
    """The body of a streamed response, read up to ``limit`` bytes; (body, whether it was cut).
    Never holds more than ``limit`` plus one chunk, and no second copy (decode it as it is)."""
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            del body[limit:]
            return body, True
    return body, False


def capped_response(response: httpx.Response, limit: int) -> tuple[httpx.Response, bool]:
    """A streamed response read up to ``limit`` bytes, as an ordinary (read) response with
    the bytes that were read; (it, whether the body was cut)."""
    body, cut = read_capped(response, limit)
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in WIRE_HEADERS]
    return httpx.Response(response.status_code, headers=headers, content=bytes(body),
                          request=response.request), cut


def remaining(deadline: float | None) -> float:
    """Seconds until a monotonic ``deadline`` (infinite when None), never negative."""
    return math.inf if deadline is None else max(0.0, deadline - time.monotonic())


__all__ = ["WIRE_HEADERS", "answer_window", "bounded_client", "capped_response",
           "read_capped", "remaining"]
