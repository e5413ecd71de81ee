"""The mock district for ``load --mock``, with one connection per vendor (each its own client
id, secret and tokens, as a district hands each vendor its own): served inside the command on
one uvicorn thread, or by ``serve --workers N`` in its own processes when the profile asks for
several. Runs in the command line's process, never in the load process (no gevent here)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.consumer.session import served_roster
from harness.embedded import free_port, serve_in_thread
from mock_provider.app import Settings, create_app
from mock_provider.connections import Connection, allowed_scopes
from mock_provider.store import Store

from .profile import FULL_SYNC_COLLECTIONS, Night

START_SECONDS = 120.0  # how long ``serve --workers`` may take to answer (it may build nothing)


@dataclass(frozen=True)
class MockDistrict:
    base_url: str
    token_url: str
    credentials: dict[str, list[tuple[str, str]]]
    served: dict[str, int]  # records of each core collection the district serves


def served_counts(store: Store, connection: Connection, version: str) -> dict[str, int]:
    """What a full sync must read, asked of a quiet instance of the mock before the night."""
    roster = served_roster(store, connection, Settings(), version)
    return {name: len(records) for name, records in roster.items()
            if name in FULL_SYNC_COLLECTIONS}


def connections_for(night: Night) -> list[Connection]:
    """One full-access connection per vendor, named after it (``full-sync-1`` ...)."""
    return [Connection(name=f"{v.kind}-{n}", client_id=f"{v.kind}-{n}",
                       client_secret=secrets.token_urlsafe(18), scopes=allowed_scopes("any"))
            for v in night.vendors for n in range(1, v.count + 1)]


def _pairs(connections: list[Connection]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for c in connections:
        found.setdefault(c.name.rsplit("-", 1)[0], []).append((c.client_id, c.client_secret))
    return found


def _config_text(connections: list[Connection]) -> str:
    return "".join(f'[[connection]]\nname = "{c.name}"\nclient_id = "{c.client_id}"\n'
                   f'client_secret = "{c.client_secret}"\n\n' for c in connections)


def _wait_until_up(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            last = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"serve --workers exited ({process.returncode}): {last[0]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"serve --workers did not answer within {START_SECONDS:g} s")


@contextmanager
def mock_district(night: Night, district: Path, workers: int = 1,
                  district_flags: tuple[str, ...] = (), version: str = "1.2",
                  log: Path | None = None) -> Iterator[MockDistrict]:
    """The district served with a connection per vendor of ``night``; ``district_flags``
    name the same district again for ``serve`` (it reuses the file), whose output goes to
    ``log`` (a worker that dies under the load says so there)."""
    connections = connections_for(night)
    store = Store(district)
    try:
        served = served_counts(store, connections[0], version)
        if workers == 1:
            with serve_in_thread(create_app(store, connections)) as url:
                yield MockDistrict(url, f"{url}/oauth2/token", _pairs(connections), served)
            return
    finally:
        store.close()
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="load-mock-") as tmp:
        config = Path(tmp) / "connections.toml"
        log = log or Path(tmp) / "serve.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(_config_text(connections), encoding="utf-8")
        config.chmod(0o600)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "harness", "serve", "--host", "127.0.0.1", "--port",
                 str(port), "--workers", str(workers), "--config", str(config),
                 *district_flags], stdout=out, stderr=subprocess.STDOUT)
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_until_up(process, f"{url}/ims/oneroster/rostering/v1p2/orgs", log)
                yield MockDistrict(url, f"{url}/oauth2/token", _pairs(connections), served)
            finally:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


__all__ = ["MockDistrict", "connections_for", "mock_district"]
