"""Grade-book writes stay consistent when several server processes share the district file."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import httpx

from .live_server import free_port

G12 = "/ims/oneroster/gradebook/v1p2"


def _wait_for(url: str) -> str:
    for _ in range(300):
        try:
            response = httpx.post(f"{url}/oauth2/token", auth=("a", "b"),
                                  data={"grant_type": "client_credentials"})
            return response.json()["access_token"]
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError("the server did not start")


def test_parallel_puts_through_two_workers_leave_one_record_per_id(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "harness", "serve", "--port", str(port), "--size", "tiny",
               "--workers", "2", "--client-id", "a", "--client-secret", "b"]
    env = {**os.environ, "CI": "true", "COLUMNS": "200"}
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            banner = "".join(server.stdout.readline() for _ in range(2))
            path = tmp_path / re.search(r"district file: (\S+)", banner).group(1)
            token = _wait_for(url)
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                line_item, klass = conn.execute(
                    "SELECT sourcedId, class_id FROM lineItems LIMIT 1").fetchone()
                student = conn.execute("SELECT user_id FROM enrollments WHERE class_id = ? "
                                       "AND role = 'student'", (klass,)).fetchone()[0]

            def ref(service: str, collection: str, sid: str, kind: str) -> dict:
                href = f"{url}/ims/oneroster/{service}/v1p2/{collection}/{sid}"
                return {"href": href, "sourcedId": sid, "type": kind}

            def put(n: int) -> tuple[str, int]:
                sid = f"mw-{n % 4}"
                body = {"result": {
                    "sourcedId": sid, "status": "active",
                    "dateLastModified": "2026-01-01T00:00:00Z",
                    "lineItem": ref("gradebook", "lineItems", line_item, "lineItem"),
                    "student": ref("rostering", "users", student, "user"),
                    "class": ref("rostering", "classes", klass, "class"),
                    "scoreStatus": "fully graded", "score": float(n), "scoreDate": "2026-09-12"}}
                response = httpx.put(f"{url}{G12}/results/{sid}", json=body, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
                return sid, response.status_code

            with ThreadPoolExecutor(max_workers=8) as pool:
                outcomes = list(pool.map(put, range(40)))
            assert {code for _, code in outcomes} <= {200, 201}
            created = Counter(sid for sid, code in outcomes if code == 201)
            assert created == {f"mw-{i}": 1 for i in range(4)}
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                rows = conn.execute("SELECT sourcedId, count(*) FROM results WHERE sourcedId "
                                    "LIKE 'mw-%' GROUP BY sourcedId").fetchall()
            assert sorted(rows) == [(f"mw-{i}", 1) for i in range(4)]
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
