"""Benchmark: district generation and reopening (not a test; targets are reported, not asserted).

    python tests/perf/bench.py [--sizes medium,large] [--xl] [--out reports/bench.json]
    python tests/perf/bench.py --sizes "" --check medium,large     # the provider checker
    python tests/perf/bench.py --sizes "" --consumer small         # consumer scenarios
    python tests/perf/bench.py --sizes "" --load medium            # a sync night (Locust)

Each build runs in a fresh subprocess so peak memory is measured per build: the parent's peak
RSS and the largest worker's peak RSS (workers are forked per build). Targets from the
foundation issue on a 2-core machine: large <= 15 s, xl <= 150 s with peak RSS <= 2 GB,
reopening a cached district < 1 s; from issue 14, the file of large <= 1 GB and of xl <= 10 GB.
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
# Issue 14: a state-sized district must fit a hosted CI runner's free disk (about 14 GB).
TARGET_FILE_MB = {"large": 1000, "xl": 10000}
# The checker issue: every check against the embedded mock of that size, over loopback.
TARGET_CHECK_SECONDS = {"medium": 60.0, "large": 180.0}
# Distinct-page walks of medium's users on main's code before the serving work of issue 14
# (records/s, one worker, 8 connections, page cache off): the median of three runs alternated
# with this code's on the same 2 shared cores (load average 1.5-2.4), 2026-12-04. The target
# is twice this.
WALK_BEFORE = {1000: 166_723, 10000: 139_743}

_CHECK = """
import json, sys, time
from pathlib import Path
from harness.embedded import running_mock
from harness.runner import run_checks, select
from harness.target import Target
path = Path(sys.argv[1])
started = time.perf_counter()
with running_mock(path) as mock:
    target = Target(mock.base_url, mock.token_url, mock.client_id, mock.client_secret)
    summary = run_checks(target, select(None, "spec,campus"))
    requests = target.requests
    target.close()
counts = summary.counts()
print(json.dumps({"seconds": time.perf_counter() - started, "requests": requests,
                  "counts": counts, "failed": [r.id for r in summary.failed]}))
"""

_CONSUMER = """
import json, os, subprocess, sys, time
root, data_dir, size, report = sys.argv[1:5]
started = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "harness", "check", "consumer", "--scenario", "all",
                       "--size", size, "--data-dir", data_dir, "--report-dir", report, "--",
                       sys.executable, root + "/tests/consumers/example.py"],
                      capture_output=True, text=True, env={**os.environ, "CI": "true"})
