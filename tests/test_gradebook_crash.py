"""Crash durability of grade-book writes: the real mock runs as a subprocess, the test streams
PUTs of results and line items from a few threads, SIGKILLs the server at a seeded moment while
requests are in flight, restarts it on the same district file and checks that every write it
acknowledged (200/201) is there exactly as sent, that a write in flight at the kill is either
all there or not at all, and that the file passes ``PRAGMA integrity_check``.

Loopback only; every loop is bounded in count and time, and the servers are always killed."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from mock_provider.district import DistrictSpec, build_district
from mock_provider.record_forms import doc_sql

from .live_server import free_port
from .test_gradebook_writes import G12, Env, _pick_ids

SEED = 20261123
MAX_WRITES = 300
STREAM_SECONDS = 10.0
THREADS = 4
STATUSES = ("fully graded", "partially graded", "submitted", "not submitted")
ROOT = Path(__file__).resolve().parent.parent

SERVER = """
import sys
import uvicorn
from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store
lms = Connection(name="lms", client_id="lms", client_secret="lms-secret", scopes=ALL_SCOPES_V12)
app = create_app(Store(sys.argv[1]), [lms], Settings())
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            access_log=False)
"""


@contextmanager
def _server(path: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """The mock on ``path`` in a subprocess; yields (process, base URL); always killed."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(path), str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 15
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(f"{url}/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stderr is not None:
            proc.stderr.close()


def _token(url: str) -> str:
    response = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=("lms", "lms-secret"), timeout=10)
    return response.json()["access_token"]


def _write(env: Env, n: int) -> tuple[str, str, dict]:
    """Write number n: (table, sourcedId, record); every fifth is a line item."""
    if n % 5 == 0:
        sid = f"crash-li-{n}"
        return "lineItems", sid, env.line_item(sid, title=f"Crash item {n}")
    sid = f"crash-r-{n}"
    return "results", sid, env.result(sid, "crash-base", score=n / 4,
                                      scoreStatus=STATUSES[n % len(STATUSES)])


def _ref(stored: dict, name: str) -> str:
    """The sourcedId of a compact stored reference (``{"@x": sid}``)."""
    return next(iter(stored[name].values()))


@pytest.fixture()
def district(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    conn = sqlite3.connect(path)
    try:
        ids = _pick_ids(conn)
    finally:
        conn.close()
    return path, ids


def test_acknowledged_writes_survive_sigkill(district: tuple[Path, dict[str, str]]) -> None:
    path, ids = district
    rng = random.Random(SEED)
    kill_after = rng.randint(40, 200)  # acknowledged writes before the kill
    acked: dict[int, int] = {}  # write number -> status
    started: set[int] = set()
    lock = threading.Lock()
    killed = threading.Event()
    counter = iter(range(MAX_WRITES))

    with _server(path) as (proc, url):
        first_url = url
        env = Env(url, None, None, path, None, ids)  # type: ignore[arg-type]
        headers = {"Authorization": f"Bearer {_token(url)}"}
        base = env.line_item("crash-base", title="Crash base")
        assert httpx.put(f"{url}{G12}/lineItems/crash-base", json={"lineItem": base},
                         headers=headers, timeout=10).status_code == 201
        stop_at = time.monotonic() + STREAM_SECONDS

        def kill() -> None:
            with lock:
                if killed.is_set():
                    return
                killed.set()
            os.kill(proc.pid, signal.SIGKILL)

        def stream() -> None:
            with httpx.Client(base_url=url, headers=headers, timeout=5) as client:
                while not killed.is_set() and time.monotonic() < stop_at:
                    with lock:
                        n = next(counter, None)
                        if n is None:
                            return
                        started.add(n)
                    table, sid, record = _write(env, n)
                    try:
                        response = client.put(f"{G12}/{table}/{sid}",
                                              json={table[:-1]: record})
                    except httpx.TransportError:
                        return
                    if response.status_code in (200, 201):
                        with lock:
                            acked[n] = response.status_code
                            due = len(acked) >= kill_after
                        if due:
                            threading.Thread(target=kill, daemon=True).start()
                    else:
                        raise AssertionError(response.text)

        threads = [threading.Thread(target=stream, daemon=True) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=STREAM_SECONDS + 10)
        kill()  # bounded: when the stream ended first (it should not), kill now
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL

    assert not any(t.is_alive() for t in threads)
    assert len(acked) >= kill_after, (len(acked), kill_after)
    assert acked.keys() <= started
    in_flight = started - acked.keys()

    with _server(path) as (_, url):
        headers = {"Authorization": f"Bearer {_token(url)}"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
            present_in_flight = 0
            for n in sorted(started):
                table, sid, record = _write(env, n)
                response = client.get(f"{G12}/{table}/{sid}")
                if n in in_flight and response.status_code == 404:
                    continue
                assert response.status_code == 200, (n, response.text)
                # The restarted server has another port: hrefs are compared as first served.
                got = json.loads(response.text.replace(url, first_url))[table[:-1]]
                present_in_flight += n in in_flight
                if table == "results":
                    assert (got["score"], got["scoreStatus"]) == (record["score"],
                                                                  record["scoreStatus"]), n
                else:
                    assert got["title"] == record["title"], n
                assert got == {**record, "dateLastModified": got["dateLastModified"]}, n

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT sourcedId, lineItem_id, student_id, class_id, scoreStatus, "
                            f"scoreDate, {doc_sql('results', '1.2')} FROM results "
                            "WHERE sourcedId LIKE 'crash-r-%'")
        stored = 0
        for sid, line_item, student, klass, status, date, text in rows:
            stored += 1
            obj = json.loads(text)
            assert (line_item, student, klass) == tuple(
                _ref(obj, name) for name in ("lineItem", "student", "class")), sid
            assert (status, date) == (obj["scoreStatus"], obj["scoreDate"]), sid
            n = int(sid.removeprefix("crash-r-"))
            assert obj["score"] == n / 4 and status == STATUSES[n % len(STATUSES)], sid
        items = conn.execute("SELECT sourcedId, title, class_id, dueDate, "
                             f"{doc_sql('lineItems', '1.2')} FROM lineItems "
                             "WHERE sourcedId LIKE 'crash-li-%'").fetchall()
        for sid, title, klass, due, text in items:
            obj = json.loads(text)
            assert (title, klass, due) == (obj["title"], _ref(obj, "class"), obj["dueDate"]), sid
        acked_results = sum(1 for n in acked if n % 5)
        assert acked_results <= stored <= acked_results + len(in_flight)
    finally:
        conn.close()
    print(f"acknowledged {len(acked)}, in flight {len(in_flight)} "
          f"(present after restart {present_in_flight})")
