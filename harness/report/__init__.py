"""Report writers: each takes a finished RunSummary and knows nothing of the runner."""

from __future__ import annotations

from pathlib import Path

from harness.model import RunSummary
from harness.report.html import write_html
from harness.report.json_report import write_json
from harness.report.junit import write_junit

__all__ = ["FILE_NAMES", "write_all", "write_html", "write_json", "write_junit"]

# Fixed names, never timestamped: CI and people find them in the same place every run.
FILE_NAMES = {"json": "results.json", "junit": "junit.xml", "html": "report.html"}


def write_all(summary: RunSummary, report_dir: str | Path) -> dict[str, Path]:
    """Write every report into report_dir (created if missing); return the paths by kind."""
    directory = Path(report_dir)
    directory.mkdir(parents=True, exist_ok=True)
    writers = {"json": write_json, "junit": write_junit, "html": write_html}
    paths = {kind: directory / FILE_NAMES[kind] for kind in writers}
    for kind, writer in writers.items():
        writer(summary, paths[kind])
    return paths
