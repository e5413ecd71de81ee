"""The checker stays bounded against providers built to break it: an answer that never ends
(at full speed, or trickling in a byte a second) and a token answer that never ends. Each is
the real mock behind a broken front (tests/broken_providers.py) on uvicorn, and the checker
runs as a user runs it, in a process of its own, so its peak memory can be measured. A bare
socket server, last, sends a status line a byte at a time: headers count against the answer's
deadline too."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import Endless
from .conftest import make_district
from .live_server import live_server

CONNECTION = Connection(name="h", client_id="h", client_secret="h-secret",
                        scopes=ALL_SCOPES_V12)
MAX_RSS_MB = 300
# What a run may take beyond its --max-seconds: starting Python and writing the reports.
GRACE = 8.0
KILL_AFTER = 90.0  # a checker that ignores its limits is killed here, and the test fails
# Runs the checker and writes its peak RSS (kB) to a file. A child's peak counts the memory of
# the process it was forked from, so the checker is forked from this small launcher, never
# from the test process (hundreds of MB late in a whole suite).
LAUNCHER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage("
            "resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(code)")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def _check(url: str, out: Path, *options: str) -> Run:
    """``check provider`` against ``url`` in a process of its own: its exit code, output, wall
    time and peak RSS."""
    argv = [sys.executable, "-m", "harness", "check", "provider", "--base-url", url,
            "--token-url", f"{url}/oauth2/token", "--client-id", "h", "--client-secret",
            "h-secret", "--report-dir", str(out / "reports"), *options]
    env = {**os.environ, "CI": "true", "COLUMNS": "160"}
    peak = out / "peak-kb"
    with open(out / "stdout", "w+b") as stdout, open(out / "stderr", "w+b") as stderr:
        began = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", LAUNCHER, str(peak), *argv],
                                 stdout=stdout, stderr=stderr, env=env, start_new_session=True)
        try:
            code = child.wait(timeout=KILL_AFTER)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)  # the launcher and the checker it started
            code = child.wait()
        seconds = time.monotonic() - began
        stdout.seek(0)
        stderr.seek(0)
        return Run(code, stdout.read().decode(errors="replace"),
                   stderr.read().decode(errors="replace"), seconds,
                   int(peak.read_text()) / 1024 if peak.exists() else float("inf"))


@pytest.fixture(scope="module")
def store(districts_dir: Path):
    with Store(make_district(districts_dir, 42, 60)) as opened:
        yield opened


def test_an_endless_answer_at_full_speed_keeps_memory_and_time_bounded(
        store: Store, tmp_path: Path) -> None:
    provider = Endless(create_app(store, [CONNECTION]), "oneroster")
    with live_server(provider) as url:
        run = _check(url, tmp_path, "--max-seconds", "8")
    assert run.peak_mb < MAX_RSS_MB, f"peak RSS {run.peak_mb:.0f} MB"
    assert run.seconds < 8 + GRACE, run.stderr[-2_000:]
    assert run.code == 1, run.stderr[-2_000:]
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    by_id = {r["id"]: r for r in results["results"]}
    # The run phase still reports what the run met, after the time ran out.
    assert by_id["OR-SIZE-001"]["status"] == "failed"
    assert "cut at 64 MB" in by_id["OR-SIZE-001"]["message"]
    assert any("time limit of 8 s" in r["message"] for r in results["results"])
    assert provider.answers >= 2
    excerpts = [e["excerpt"] for r in results["results"] for e in r["evidence"]]
    assert excerpts and max(map(len, excerpts)) <= 4_096
    assert (tmp_path / "reports" / "results.json").stat().st_size < 5_000_000


def test_an_endless_token_answer_is_one_line_and_exit_2(store: Store, tmp_path: Path) -> None:
    provider = Endless(create_app(store, [CONNECTION]), "token")
    with live_server(provider) as url:
        run = _check(url, tmp_path, "--max-seconds", "20")
    assert run.code == 2, run.stderr[-2_000:]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr[-2_000:]
    assert "Traceback" not in run.stderr and "MemoryError" not in run.stderr
    assert "the token URL" in lines[0] and "no token answer" in lines[0]
    assert "h-secret" not in run.stderr
    assert run.peak_mb < MAX_RSS_MB and run.seconds < 20


def test_an_answer_trickling_in_a_byte_a_second_cannot_hold_the_run(
        store: Store, tmp_path: Path) -> None:
    provider = Endless(create_app(store, [CONNECTION]), "oneroster", chunk=b" ", pause=1.0)
    with live_server(provider) as url:
        run = _check(url, tmp_path, "--max-seconds", "6", "--timeout", "3")
    assert run.seconds < 6 + GRACE, run.stderr[-2_000:]
    assert run.code == 1, run.stderr[-2_000:]
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    by_id = {r["id"]: r for r in results["results"]}
    assert by_id["OR-ERR-003"]["status"] == "failed"  # the timeouts, reported at the end
    assert "did not arrive whole within 3 s" in by_id["OR-ERR-003"]["message"]


def _trickle_status_line(server: socket.socket, stop: threading.Event) -> None:
    """Answers one connection with a status line sent a byte at a time, 0.2 s apart (at most
    the 60 bytes of it and its headers; a test's server must end)."""
    connection, _ = server.accept()
    with connection:
        connection.recv(65_536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}":
            if stop.wait(0.2):
                return
            try:
                connection.sendall(bytes([byte]))
            except OSError:  # the checker hung up: done
                return


def test_headers_trickling_in_count_against_the_answer_deadline() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        stop = threading.Event()
        serving = threading.Thread(target=_trickle_status_line, args=(server, stop))
        serving.start()
        try:
            with Target(url, "", "", "a-static-token", auth="bearer", timeout=1) as target:
                began = time.monotonic()
                exchange = target.get("/orgs")
                took = time.monotonic() - began
        finally:
            stop.set()
            serving.join(5)
    assert exchange.status is None
    assert "did not arrive whole within 1 s" in exchange.text
    assert took < 2.5