print(json.dumps({"seconds": time.perf_counter() - started, "exit_code": done.returncode}))
"""

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


_NIGHT = """
[night]
duration = {cap}
until = "finished"
window = {cap}
[vendors.full-sync]
count = {syncs}
page_size = 1000
[mock]
size = "{size}"
workers = 2
"""


def load_size(size: str, syncs: int, workdir: Path) -> dict:
    """``load --mock`` on ``serve --workers 2``: ``syncs`` full syncs at once, until all end."""
    import csv

    profile, reports = workdir / "night.toml", workdir / "load-reports"
    profile.write_text(_NIGHT.format(cap=1200, syncs=syncs, size=size))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "load", "--mock", "--profile",
                           str(profile), "--data-dir", str(workdir / "districts"),
                           "--report-dir", str(reports)],
                          capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - started
    night = json.loads((reports / "night.json").read_text())
    syncs_seen = night["log"]["syncs"]
    finished = [s for s in syncs_seen if s["finished"]]
    first = min(s["started"] for s in syncs_seen)
    seconds = max(s["finished"] for s in finished) - first if finished else None
    records = sum(w["read"] for s in finished for w in s["walks"])
    failed = {r["id"]: r["message"] for r in json.loads(
        (reports / "results.json").read_text())["results"] if r["status"] == "failed"}
    with (reports / "locust_stats.csv").open() as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    return {"size": size, "server_workers": 2, "full_syncs": syncs,
            "finished": len(finished), "seconds": round(seconds, 1) if seconds else None,
            "records": records,
            "records_per_second": round(records / seconds) if seconds else None,
            "p95_page_ms": int(float(total["95%"])), "p50_page_ms": int(float(total["50%"])),
            "requests": int(total["Request Count"]), "exit_code": done.returncode,
            "failed": failed,
            "wall_seconds": round(wall, 1)}


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
        "target_file_mb": TARGET_FILE_MB.get(size),
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
                         "walk_100_share_of_ceiling": ">= 0.5",
                         "walk_1000_records_per_second": f">= {2 * WALK_BEFORE[1000]:,}",
                         "walk_10000_records_per_second": f">= {2 * WALK_BEFORE[10000]:,}",
                         "filter_two_clause_p50_ms": "<= 20", "email_lookup_p50_ms": "<= 5",
                         "server_rss_mb": "<= 500"}
    return result


def check_size(size: str, workdir: Path) -> dict:
    path = workdir / f"check-{size}.sqlite"
    _run(_BUILD, size, str(path))
    result = _run(_CHECK, str(path))
    path.unlink()
    return {"size": size, "seconds": round(result["seconds"], 1),
            "target_seconds": TARGET_CHECK_SECONDS.get(size), "requests": result["requests"],
            "counts": result["counts"], "failed": result["failed"]}


def consumer_size(size: str, workdir: Path) -> dict:
    result = _run(_CONSUMER, str(ROOT), str(workdir / "districts"), size,
                  str(workdir / "consumer-reports"))
    return {"size": size, "scenarios": "all", "seconds": round(result["seconds"], 1),
            "exit_code": result["exit_code"]}


def serving_table(r: dict) -> Table:
    table = Table(title=f"Serving {r['size']} on one worker over loopback")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    rows = [
        ("static body req/s (ceiling)", r["static"]["rps"], "-"),
        ("users page, offset 0, req/s", r["first_page"]["rps"], ">= 50% of ceiling"),
        ("share of ceiling", r["first_page_share_of_ceiling"], ">= 0.5"),
        ("static body req/s, page cache off server", r["static_cache_off_run"]["rps"], "-"),
        ("users page, offset 0, page cache off, req/s", r["first_page_uncached"]["rps"], "-"),
        ("share of ceiling, cache off", r["uncached_share_of_ceiling"], "-"),
        ("distinct pages, limit 100, cache off, req/s", r["walk_100"]["rps"], "-"),
        ("share of ceiling, distinct pages", r["walk_100_share_of_ceiling"], ">= 0.5"),
        ("distinct pages, limit 1,000, records/s", f"{r['walk_1000']['records_per_second']:,}",
         f">= {2 * WALK_BEFORE[1000]:,}"),
        ("distinct pages, limit 10,000, records/s",
         f"{r['walk_10000']['records_per_second']:,}", f">= {2 * WALK_BEFORE[10000]:,}"),
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
    parser.add_argument("--check", default="", metavar="SIZES",
                        help="also time the provider checker against the mock of SIZES")
    parser.add_argument("--consumer", default="", metavar="SIZE",
                        help="also time check consumer --scenario all with the example consumer")
    parser.add_argument("--load", default="", metavar="SIZE",
                        help="also run a sync night of --load-syncs full syncs at once against "
                        "serve --workers 2 on the mock of SIZE (e.g. medium)")
    parser.add_argument("--load-syncs", type=int, default=10, metavar="N",
                        help="full syncs at once for --load (default 10)")
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
        checks = []
        for size in [s for s in args.check.split(",") if s]:
            console.print(f"checking the {size} mock ...")
            checks.append(check_size(size, Path(tmp)))
        consumer = None
        if args.consumer:
            console.print(f"certifying the example consumer on {args.consumer} ...")
            consumer = consumer_size(args.consumer, Path(tmp))
        night = None
        if args.load:
            console.print(f"a sync night of {args.load_syncs} full syncs on {args.load} ...")
            night = load_size(args.load, args.load_syncs, Path(tmp))
    table = Table(title="District generation (seed 42)")
    for column in ("size", "generate s", "target s", "records", "records/s", "parent RSS MB",
                   "worker RSS MB", "file MB", "target file MB", "reopen s"):
        table.add_column(column, justify="right")
    for r in rows:
        table.add_row(r["size"], f"{r['generate_seconds']:.2f}", str(r["target_seconds"] or "-"),
                      f"{r['records']:,}", f"{r['records_per_second']:,}",
                      str(r["parent_peak_rss_mb"]), str(r["worker_peak_rss_mb"]),
                      str(r["file_mb"]), str(r["target_file_mb"] or "-"),
                      f"{r['reopen_seconds']:.3f}")
    if rows:
        console.print(table)
    if serving:
        console.print(serving_table(serving))
    if checks:
        check_table = Table(title="check provider --mock --profile spec,campus, one process")
        for column in ("size", "seconds", "target s", "requests", "passed", "failed",
                       "warning", "skipped"):
            check_table.add_column(column, justify="right")
        for c in checks:
            check_table.add_row(c["size"], f"{c['seconds']:.1f}", str(c["target_seconds"]),
                                str(c["requests"]), *(str(c["counts"][k]) for k in (
                                    "passed", "failed", "warning", "skipped")))
        console.print(check_table)
    if consumer:
        console.print(f"check consumer --scenario all on {consumer['size']}: "
                      f"{consumer['seconds']:.1f} s, exit code {consumer['exit_code']}")
    if night:
        console.print(f"sync night on {night['size']} (serve --workers 2): {night['finished']} of "
                      f"{night['full_syncs']} concurrent full syncs finished in "
                      f"{night['seconds']} s, {night['records_per_second']:,} records/s, "
                      f"p95 page {night['p95_page_ms']} ms (p50 {night['p50_page_ms']} ms), "
                      f"exit code {night['exit_code']}")
        for check_id, message in night["failed"].items():
            console.print(f"  {check_id} failed: {message}", markup=False, highlight=False)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(out.read_text()) if out.exists() else {}
    if rows:
        existing["generation"] = {"cpu_count": os.cpu_count(), "rows": rows,
                                  "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                               time.gmtime())}
    if serving:
        existing["serving"] = serving
    if checks:
        existing["check_provider"] = checks
    if consumer:
        existing["check_consumer"] = consumer
    if night:
        existing["sync_night"] = night
    out.write_text(json.dumps(existing, indent=2) + "\n")
    console.print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
