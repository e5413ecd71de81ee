"""The mock district served in a background thread on a free loopback port, for
`check provider --mock` and the pytest fixtures."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from mock_provider.app import create_app
from mock_provider.connections import default_connection
from mock_provider.store import Store


@dataclass(frozen=True)
class RunningMock:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve_in_thread(app: object, timeout: float = 10.0, port: int | None = None
                    ) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (on ``port``, or a free one); yields its
    base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False,
                                           # an open inspector page's event stream must
                                           # not hold the shutdown up
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the embedded server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=timeout)


@contextmanager
def running_mock(district: Path) -> Iterator[RunningMock]:
    """The district file served by the mock with a fresh full-access connection."""
    connection = default_connection("harness", secrets.token_urlsafe(16))
    store = Store(district)
    try:
        with serve_in_thread(create_app(store, [connection])) as url:
            yield RunningMock(url, f"{url}/oauth2/token", connection.client_id,
                              connection.client_secret)
    finally:
        store.close()
