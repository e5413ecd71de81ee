"""The ``oneroster-harness`` command line.

Exit codes: 0 success, 1 findings (checks), 2 usage or configuration errors, always with one
clear line on stderr and never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from harness.checks import CHECKS
from harness.consumer.certify import Certification, certify, judge_recording
from harness.consumer.judge import CONSUMER_CHECKS
from harness.consumer.recording import RecordingError
from harness.consumer.roster import RosterError
from harness.consumer.scenarios import (
    FAULT_SCENARIOS,
    SCENARIOS,
    Scenario,
    scenarios_for,
)
from harness.consumer.session import served_roster
from harness.embedded import running_mock
from harness.profiles import PROFILES
from harness.report import write_all
from harness.report.console import print_summary
from harness.runner import run_checks, select
from harness.target import MAX_CONCURRENCY, Target, TargetError
from mock_provider.connections import Connection
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
from mock_provider.gradebook.rules import DEFAULT_MAX_TITLE_LENGTH, SWITCHABLE
from mock_provider.middleware.recorder import Recording
from mock_provider.serve import ServeOptions
from mock_provider.settings import (
    SettingsError,
    check_max_title_length,
    check_rule_name,
    check_update_status,
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
    group.add_argument("--jobs", type=_positive_int, default=None,
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
    serve = commands.add_parser(
        "serve", help="serve the fake district over OneRoster HTTP until stopped")
    _add_district_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--config", default=None, metavar="FILE",
                       help="connections file (TOML); without it one full-access connection")
    serve.add_argument("--client-id", default=None, help="client id of the default connection")
    serve.add_argument("--client-secret", default=None,
                       help="client secret of the default connection (generated if omitted)")
    serve.add_argument("--workers", type=_positive_int, default=1,
                       help="server processes sharing the district file (default 1)")
    serve.add_argument("--max-limit", type=_positive_int, default=50_000,
                       help="largest page a client may ask for (default 50000)")
    serve.add_argument("--flavor", choices=("standard", "infinite-campus"), default="standard",
                       help="URL layout and rules of a real SIS (default standard)")
    serve.add_argument("--app-name", default="district",
                       help="Infinite Campus app name in paths and the token URL")
    serve.add_argument("--admin", action="store_true",
                       help="enable the /admin routes (tick, rollover, reset) with a generated "
                       "admin token")
    serve.add_argument("--admin-token", default=None,
                       help="enable the /admin routes with this admin token")
    serve.add_argument("--faults", default=None, metavar="SCENARIO",
                       choices=FAULT_SCENARIOS,
                       help="misbehave as in that consumer scenario: "
                       + ", ".join(FAULT_SCENARIOS))
    serve.add_argument("--record", default=None, metavar="FILE",
                       help="record every exchange (NDJSON, secrets masked) for "
                       "'check consumer --recording FILE'")
    _add_gradebook_options(serve)
    tick = _admin_command(
        commands, "tick", "advance a running mock's district clock, applying realistic changes")
    tick.add_argument("--days", type=_positive_int, default=1, help="days to advance (default 1)")
    _admin_command(commands, "rollover",
                   "move a running mock to the next school year, as Infinite Campus does")
    _admin_command(commands, "reset", "put a running mock's district back to its generated state")
    check = commands.add_parser("check", help="check a OneRoster provider's conformance")
    kinds = check.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    kinds.required = True
    provider = kinds.add_parser("provider", help="check a provider at a URL (or --mock)")
    provider.add_argument("--base-url", help="everything before /ims/oneroster")
    provider.add_argument("--token-url", help="the OAuth 2.0 token URL (may carry a query)")
    provider.add_argument("--client-id")
    provider.add_argument("--client-secret")
    provider.add_argument("--version", choices=("1.2", "1.1"), default="1.2")
    provider.add_argument("--token", default=None,
                          help="a static bearer token instead of client credentials")
    provider.add_argument("--oauth1", action="store_true",
                          help="sign 1.1 requests with OAuth 1.0a (client id and secret as "
                          "consumer key and secret) instead of a bearer token")
    provider.add_argument("--vendor-key", default=None, metavar="KEY:SECRET",
                          help="Infinite Campus x-vendor-authorization for grade-book calls")
    provider.add_argument("--profile", default="spec",
                          help="comma-separated: " + ", ".join(PROFILES) + " (default spec)")
    provider.add_argument("--concurrency", type=_positive_int, default=1,
                          help=f"requests at once, 1 to {MAX_CONCURRENCY} (default 1)")
    provider.add_argument("--only", default=None, metavar="IDS",
                          help="comma-separated check ids or prefixes (e.g. OR-PAGE)")
    provider.add_argument("--report-dir", default="reports",
                          help="where results.json, junit.xml and report.html go")
    provider.add_argument("--max-requests", type=_positive_int, default=2_000,
                          help="stop requesting after this many (default 2000)")
    provider.add_argument("--max-seconds", type=_positive_int, default=600,
                          help="skip the checks not started after this long (default 600)")
    provider.add_argument("--timeout", type=_positive_int, default=10,
                          help="seconds to wait for one answer (default 10)")
    provider.add_argument("--mock", action="store_true",
                          help="start the embedded mock district and check it")
    _add_district_options(provider)
    _add_consumer_parser(kinds)
    explain = commands.add_parser("explain", help="what a check means and how to fix it")
    explain.add_argument("check_id", nargs="?", metavar="ID",
                         help="a check id; without it, list every check")
    return parser


def _add_consumer_parser(kinds: argparse._SubParsersAction) -> None:
    consumer = kinds.add_parser(
        "consumer", help="run a consumer's sync against the mock under a scenario and judge it")
    consumer.add_argument("--scenario", default="full-sync",
                          help="one of " + ", ".join([*SCENARIOS, "all"]) + " (default full-sync)")
    consumer.add_argument("--report-dir", default="reports",
                          help="reports go to REPORT_DIR/consumer-<scenario>/")
    consumer.add_argument("--time-limit", type=_positive_int, default=600,
                          help="seconds one run of the command may take (default 600)")
    consumer.add_argument("--result", default=None, metavar="FILE",
                          help="the roster the consumer writes (JSON or CSV), compared with "
                          "the district; passed to it as ONEROSTER_RESULT_FILE")
    consumer.add_argument("--recording", default=None, metavar="FILE",
                          help="judge this recording instead of running anything")
    consumer.add_argument("consumer_command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                          help="the consumer to run; without it, serve until Ctrl+C")
    _add_district_options(consumer)


def _add_gradebook_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("grade-book writes (over the --config [gradebook] table)")
    group.add_argument("--disable-rule", action="append", default=[], metavar="RULE",
                       dest="disabled_rules", type=_setting(check_rule_name, str),
                       help="switch a write rule off (repeatable): "
                       + ", ".join(sorted(SWITCHABLE)))
    group.add_argument("--max-title-length", type=_setting(check_max_title_length, int),
                       default=None, metavar="N",
                       help=f"longest line-item title (default {DEFAULT_MAX_TITLE_LENGTH})")
    group.add_argument("--update-status", type=_setting(check_update_status, int),
                       default=None, metavar="200|201",
                       help="status of a PUT that replaces a record (default 200)")


def _setting(check: Callable[[Any], Any], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type that parses a setting and checks it as the mock's Settings do."""
    def parse_setting(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        try:
            return check(value)
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse_setting


def _admin_command(commands: argparse._SubParsersAction, name: str,
                   description: str) -> argparse.ArgumentParser:
    """A command that drives a running mock's /admin routes."""
    command = commands.add_parser(name, help=description)
    command.add_argument("--url", default="http://127.0.0.1:8000",
                         help="the running mock (default http://127.0.0.1:8000)")
    command.add_argument("--admin-token", default=None,
                         help="its admin token (default $ONEROSTER_ADMIN_TOKEN)")
    command.add_argument("--json", action="store_true", help="print the whole report")
    return command


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65_535:
        raise argparse.ArgumentTypeError(f"expected a port up to 65535, got {value}")
    return value


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


def prepare_district(args: argparse.Namespace, console: Console) -> BuildResult:
    """Build or reuse the district the arguments ask for, with a progress bar on a terminal."""
    spec = district_spec(args)
    out = getattr(args, "out", None)
    path = Path(out) if out else district_path(spec, data_dir(args))
    try:
        if _interactive(console) and not path.exists():
            with Progress(TextColumn("generating zones"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("zones", total=None)
                return ensure_district(
                    spec, path, lambda done, total: bar.update(task, completed=done, total=total),
                    args.jobs)
        return ensure_district(spec, path, None, args.jobs)
    except DistrictFileError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


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


def _check_port_free(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    import uvicorn

    from mock_provider.config import ConfigError
    from mock_provider.serve import (
        ServeOptions,
        build_app,
        config_for,
        settings_for,
        with_credentials,
    )

    if args.config and (args.client_id or args.client_secret):
        raise UsageError("--client-id/--client-secret describe the default connection; "
                         "with --config the connections come from the file")
    if args.config and not Path(args.config).is_file():
        raise UsageError(f"no connections file at {args.config}")
    if (args.record or args.faults) and args.workers > 1:
        raise UsageError("--record and --faults need one server process; drop --workers")
    _check_port_free(args.host, args.port)
    result = prepare_district(args, console)
    options = with_credentials(ServeOptions(
        district=result.path, config=Path(args.config) if args.config else None,
        client_id=args.client_id, client_secret=args.client_secret, max_limit=args.max_limit,
        token_key=secrets.token_hex(32) if args.workers > 1 else None, flavor=args.flavor,
        app_name=args.app_name,
        admin_token=args.admin_token or (secrets.token_urlsafe(24) if args.admin else None),
        disabled_rules=tuple(args.disabled_rules), max_title_length=args.max_title_length,
        update_status=args.update_status))
    try:
        config = config_for(options)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    connections = config.connections

    origin = f"http://{args.host}:{args.port}"
    profile = options.profile
    console.print(f"district file: {result.path} ({args.flavor} flavor)")
    console.print("OneRoster 1.2 rostering: "
                  f"{origin}{profile.prefixes['1.2']}/ims/oneroster/rostering/v1p2")
    console.print("OneRoster 1.2 grade book: "
                  f"{origin}{profile.prefixes['1.2']}/ims/oneroster/gradebook/v1p2")
    console.print(f"OneRoster 1.1:           {origin}{profile.prefixes['1.1']}/ims/oneroster/v1p1")
    console.print(f"token URL:               {origin}{profile.token_url_path}")
    if options.config is None:
        console.print(f"client id:               {options.client_id}")
        console.print(f"client secret:           {options.client_secret}")
    else:
        for connection in connections:
            console.print(f"connection {connection.name}: client id {connection.client_id}")
    if options.admin_token:
        console.print(f"admin:                   {origin}/admin (tick, rollover, reset), "
                      f"admin token {options.admin_token}")
    if args.faults:
        console.print(f"faults:                  {args.faults}: "
                      f"{SCENARIOS[args.faults].summary}", markup=False, highlight=False)
    console.print("serving until stopped (Ctrl+C)")
    sys.stdout.flush()
    if args.workers > 1:
        os.environ.update(options.to_environment())
        uvicorn.run("mock_provider.serve:app_from_environment", factory=True, host=args.host,
                    port=args.port, workers=args.workers, log_level="warning")
        return 0
    recording = _open_recording(args, options, connections) if args.record else None
    try:
        faults = SCENARIOS[args.faults].faults if args.faults else None
        uvicorn.run(build_app(options, config, recording, faults), host=args.host,
                    port=args.port, log_level="warning")
    finally:
        if recording is not None:
            with Store(options.district) as store:
                settings = settings_for(options, config.gradebook)
                recording.event("roster", records=served_roster(store, connections[0], settings))
            recording.event("end")
            recording.close()
            console.print(f"recording: {args.record}", markup=False, highlight=False)
    return 0


def _open_recording(args: argparse.Namespace, options: ServeOptions,
                    connections: list[Connection]) -> Recording:
    origin = f"http://{args.host}:{args.port}"
    profile = options.profile
    types = {c.connection_type for c in connections}
    try:
        return Recording(args.record, {
            "scenario": "serve", "summary": "traffic recorded by serve --record",
            "flavor": args.flavor, "version": "1.2", "origin": origin,
            "base_url": origin + profile.prefixes["1.2"],
            "token_url": origin + profile.token_url_path, "max_limit": args.max_limit,
            "max_concurrency": MAX_CONCURRENCY,
            "connection_type": "unsupported" if types == {"unsupported"} else "supported",
            "gradebook": "unknown", "vendor_key": any(c.vendor_key for c in connections),
            "phases": ["full"]})
    except OSError as exc:
        raise UsageError(f"cannot write {args.record}: {exc.strerror or exc}") from None


def _admin_post(args: argparse.Namespace, route: str, params: dict | None = None) -> dict:
    """POST to a running mock's admin route; any refusal becomes one usage-error line."""
    import httpx

    token = args.admin_token or os.environ.get("ONEROSTER_ADMIN_TOKEN")
    if not token:
        raise UsageError("give --admin-token (or set ONEROSTER_ADMIN_TOKEN): the token that "
                         "'serve --admin' printed")
    url = f"{args.url.rstrip('/')}/admin/{route}"
    try:
        response = httpx.post(url, params=params, timeout=600,
                              headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        raise UsageError(f"cannot reach {url}: {exc}") from None
    try:
        body = response.json()
    except ValueError:
        raise UsageError(f"{url} answered {response.status_code} without JSON") from None
    if response.status_code != 200:
        detail = body.get("imsx_description") if isinstance(body, dict) else None
        raise UsageError(f"{url} answered {response.status_code}: {detail or body}")
    return body


def _print_report(console: Console, body: dict, as_json: bool, headline: str) -> None:
    if as_json:
        print(json.dumps(body, indent=2))
        return
    console.print(headline)
    table = Table(title="Changes")
    table.add_column("change")
    table.add_column("count", justify="right")
    for kind, count in body["counts"].items():
        table.add_row(kind, str(count))
    console.print(table)


def cmd_tick(args: argparse.Namespace, console: Console) -> int:
    body = _admin_post(args, "tick", {"days": args.days})
    _print_report(console, body, args.json, f"clock {body['oldClock']} -> {body['newClock']}")
    return 0


def cmd_rollover(args: argparse.Namespace, console: Console) -> int:
    body = _admin_post(args, "rollover")
    _print_report(console, body, args.json,
                  f"school year {body['oldSchoolYear']} -> {body['schoolYear']}, "
                  f"clock {body['oldClock']} -> {body['newClock']}")
    return 0


def cmd_reset(args: argparse.Namespace, console: Console) -> int:
    body = _admin_post(args, "reset")
    _print_report(console, body, args.json,
                  f"district reset: school year {body['schoolYear']}, clock {body['clock']}")
    return 0


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    if args.kind == "consumer":
        return cmd_check_consumer(args, console)
    try:
        checks = select(args.only, args.profile)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.concurrency > MAX_CONCURRENCY:
        raise UsageError(f"--concurrency is at most {MAX_CONCURRENCY} (Infinite Campus asks "
                         "vendors for no more)")
    limits = {"timeout": args.timeout, "max_requests": args.max_requests,
              "vendor_key": args.vendor_key, "concurrency": args.concurrency}
    if args.mock:
        if args.base_url or args.token_url or args.token or args.oauth1:
            raise UsageError("--mock checks the embedded district with its own credentials; "
                             "drop --base-url/--token-url/--token/--oauth1")
        district = prepare_district(args, console).path
        with running_mock(district) as mock:
            target = Target(mock.base_url, mock.token_url, mock.client_id, mock.client_secret,
                            args.version, **limits)
            return _check_target(target, checks, args, console)
    return _check_target(_target_from(args, limits), checks, args, console)


def _target_from(args: argparse.Namespace, limits: dict) -> Target:
    """The provider the options name, with one of its three kinds of credentials."""
    if not args.base_url:
        raise UsageError("give --base-url (or --mock to check the embedded mock)")
    if args.token and args.oauth1:
        raise UsageError("give --token or --oauth1, not both")
    if args.token:
        return Target(args.base_url, "", "", args.token, args.version, auth="bearer", **limits)
    if args.oauth1:
        if args.version != "1.1":
            raise UsageError("OAuth 1.0a signing is OneRoster 1.1 only: add --version 1.1")
        needed = ("client_id", "client_secret")
        auth = "oauth1"
    else:
        needed = ("token_url", "client_id", "client_secret")
        auth = "oauth2"
    missing = [f"--{name.replace('_', '-')}" for name in needed if not getattr(args, name)]
    if missing:
        raise UsageError(f"give {', '.join(missing)} (or --token, or --mock to check the "
                         "embedded mock)")
    return Target(args.base_url, args.token_url or "", args.client_id, args.client_secret,
                  args.version, auth=auth, **limits)


def _check_target(target: Target, checks: list, args: argparse.Namespace,
                  console: Console) -> int:
    try:
        if _interactive(console):
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("checking", total=len(checks))

                def progress(check) -> None:
                    bar.update(task, description=f"{check.id} {check.title[:50]}",
                               completed=checks.index(check))

                summary = run_checks(target, checks, progress, args.max_seconds, args.seed)
        else:
            summary = run_checks(target, checks, max_seconds=args.max_seconds, seed=args.seed)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    finally:
        target.close()
    paths = write_all(summary, Path(args.report_dir))
    print_summary(summary, console)
    console.print("reports: " + ", ".join(str(p) for p in paths.values()))
    return 0 if summary.conformant else 1


def cmd_check_consumer(args: argparse.Namespace, console: Console) -> int:
    command = list(args.consumer_command or [])
    if command and command[0] == "--":
        command = command[1:]
    result = Path(args.result) if args.result else None
    report_dir = Path(args.report_dir)
    try:
        if args.recording:
            if command:
                raise UsageError("--recording judges what was recorded; drop the command")
            summary = judge_recording(Path(args.recording), result, report_dir, console)
            return 0 if summary.conformant else 1
        scenarios = scenarios_for(args.scenario)
        if args.quirks:
            raise UsageError("the scenario decides the quirks (quirky-data switches them on)")

        def district_for(scenario: Scenario) -> Path:
            args.quirks = scenario.quirks or None
            try:
                return prepare_district(args, console).path
            finally:
                args.quirks = None

        summaries = certify(Certification(scenarios, command or None, report_dir,
                                          args.time_limit, result, district_for), console)
    except (ValueError, RecordingError, RosterError) as exc:
        raise UsageError(str(exc)) from None
    failed = [s.target for s in summaries if not s.conformant]
    if len(summaries) > 1:
        console.print(f"{len(summaries) - len(failed)} of {len(summaries)} scenarios passed"
                      + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    if args.check_id is None:
        table = Table(title="Checks")
        for column in ("id", "severity", "title"):
            table.add_column(column)
        for found in [*CHECKS.values(), *CONSUMER_CHECKS.values()]:
            table.add_row(found.id, found.severity, found.title)
        console.print(table)
        return 0
    found = CHECKS.get(args.check_id) or CONSUMER_CHECKS.get(args.check_id)
    if found is None:
        raise UsageError(f"unknown check {args.check_id!r}; `oneroster-harness explain` lists "
                         "them")
    console.print(f"{found.id} ({found.severity}): {found.title}")
    console.print(f"rule: {found.rule}")
    console.print(found.explanation)
    return 0


COMMANDS = {"generate": cmd_generate, "serve": cmd_serve, "tick": cmd_tick,
            "rollover": cmd_rollover, "reset": cmd_reset, "check": cmd_check,
            "explain": cmd_explain}


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
