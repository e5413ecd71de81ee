"""The ``oneroster-harness`` command line.

Exit codes: 0 success, 1 findings (checks), 2 usage or configuration errors, always with one
clear line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from mock_provider.district import (
    QUIRKS,
    SIZES,
    DistrictFileError,
    DistrictSpec,
    district_path,
    ensure_district,
    parse_quirks,
    students_for,
)
from mock_provider.store import Store, StoreError

PROG = "oneroster-harness"
DEFAULT_DATA_DIR = ".districts"


class UsageError(Exception):
    """A bad argument or configuration: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


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


def _add_district_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("district")
    group.add_argument("--seed", type=_seed, default=42, help="random seed (default 42)")
    group.add_argument("--size", choices=list(SIZES), default=None,
                       help="district size (default tiny)")
    group.add_argument("--students", type=_positive_int, default=None,
                       help="an exact student count instead of --size")
    group.add_argument("--quirks", default=None,
                       help="comma-separated data-quality quirks, or 'all': "
                       + ", ".join(QUIRKS))
    group.add_argument("--data-dir", default=None,
                       help=f"where district files are cached (default ${'{'}ONEROSTER_DATA_DIR"
                       f"{'}'} or ./{DEFAULT_DATA_DIR})")
    group.add_argument("--workers", type=_positive_int, default=None,
                       help="generator processes (default: one per core)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Mock OneRoster district and conformance harness.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    generate = commands.add_parser(
        "generate", help="generate (or reuse) a fake district file, optionally export CSV")
    _add_district_options(generate)
    generate.add_argument("--out", default=None,
                          help="district file to write or reuse (default: in --data-dir)")
    generate.add_argument("--csv", default=None, metavar="DIR",
                          help="also export the OneRoster CSV binding to DIR (a .zip name zips)")
    generate.add_argument("--csv-version", choices=("1.1", "1.2"), default="1.2")
    generate.add_argument("--delta-since", type=_since, default=None, metavar="DATE",
                          help="export only records changed after DATE (a delta file set)")
    return parser


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


def _interactive(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("CI")


def cmd_generate(args: argparse.Namespace, console: Console) -> int:
    spec = district_spec(args)
    path = Path(args.out) if args.out else district_path(spec, data_dir(args))
    if args.delta_since and not args.csv:
        raise UsageError("--delta-since applies to a CSV export: add --csv DIR")
    try:
        if _interactive(console) and not path.exists():
            with Progress(TextColumn("generating zones"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("zones", total=None)
                result = ensure_district(spec, path, lambda d, t: bar.update(task, completed=d,
                                                                               total=t),
                                         args.workers)
        else:
            result = ensure_district(spec, path, None, args.workers)
    except DistrictFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None

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
        how = "reused" if result.reused else f"generated in {result.seconds:.2f} s"
        console.print(f"district file: {result.path} ({how})")
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


COMMANDS = {"generate": cmd_generate}


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(highlight=False)
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args, console)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
