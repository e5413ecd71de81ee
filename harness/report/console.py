"""The run summary as a rich table plus a one-line verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from harness.model import RunSummary

STATUS_STYLES = {"passed": "green", "failed": "red", "warning": "yellow", "skipped": "dim"}


def verdict_line(summary: RunSummary) -> str:
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts().items())
    verdict = "CONFORMANT" if summary.conformant else "NOT CONFORMANT"
    return f"{verdict}: {summary.target} (OneRoster {summary.version}) - {counts}"


def print_summary(summary: RunSummary, console: Console) -> None:
    """The checks that ran as a table, then the findings, then the skipped checks each with
    its reason (apart, so a skip is never read as a finding or a pass), then the verdict."""
    table = Table(title=Text(f"OneRoster {summary.version} conformance: {summary.target}"))
    for column in ("id", "title", "severity", "status"):
        table.add_column(column)
    for result in summary.results:
        if result.status == "skipped":
            continue
        # Text cells, not markup: a title like "[sourcedId]" must print as written.
        table.add_row(
            Text(result.id),
            Text(result.title),
            Text(result.severity),
            Text(result.status, style=STATUS_STYLES.get(result.status, "")),
        )
    console.print(table)
    if summary.access is not None:
        for line in (f"access: {summary.access.summary()}", *summary.access.notes):
            console.print(line, markup=False, highlight=False)
    for result in summary.results:
        if result.status in ("failed", "warning"):
            console.print(f"{result.id} {result.status}: {result.message}",
                          style=STATUS_STYLES[result.status], markup=False, highlight=False)
    skipped = [r for r in summary.results if r.status == "skipped"]
    if skipped:
        console.print(f"skipped ({len(skipped)}):", style="dim", markup=False, highlight=False)
        for result in skipped:
            console.print(f"  {result.id} {result.title}: {result.message}", style="dim",
                          markup=False, highlight=False)
    style = "bold green" if summary.conformant else "bold red"
    console.print(verdict_line(summary), style=style, markup=False, highlight=False)
