"""The load process (``python -m harness.load``, started by ``oneroster-harness load``): runs the
night as the command line planned it (the plan comes in the environment), judges it, writes the
reports. Exit codes as the command line's: 0 the provider held up, 1 a verdict failed, 2 the
night could not run."""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.model import RunSummary, utc_now
from harness.report.console import STATUS_STYLES

from .plan import Plan, plan_from_environment
from .report import write_reports
from .session import NightError, Outcome, run_local, run_master, run_worker
from .verdicts import judge, summary_of

PROG = "oneroster-harness"  # errors read as the command line's own


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness.load")
    parser.add_argument("--mode", choices=("local", "master", "worker"), default="local")
    parser.add_argument("--report-dir", default="reports")
    parser.add_argument("--master-host", default="127.0.0.1")
    parser.add_argument("--master-port", type=int, default=5557)
    parser.add_argument("--master-bind-host", default="127.0.0.1")
    parser.add_argument("--expect-workers", type=int, default=1)
    parser.add_argument("--worker-wait", type=float, default=60.0)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console(highlight=False, soft_wrap=True, width=200)
    try:
        if args.mode == "worker":
            run_worker(args.master_host, args.master_port, args.worker_wait)
            console.print("worker: the master ended the night")
            return 0
        plan = plan_from_environment()
        if plan is None:
            print(f"{PROG}: error: no plan (start it with `oneroster-harness load`)",
                  file=sys.stderr)
            return 2
        report_dir = Path(args.report_dir)
        stamp = utc_now()
        console.print(f"sync night: {plan.night.users} vendors against {plan.target} "
                      f"(OneRoster {plan.version}), at most {plan.night.duration:g} s")
        if args.mode == "master":
            outcome = run_master(plan, report_dir, args.master_bind_host, args.master_port,
                                 args.expect_workers, args.worker_wait)
        else:
            outcome = run_local(plan, report_dir)
    except NightError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return _report(plan, outcome, report_dir, stamp, args.mode, console)


def _report(plan: Plan, outcome: Outcome, report_dir: Path, stamp: str, mode: str,
            console: Console) -> int:
    night = plan.night
    results = judge(outcome.log, night, outcome.started, night.users, plan.district)
    summary = summary_of(results, plan.target, plan.version, outcome.seconds, stamp, night)
    kinds = Counter(s.kind for s in outcome.log.syncs.values())
    details = {
        "profile": night.source or "sync-night", "stopped_because": outcome.stopped_because,
        "vendors": {v.kind: v.count for v in night.vendors}, "window": night.sync_window,
        "mode": mode, "syncs_by_kind": dict(kinds),
        "csv_files": [p.name for p in outcome.csv_files],
        "troubles": outcome.log.troubles.counts, "district": plan.district}
    paths = write_reports(summary, outcome.log, outcome.timeline, report_dir, details)
    finished = sum(1 for s in outcome.log.syncs.values() if s.finished)
    records = sum(s.records for s in outcome.log.syncs.values())
    console.print(f"night over after {outcome.seconds:.1f} s ({outcome.stopped_because}): "
                  f"{finished} of {len(outcome.log.syncs)} syncs finished, {records:,} "
                  "records read")
    _print_verdicts(summary, console)
    console.print("reports: " + ", ".join(str(p) for p in [*paths.values(),
                                                           *outcome.csv_files]))
    return 0 if summary.conformant else 1


def _print_verdicts(summary: RunSummary, console: Console) -> None:
    table = Table(title=Text(f"Sync night: {summary.target}"))
    for column in ("id", "verdict", "status"):
        table.add_column(column)
    for result in summary.results:
        table.add_row(Text(result.id), Text(result.title),
                      Text(result.status, style=STATUS_STYLES.get(result.status, "")))
    console.print(table)
    for result in summary.failed:
        console.print(f"{result.id} failed: {result.message}", style="red", markup=False,
                      highlight=False)
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts().items() if n)
    verdict = "HELD UP" if summary.conformant else "DID NOT HOLD UP"
    console.print(f"{verdict}: {summary.target} (OneRoster {summary.version}) under the sync "
                  f"night - {counts}", style="bold green" if summary.conformant else "bold red",
                  markup=False, highlight=False)


__all__ = ["main"]
