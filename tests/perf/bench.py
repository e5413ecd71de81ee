"""Benchmark: district generation and reopening (not a test; targets are reported, not asserted).

    python tests/perf/bench.py [--sizes medium,large] [--xl] [--out reports/bench.json]

Each build runs in a fresh subprocess so peak memory is measured per build: the parent's peak
RSS and the largest worker's peak RSS (workers are forked per build). Targets from the
foundation issue on a 2-core machine: large <= 15 s, xl <= 150 s with peak RSS <= 2 GB,
reopening a cached district < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
TARGET_SECONDS = {"large": 15.0, "xl": 150.0}
TARGET_RSS_MB = {"xl": 2048.0}

_BUILD = """
import json, resource, sys, time
from mock_provider.district import DistrictSpec, SIZES, build_district
size, path = sys.argv[1], sys.argv[2]
started = time.perf_counter()
result = build_district(DistrictSpec(seed=42, students=SIZES[size], size=size), path)
seconds = time.perf_counter() - started
print(json.dumps({
    "seconds": seconds,
    "records": sum(result.counts.values()),
    "counts": result.counts,
    "parent_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""

_REOPEN = """
import json, sys, time
started = time.perf_counter()
from mock_provider.district import DistrictSpec, SIZES, ensure_district
from mock_provider.store import Store
size, path = sys.argv[1], sys.argv[2]
result = ensure_district(DistrictSpec(seed=42, students=SIZES[size], size=size), path)
store = Store(path)
first = store.conn.execute("SELECT json12 FROM users ORDER BY seq LIMIT 100").fetchall()
print(json.dumps({"seconds": time.perf_counter() - started, "reused": result.reused,
                  "first_page": len(first)}))
"""


def _run(script: str, *args: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script, *args], env=env, check=True,
                         capture_output=True, text=True, timeout=1800)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_size(size: str, workdir: Path) -> dict:
    path = workdir / f"{size}.sqlite"
    build = _run(_BUILD, size, str(path))
    reopen = _run(_REOPEN, size, str(path))
    row = {
        "size": size,
        "generate_seconds": round(build["seconds"], 2),
        "records": build["records"],
        "records_per_second": round(build["records"] / build["seconds"]),
        "parent_peak_rss_mb": round(build["parent_rss_mb"]),
        "worker_peak_rss_mb": round(build["worker_rss_mb"]),
        "file_mb": round(path.stat().st_size / 1e6),
        "reopen_seconds": round(reopen["seconds"], 3),
        "target_seconds": TARGET_SECONDS.get(size),
        "target_rss_mb": TARGET_RSS_MB.get(size),
    }
    path.unlink()
    return row


def serve_size(size: str, workdir: Path) -> dict:
    from serve_bench import bench_serving

    path = workdir / f"serve-{size}.sqlite"
    _run(_BUILD, size, str(path))
    result = bench_serving(path)
    result["size"] = size
    result["targets"] = {"first_page_share_of_ceiling": ">= 0.5", "deep_vs_first": "<= 1.5",
                         "filter_two_clause_p50_ms": "<= 20", "email_lookup_p50_ms": "<= 5",
                         "server_rss_mb": "<= 500"}
    return result


def serving_table(r: dict) -> Table:
    table = Table(title=f"Serving {r['size']} on one worker over loopback")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("static body req/s (ceiling)", r["static"]["rps"], "-"),
        ("users page, offset 0, req/s", r["first_page"]["rps"], ">= 50% of ceiling"),
        ("share of ceiling", r["first_page_share_of_ceiling"], ">= 0.5"),
        ("users page near the end, req/s", r["deep_page"]["rps"], "-"),
        ("first / deep throughput", r["deep_vs_first"], "<= 1.5"),
        ("two-clause filter p50 / p99 ms",
         f"{r['filter_two_clause']['p50_ms']} / {r['filter_two_clause']['p99_ms']}", "p50 <= 20"),
        ("e-mail lookup p50 / p99 ms",
         f"{r['email_lookup']['p50_ms']} / {r['email_lookup']['p99_ms']}", "p50 <= 5"),
        ("server RSS MB", r["server_rss_mb"], "<= 500"),
    ]
    for name, value, target in rows:
        table.add_row(name, str(value), target)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="medium,large")
    parser.add_argument("--xl", action="store_true", help="also build the 1,000,000-student xl")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench.json"))
    parser.add_argument("--serve", default=None, metavar="SIZE",
                        help="also benchmark serving a district of SIZE (e.g. large)")
    args = parser.parse_args()
    sizes = [s for s in args.sizes.split(",") if s] + (["xl"] if args.xl else [])
    console = Console(width=150)
    rows = []
    serving = None
    with tempfile.TemporaryDirectory(prefix="bench-", dir=ROOT / "reports") as tmp:
        for size in sizes:
            console.print(f"building {size} ...")
            rows.append(bench_size(size, Path(tmp)))
        if args.serve:
            console.print(f"serving {args.serve} ...")
            serving = serve_size(args.serve, Path(tmp))
    table = Table(title="District generation (seed 42)")
    for column in ("size", "generate s", "target s", "records", "records/s", "parent RSS MB",
                   "worker RSS MB", "file MB", "reopen s"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(r["size"], f"{r['generate_seconds']:.2f}", str(r["target_seconds"] or "-"),
                      f"{r['records']:,}", f"{r['records_per_second']:,}",
                      str(r["parent_peak_rss_mb"]), str(r["worker_peak_rss_mb"]),
                      str(r["file_mb"]), f"{r['reopen_seconds']:.3f}")
    if rows:
        console.print(table)
    if serving:
        console.print(serving_table(serving))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(out.read_text()) if out.exists() else {}
    if rows:
        existing["generation"] = {"cpu_count": os.cpu_count(), "rows": rows,
                                  "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                               time.gmtime())}
    if serving:
        existing["serving"] = serving
    out.write_text(json.dumps(existing, indent=2) + "\n")
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
