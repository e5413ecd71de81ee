"""``serve``: the fake district over OneRoster HTTP, with its connections, flavor, admin
routes, faults, recording and grade-book settings."""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sqlite3
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from harness.consumer.live import verdicts_so_far
from harness.consumer.scenarios import FAULT_SCENARIOS, SCENARIOS
from harness.consumer.session import served_roster
from harness.target import MAX_CONCURRENCY
from mock_provider.config import ConfigError
from mock_provider.connections import Connection
from mock_provider.district import BuildResult
from mock_provider.gradebook.rules import DEFAULT_MAX_TITLE_LENGTH, SWITCHABLE
from mock_provider.inspector import PREFIX, Inspector, InspectorOptions, is_loopback
from mock_provider.middleware.recorder import Recording
from mock_provider.serve import (
    ServeOptions,
    build_app,
    config_for,
    settings_for,
    with_credentials,
)
from mock_provider.settings import (
    SettingsError,
    check_max_title_length,
    check_rule_name,
    check_update_status,
)
from mock_provider.store import Store

from .common import UsageError, positive_int, whole_number
from .district import add_district_options, prepare_district


def add_serve_parser(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve", help="serve the fake district over OneRoster HTTP until stopped")
    add_district_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    serve.add_argument("--config", default=None, metavar="FILE",
                       help="connections file (TOML); without it one full-access connection")
    serve.add_argument("--client-id", default=None, help="client id of the default connection")
    serve.add_argument("--client-secret", default=None,
                       help="client secret of the default connection (generated if omitted)")
    serve.add_argument("--workers", type=positive_int, default=1,
                       help="server processes sharing the district file (default 1)")
    serve.add_argument("--max-limit", type=positive_int, default=50_000,
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
    serve.add_argument("--fresh", action="store_true",
                       help="start from the generated district: undo ticks, rollovers and "
                       "grade-book writes a previous serve left in the district file")
    serve.add_argument("--record", default=None, metavar="FILE",
                       help="record every exchange (NDJSON, secrets masked) for "
                       "'check consumer --recording FILE'")
    serve.add_argument("--no-inspector", action="store_true",
                       help="do not serve the inspector web pages at /inspector")
    serve.add_argument("--reports-dir", default="reports", metavar="DIR",
                       help="check runs the inspector's Reports page lists (default reports)")
    _add_gradebook_options(serve)


def _add_gradebook_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("grade-book writes (over the --config [gradebook] table)")
    group.add_argument("--disable-rule", action="append", default=[], metavar="RULE",
                       dest="disabled_rules", type=_setting(check_rule_name, str),
                       help="switch a write rule off (repeatable): "
                       + ", ".join(sorted(SWITCHABLE)))
    group.add_argument("--max-title-length", type=_setting(check_max_title_length, whole_number),
                       default=None, metavar="N",
                       help=f"longest line-item title (default {DEFAULT_MAX_TITLE_LENGTH})")
    group.add_argument("--update-status", type=_setting(check_update_status, whole_number),
                       default=None, metavar="200|201",
                       help="status of a PUT that replaces a record (default 200)")


def _setting(check: Callable[[Any], Any], parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type that parses a setting and checks it as the mock's Settings do."""
    def parse_setting(text: str) -> Any:
        try:
            return check(parse(text))
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse_setting


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65_535:
        raise argparse.ArgumentTypeError(f"expected a port up to 65535, got {value}")
    return value


def _check_port_free(host: str, port: int) -> None:
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def cmd_serve(args: argparse.Namespace, console: Console) -> int:
    import uvicorn

    if args.config and (args.client_id or args.client_secret):
        raise UsageError("--client-id/--client-secret describe the default connection; "
                         "with --config the connections come from the file")
    if args.config and not Path(args.config).is_file():
        raise UsageError(f"no connections file at {args.config}")
    if (args.record or args.faults) and args.workers > 1:
        raise UsageError("--record and --faults need one server process; drop --workers")
    _check_port_free(args.host, args.port)
    result = prepare_district(args, console, keep_changes=True)
    if result.changes is not None and args.fresh:
        _reset_to_generated(result.path)
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
    inspector, why_not = _inspector(args, options)
    _print_banner(console, args, options, connections, result)
    _print_inspector(console, args, inspector, why_not)
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
        # Open inspector pages hold event streams: Ctrl+C ends them after two seconds
        # instead of waiting for every browser to close.
        uvicorn.run(build_app(options, config, recording, faults, inspector), host=args.host,
                    port=args.port, log_level="warning", timeout_graceful_shutdown=2)
    finally:
        if recording is not None:
            with Store(options.district) as store:
                settings = settings_for(options, config.gradebook)
                recording.event("roster", records=served_roster(store, connections[0], settings))
            recording.event("end")
            recording.close()
            console.print(f"recording: {args.record}", markup=False, highlight=False)
    return 0


def _reset_to_generated(path: Path) -> None:
    """Undo what happened to the district file since generation, in one transaction (as the
    reset route does), so another process reading it never sees half a district."""
    from mock_provider.district.reset import ResetError, reset_district
    from mock_provider.writer import open_writer

    try:
        conn = open_writer(path)
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(f"cannot write {path}: {exc}") from None
    try:
        reset_district(conn, path)
    except ResetError as exc:
        raise UsageError(f"{path}: {exc}") from None
    finally:
        conn.close()


def _print_banner(console: Console, args: argparse.Namespace, options: ServeOptions,
                  connections: list[Connection], district: BuildResult) -> None:
    """Where the mock answers and with which credentials; first, which district it serves
    and, when that has changed since generation, how."""
    origin = f"http://{args.host}:{args.port}"
    profile = options.profile
    console.print(f"district file: {district.path} ({args.flavor} flavor)")
    if district.changes is not None:
        said = (f"--fresh: back to the generated district (it had {district.changes.describe()})"
                if args.fresh else
                f"changed since generation: {district.changes.describe()}; served as it is "
                "(--fresh starts from the generated district)")
        console.print(said, markup=False, highlight=False)
    bases = dict.fromkeys(f"{origin}{profile.prefixes[v]}" for v in ("1.2", "1.1"))
    console.print(f"base URL:                {' (1.2), '.join(bases)}"
                  + (" (1.1)" if len(bases) > 1 else "")
                  + "  <- check provider --base-url (everything before /ims/oneroster)")
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


def _inspector(args: argparse.Namespace, options: ServeOptions
               ) -> tuple[Inspector | None, str | None]:
    """The inspector to serve, or None and why not."""
    if args.no_inspector:
        return None, None
    if args.workers > 1:
        return None, "off: it needs one server process (drop --workers)"
    loopback = is_loopback(args.host)
    if not loopback and not options.admin_token:
        return None, (f"off: {args.host} is not a loopback address, and off loopback the "
                      "inspector needs the admin token (add --admin or --admin-token)")
    scenarios = {name: (SCENARIOS[name].summary, SCENARIOS[name].faults)
                 for name in FAULT_SCENARIOS}
    return Inspector(InspectorOptions(
        admin_token=None if loopback else options.admin_token,
        reports_dir=Path(args.reports_dir), fault_scenarios=scenarios,
        fault_scenario=args.faults,
        verdicts=partial(verdicts_so_far, Path(args.record)) if args.record else None)), None


def _print_inspector(console: Console, args: argparse.Namespace, inspector: Inspector | None,
                     why_not: str | None) -> None:
    if inspector is not None:
        needs = " (user any, password: the admin token)" if inspector.options.admin_token \
            else ""
        console.print(f"inspector:               http://{args.host}:{args.port}{PREFIX}"
                      f"{needs}  <- live traffic, syncs, connections, district, faults, "
                      "reports", markup=False, highlight=False)
    elif why_not:
        console.print(f"inspector:               {why_not}", markup=False, highlight=False)


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


__all__ = ["add_serve_parser", "cmd_serve"]
