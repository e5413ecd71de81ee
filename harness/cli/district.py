"""``generate``, and the district options every command that needs a district shares."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mock_provider.district import (
    QUIRKS,
    SIZES,
    BuildResult,
    DistrictFileError,
    DistrictSpec,
    district_path,
    ensure_district,
    parse_quirks,
    students_for,
)
from mock_provider.store import Store

from .common import UsageError, interactive, positive_int, whole_number

DEFAULT_DATA_DIR = ".districts"


def _since(text: str) -> str:
    """A delta watermark: ``YYYY-MM-DD`` or an ISO date-time, normalised to UTC ``...Z``."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat() + "T00:00:00Z"
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a date (2026-09-01) or date-time (2026-09-01T12:00:00Z), got {text!r}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_district_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("district")
    group.add_argument("--seed", type=whole_number, default=42, help="random seed (default 42)")
    group.add_argument("--size", choices=list(SIZES), default=None,
                       help="district size (default tiny)")
    group.add_argument("--students", type=positive_int, default=None,
                       help="an exact student count instead of --size")
    group.add_argument("--quirks", default=None,
                       help="comma-separated data-quality quirks, or 'all': "
                       + ", ".join(QUIRKS))
    group.add_argument("--data-dir", default=None,
                       help=f"where district files are cached (default ${'{'}ONEROSTER_DATA_DIR"
                       f"{'}'} or ./{DEFAULT_DATA_DIR})")
    group.add_argument("--jobs", type=positive_int, default=None,
                       help="generator processes (default: one per core)")


def add_generate_parser(commands: argparse._SubParsersAction) -> None:
    generate = commands.add_parser(
        "generate", help="generate (or reuse) a fake district file, optionally export CSV")
    add_district_options(generate)
    generate.add_argument("--out", default=None,
                          help="district file to write or reuse (default: in --data-dir)")
    generate.add_argument("--csv", default=None, metavar="DIR",
                          help="also export the OneRoster CSV binding to DIR (a .zip name zips)")
    generate.add_argument("--csv-version", choices=("1.1", "1.2"), default="1.2")
    generate.add_argument("--delta-since", type=_since, default=None, metavar="DATE",
                          help="export only records changed after DATE (a delta file set)")


def district_spec(args: argparse.Namespace) -> DistrictSpec:
    if args.size is not None and args.students is not None:
        raise UsageError("give --size or --students, not both")
    try:
        students = students_for(args.size, args.students)
        quirks = parse_quirks(args.quirks)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    size = args.size or ("custom" if args.students is not None else "tiny")
    return DistrictSpec(seed=args.seed, students=students, size=size, quirks=quirks)


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir or os.environ.get("ONEROSTER_DATA_DIR") or DEFAULT_DATA_DIR)


def prepare_district(args: argparse.Namespace, console: Console,
                     keep_changes: bool = False) -> BuildResult:
    """Build or reuse the district the arguments ask for, with a progress bar on a terminal.

    The generated district, unless ``keep_changes`` (``serve``): a cached file that has changed
    since generation is then reused as it is, and ``changes`` says what happened to it.
    """
    spec = district_spec(args)
    out = getattr(args, "out", None)
    path = Path(out) if out else district_path(spec, data_dir(args))
    try:
        if interactive(console) and not path.exists():
            with Progress(TextColumn("generating zones"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("zones", total=None)
                return ensure_district(
                    spec, path, lambda done, total: bar.update(task, completed=done, total=total),
                    args.jobs, keep_changes)
        return ensure_district(spec, path, None, args.jobs, keep_changes)
    except DistrictFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def describe_source(result: BuildResult) -> str:
    """The ``district file:`` line: which file, reused or generated, and a changed file that
    was passed over for it."""
    how = "reused" if result.reused else f"generated in {result.seconds:.2f} s"
    line = f"district file: {result.path} ({how})"
    if result.changed_file is not None and result.changes is not None:
        line += (f"; {result.changed_file} has changed since generation "
                 f"({result.changes.describe()}) and is left as it is")
    return line


def cmd_generate(args: argparse.Namespace, console: Console) -> int:
    if args.delta_since and not args.csv:
        raise UsageError("--delta-since applies to a CSV export: add --csv DIR")
    spec = district_spec(args)
    result = prepare_district(args, console)

    table = Table(title=f"District seed {spec.seed}, {spec.size} ({spec.students:,} students)")
    table.add_column("records")
    table.add_column("count", justify="right")
    for kind, count in result.counts.items():
        table.add_row(kind, f"{count:,}")
    table.add_row("total", f"{sum(result.counts.values()):,}", style="bold")
    console.print(table)
    with Store(result.path) as store:
        manifest = store.quirk_manifest()
        if manifest:
            quirks = Table(title="Data-quality quirks")
            quirks.add_column("quirk")
            quirks.add_column("records", justify="right")
            for name, entry in manifest.items():
                quirks.add_row(name, str(entry["count"]))
            console.print(quirks)
        console.print(describe_source(result), markup=False, highlight=False)
        if args.csv:
            from mock_provider.csv_export import export_csv

            try:
                export = export_csv(store, args.csv, args.csv_version, args.delta_since)
            except OSError as exc:
                raise UsageError(f"cannot write {args.csv}: {exc.strerror or exc}") from None
            rows = sum(export.files.values())
            console.print(f"CSV {args.csv_version} {export.mode}: {export.path} "
                          f"({len(export.files)} files, {rows:,} rows)")
    return 0


__all__ = ["DEFAULT_DATA_DIR", "add_district_options", "add_generate_parser", "cmd_generate",
           "data_dir", "describe_source", "district_spec", "prepare_district"]
