"""Serving benchmark: the mock on one uvicorn worker, loaded over loopback.

Measures requests per second for a users page at offset 0 and near the end against the same
server answering a precomputed static body of the same size (the stack's ceiling, measured in
the same run), p50/p99 latency of a two-clause filter and of an e-mail lookup, and the server's
resident memory. Every load loop is bounded in requests and seconds, and only 127.0.0.1 is used.

The walk rows are what a consumer's sync meets: several connections in parallel walk DISTINCT
pages of ``users`` with the page cache off (every request a new offset, nothing asked twice),
at limit 100 (as a share of the static ceiling measured by the same server) and at 1,000 and
10,000 (records per second). The server runs the middleware ``serve`` runs by default (the
inspector's watch and fault switch, then the credentials check); the static route sits behind
the same middleware.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parents[2]
V12 = "/ims/oneroster/rostering/v1p2"

_SERVER = """
import sys, uvicorn
from starlette.responses import Response
from starlette.routing import Route
from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.inspector import Inspector
from mock_provider.store import Store
district, port, size, cache = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# The middleware `serve` runs by default on one worker: the inspector (watching every
# exchange, its fault switch off), then the credentials check.
app = create_app(Store(district), [Connection(name="bench", client_id="bench",
                 client_secret="bench-secret", scopes=ALL_SCOPES_V12)],
                 Settings(page_cache=cache), inspector=Inspector())
static = b"x" * size
async def static_page(request):
    return Response(static, media_type="application/json")
app.router.routes.insert(0, Route("/bench/static", static_page))
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


# The client's read buffer: asyncio's default (64 KiB) pauses the socket every 128 KiB, and on
# 2 shared cores the client's pause/resume churn on a 10 MB page would be measured as the
# server's time. Both the static ceiling and the walks read through the same buffer.
READ_BUFFER = 32 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _walk(port: int, headers: str, offsets: Iterator[int], limit: int, total: int,
                connections: int, seconds: float, max_requests: int) -> dict:
    """Pages of users at the next unused offset from ``offsets``, one request at a time on each
    of ``connections`` connections, until ``seconds``, ``max_requests`` or the offsets run out."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    records = 0

    async def worker() -> None:
        nonlocal records
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_BUFFER)
        try:
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                offset = next(offsets, None)
                if offset is None:
                    return
                path = f"{V12}/users?limit={limit}&offset={offset}"
                started = time.perf_counter()
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n"
                             .encode())
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"{path} answered {head[:40]!r}")
                length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                records += min(limit, total - offset)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {"limit": limit, "requests": len(latencies), "rps": round(len(latencies) / elapsed),
            "records_per_second": round(records / elapsed),
            "p50_ms": round(statistics.median(latencies) * 1000, 2)}


def distinct_offsets(limit: int, total: int, backwards: bool = False) -> Iterator[int]:
    """Whole walks of a collection of ``total`` records, each shifted by one more record than
    the last (0, limit, 2*limit, ..., then 1, limit+1, ...): every offset new, every page as
    full as a sync's. ``backwards`` starts from the last shift (for a warm-up that leaves the
    measured walk's offsets unused)."""
    shifts = range(limit - 1, -1, -1) if backwards else range(limit)
    for shift in shifts:
        yield from range(shift, total, limit)


WALK_LIMITS = (100, 1_000, 10_000)


def _walks(port: int, headers: str, total: int, connections: int, seconds: float) -> dict:
    results = {}
    for limit in WALK_LIMITS:
        # Warm-up and measurement draw from opposite ends, so no offset is asked twice.
        warm = distinct_offsets(limit, total, backwards=True)
        asyncio.run(_walk(port, headers, warm, limit, total, connections, 1.0, 200))
        results[f"walk_{limit}"] = asyncio.run(_walk(
            port, headers, distinct_offsets(limit, total), limit, total, connections, seconds,
            100_000))
    return results


