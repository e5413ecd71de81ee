"""The night's reports: results.json and junit.xml as ``check`` writes them (the verdicts),
night.json (every sync and the timeline, as data), and report.html: the verdicts, each vendor's
syncs and charts over time, one self-contained page. Locust's own CSV files sit next to them."""

from __future__ import annotations

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
    progress, finished = [], []
    for at in times:
        moment = started + at
        begun = [s for s in log.syncs.values() if s.started <= moment]
        done = [s for s in begun if s.finished is not None and s.finished <= moment]
        progress.append((at, float(len(begun) - len(done))))
        finished.append((at, float(len(done))))
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
    rows = []
    for vendor, syncs in log.vendors().items():
        for s in syncs:
            seconds = s.finished - s.started if s.finished else None
            rows.append({
                "vendor": vendor, "kind": s.kind, "number": s.number,
                "start": s.started - started, "seconds": seconds, "records": s.records,
                "state": "failed" if s.error else "finished" if s.finished else "running",
                "error": s.error or "", "writes": s.writes_acknowledged,
                "read_back": s.read_back, "lookups": s.lookups})
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
