"""The night's reports: results.json and junit.xml as ``check`` writes them (the verdicts),
night.json (every sync and the timeline, as data), and report.html: the verdicts, each vendor's
syncs and charts over time, one self-contained page. Locust's own CSV files sit next to them."""

from __future__ import annotations

import bisect
import json
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.model import RunSummary
from harness.report.html import harness_version
from harness.report.json_report import write_json
from harness.report.junit import write_junit

from .charts import Chart, Series, line_chart
from .ledger import NightLog
from .timeline import Timeline

FILE_NAMES = {"json": "results.json", "junit": "junit.xml", "html": "report.html",
              "night": "night.json"}


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("harness.load", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def sync_counts(log: NightLog, times: list[float], started: float) -> Series:
    """Syncs in progress and finished at each of ``times`` (seconds since the start)."""
    begun = sorted(s.started for s in log.syncs.values())
    ended = sorted(s.finished for s in log.syncs.values() if s.finished is not None)
    progress, finished = [], []
    for at in times:
        moment = started + at
        done = bisect.bisect_right(ended, moment)
        progress.append((at, float(bisect.bisect_right(begun, moment) - done)))
        finished.append((at, float(done)))
    return {"in progress": progress, "finished": finished}


def charts(timeline: Timeline, log: NightLog) -> list[Chart]:
    ops = timeline.operations
    total: dict[float, float] = {}
    errors: dict[float, float] = {}
    for points in ops.values():
        for p in points:
            total[p.at] = total.get(p.at, 0.0) + p.requests_per_second
            errors[p.at] = errors.get(p.at, 0.0) + p.failures_per_second
    found = [line_chart("Requests per second", "req/s", {
        "all": sorted(total.items()),
        **{name: [(p.at, p.requests_per_second) for p in points]
           for name, points in ops.items()}})]
    for key in ("p50", "p95", "p99"):
        found.append(line_chart(f"{key} response time per operation", "ms", {
            name: [(p.at, p.percentiles[key]) for p in points if key in p.percentiles]
            for name, points in ops.items()}))
    found.append(line_chart("Errors per second", "failures/s", {"all": sorted(errors.items())}))
    times = sorted({at for at, _ in timeline.users})
    found.append(line_chart("Syncs", "syncs", sync_counts(log, times, timeline.started)))
    found.append(line_chart("Vendors running", "users",
                            {"vendors": [(at, float(n)) for at, n in timeline.users]}))
    return found


def _vendor_rows(log: NightLog, started: float) -> list[dict[str, Any]]:
    """One row per vendor (a night may hold thousands of short syncs): its first sync, and
    how all of them went."""
    rows = []
    for vendor, syncs in log.vendors().items():
        first = syncs[0]
        errors = [s.error for s in syncs if s.error]
        rows.append({
            "vendor": vendor, "kind": first.kind, "syncs": len(syncs),
            "finished": sum(1 for s in syncs if s.finished), "failed": len(errors),
            "first_start": first.started - started,
            "first_seconds": first.finished - first.started if first.finished else None,
            "records": sum(s.records for s in syncs),
            "lookups": sum(s.lookups for s in syncs),
            "writes": sum(s.writes_acknowledged for s in syncs),
            "read_back": sum(s.read_back for s in syncs),
            "state": "failed" if first.error else "finished" if first.finished else "running",
            "error": errors[-1] if errors else ""})
    return rows


def write_reports(summary: RunSummary, log: NightLog, timeline: Timeline, report_dir: Path,
                  details: dict[str, Any]) -> dict[str, Path]:
    """Every report into ``report_dir``; the paths by kind."""
    report_dir.mkdir(parents=True, exist_ok=True)
    paths = {kind: report_dir / name for kind, name in FILE_NAMES.items()}
    write_json(summary, paths["json"])
    write_junit(summary, paths["junit"])
    paths["night"].write_text(json.dumps({
        **details, "log": log.to_dict(), "timeline": timeline.to_dict()}, indent=1) + "\n",
        encoding="utf-8")
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts().items())
    html = _environment().get_template("night.html.j2").render(
        title=f"Sync night: {summary.target}", summary=summary, counts=counts,
        details=details, charts=charts(timeline, log), harness_version=harness_version(),
        rows=_vendor_rows(log, timeline.started))
    paths["html"].write_text(html, encoding="utf-8")
    return paths


__all__ = ["FILE_NAMES", "charts", "sync_counts", "write_reports"]