async def _load(port: int, path: str, headers: str, connections: int, seconds: float,
                max_requests: int) -> dict:
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n").encode()
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=READ_BUFFER)
        try:
            while time.perf_counter() < deadline and len(latencies) < max_requests:
                started = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "rps": round(len(latencies) / elapsed),
            "p50_ms": round(statistics.median(latencies) * 1000, 2)}


def _latencies(client: httpx.Client, url: str, rounds: int) -> dict:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
    samples.sort()
    return {"p50_ms": round(samples[len(samples) // 2] * 1000, 2),
            "p99_ms": round(samples[min(len(samples) - 1, int(len(samples) * 0.99))] * 1000, 2)}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def bench_serving(district: Path, seconds: float = 5.0, connections: int = 8) -> dict:
    port = _free_port()
    page_path = f"{V12}/users?limit=100&offset=0"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def start(body_size: int, cache: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", _SERVER, str(district), str(port),
                                 str(body_size), str(cache)], env=env)

    def stop(server: subprocess.Popen) -> None:
        server.terminate()
        server.wait(timeout=10)

    def load(path: str, header: str) -> dict:
        asyncio.run(_load(port, path, header, connections, 1.0, 2_000))  # warm up
        return asyncio.run(_load(port, path, header, connections, seconds, 200_000))

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        # Size the static body like a real page first, with the server started once for that.
        server = start(1, 0)
        try:
            token = _token(client)
            first = client.get(page_path, headers={"Authorization": f"Bearer {token}"})
            body_size = len(first.content)
            total = int(first.headers["X-Total-Count"])
        finally:
            stop(server)
        # The page cache off: every request renders its page from the store, what a
        # consumer's sync meets (it never asks for a page twice).
        server = start(body_size, 0)
        try:
            header = f"Authorization: Bearer {_token(client)}\r\n"
            uncached_static = load("/bench/static", header)
            uncached = load(page_path, header)
            walks = _walks(port, header, total, connections, seconds)
        finally:
            stop(server)
        server = start(body_size, 256)
        try:
            token = _token(client)
            auth = {"Authorization": f"Bearer {token}"}
            client.headers.update(auth)
            deep_path = f"{V12}/users?limit=100&offset={max(total - 100, 0)}"
            header = f"Authorization: Bearer {token}\r\n"
            results: dict = {"page_bytes": body_size, "users_total": total,
                             "static_cache_off_run": uncached_static,
                             "first_page_uncached": uncached, **walks}
            for name, path in (("static", "/bench/static"), ("first_page", page_path),
                               ("deep_page", deep_path)):
                results[name] = load(path, header)
            users = client.get(f"{V12}/users", params={"limit": 1000, "offset": total // 2})
            sample = users.json()["users"][0]
            two_clause = quote(f"familyName='{sample['familyName']}' AND status='active'")
            results["filter_two_clause"] = _latencies(
                client, f"{V12}/users?filter={two_clause}", 200)
            lookup = quote(f"email='{sample['email']}'")
            results["email_lookup"] = _latencies(client, f"{V12}/users?filter={lookup}", 300)
            results["server_rss_mb"] = _rss_mb(server.pid)
        finally:
            stop(server)
    ceiling = results["static"]["rps"]
    results["first_page_share_of_ceiling"] = round(results["first_page"]["rps"] / ceiling, 3)
    # The cache-off rows against the ceiling the same server measured.
    off_ceiling = uncached_static["rps"]
    results["uncached_share_of_ceiling"] = round(uncached["rps"] / off_ceiling, 3)
    results["walk_100_share_of_ceiling"] = round(walks["walk_100"]["rps"] / off_ceiling, 3)
    results["deep_vs_first"] = round(results["first_page"]["rps"] / results["deep_page"]["rps"], 3)
    return results


def _token(client: httpx.Client) -> str:
    for _ in range(200):
        try:
            response = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                                   auth=("bench", "bench-secret"))
            return response.json()["access_token"]
        except httpx.ConnectError:
            time.sleep(0.05)
    raise RuntimeError("the benchmark server did not start")


if __name__ == "__main__":
    print(json.dumps(bench_serving(Path(sys.argv[1])), indent=2))
