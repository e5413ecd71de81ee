"""``check consumer``: run scenarios against a consumer (or judge a recording) and report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from ..model import RunSummary
from ..report import write_all
from ..report.console import print_summary, verdict_line
from .judge import judge
from .recording import Recording, load
from .roster import Roster, RosterError, load_roster
from .scenarios import Scenario
from .session import Endpoints, RunOptions, run_scenario

RECORDING_NAME = "recording.ndjson"
LOG_NAME = "consumer.log"


@dataclass(frozen=True)
class Certification:
    scenarios: list[Scenario]
    command: Sequence[str] | None
    report_dir: Path
    time_limit: float
    result_file: Path | None
    district_for: Callable[[Scenario], Path]  # the district file a scenario runs on


def _roster(result_file: Path | None) -> Roster | None:
    return load_roster(result_file) if result_file is not None else None


def _announce(console: Console) -> Callable[[Endpoints], None]:
    def announce(endpoints: Endpoints) -> None:
        console.print("the mock is serving; point the consumer at it, then press Ctrl+C:")
        for name, value in endpoints.environment_preview().items():
            console.print(f"  {name}={value}", markup=False, highlight=False)

    return announce


def _show_inspector(console: Console) -> Callable[[str], None]:
    def show(url: str) -> None:
        console.print(f"  inspector: {url}", markup=False, highlight=False)

    return show


def certify(plan: Certification, console: Console) -> list[RunSummary]:
    """Every scenario of the plan in turn; each writes its reports into
    ``<report dir>/consumer-<scenario>/`` next to its recording and the consumer's log."""
    summaries = []
    # Several scenarios: one line each on the console, the details in each one's reports.
    compact = len(plan.scenarios) > 1
    for scenario in plan.scenarios:
        directory = plan.report_dir / f"consumer-{scenario.name}"
        directory.mkdir(parents=True, exist_ok=True)
        district = plan.district_for(scenario)
        if plan.result_file is not None:
            plan.result_file.unlink(missing_ok=True)  # never judge last run's export
        log = directory / LOG_NAME
        log.unlink(missing_ok=True)
        what = " ".join(plan.command) if plan.command else "a consumer elsewhere"
        if not compact:
            console.print(f"scenario {scenario.name}: {scenario.summary}; running {what}",
                          markup=False, highlight=False)
        recording = run_scenario(scenario, district, directory / RECORDING_NAME, RunOptions(
            plan.command, plan.time_limit, plan.result_file, log,
            None if plan.command else _announce(console),
            # Several scenarios run by a command pass too quickly to watch, one line each.
            show_inspector=None if compact and plan.command else _show_inspector(console)))
        loaded = load(recording)
        if plan.command:
            _started_or_raise(loaded, what)
        roster, problem = None, None
        try:
            roster = _roster(plan.result_file)
        except RosterError as exc:  # the consumer's mistake: a finding, not a usage error
            problem = str(exc)
        summary = judge(loaded, roster, f"consumer, scenario {scenario.name}", problem)
        report(summary, directory, console, compact)
        summaries.append(summary)
    return summaries


class ConsumerDidNotStart(ValueError):
    """The consumer command failed before it sent a single request: a usage problem (a typo
    in the path, a missing module, an unknown command), not a verdict on the consumer."""


# Shells answer 126 (not executable) and 127 (not found) for a command that cannot start.
CANNOT_START = (126, 127)


def _started_or_raise(recording: Recording, what: str) -> None:
    """ConsumerDidNotStart when the command's first run failed without any request."""
    runs = recording.events_named("command")
    first = runs[0] if runs else None
    if first is None or first.get("exit_code") in (0, None):
        return
    code = first["exit_code"]
    if code in CANNOT_START or not recording.exchanges:
        said = first.get("last_line") or "(it printed nothing)"
        raise ConsumerDidNotStart(f"the consumer command `{what}` exited with status {code} "
                                  f"before sending any request: {said}")


def judge_recording(recording: Path, result_file: Path | None, report_dir: Path,
                    console: Console) -> RunSummary:
    """The verdict on a recording made earlier (by ``check consumer`` or ``serve --record``)."""
    loaded = load(recording)
    summary = judge(loaded, _roster(result_file))
    report(summary, report_dir, console)
    return summary


def report(summary: RunSummary, directory: Path, console: Console,
           compact: bool = False) -> None:
    """Write the reports; on the console the summary table and findings, or with ``compact``
    one line: the verdict, the checks that failed and where the report is."""
    paths = write_all(summary, directory)
    if compact:
        failed = ", ".join(r.id for r in summary.failed)
        style = "green" if summary.conformant else "red"
        console.print(f"{verdict_line(summary)}{f'; failed: {failed}' if failed else ''}; "
                      f"report: {paths['html']}", style=style, markup=False, highlight=False)
        return
    print_summary(summary, console)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()), markup=False,
                  highlight=False)
