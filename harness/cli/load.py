"""``load``: a sync night against a provider at a URL (or the embedded mock), on Locust: alone,
as a master of workers, or as a worker.

This process checks the options and the profile (one line, exit 2, for any problem), starts the
mock when asked, and runs the night in a child process, ``python -m harness.load``: Locust
patches the standard library with gevent when imported, which must never reach this process
(nor a test suite that calls ``main``). The child's exit code is the command's.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from harness.auth import ClientCredentials, CredentialsError
from harness.connect import OptionsError, TargetOptions, check_options
from harness.load.connections import read_connections
from harness.load.plan import PLAN_VARIABLE, Plan
from harness.load.profile import KINDS, Night, ProfileError, quick_night, read_night

from .common import UsageError, positive_int
from .district import add_district_options, prepare_district

DEFAULT_REPORT_DIR = "reports/load"
DEFAULT_USERS, DEFAULT_DURATION = 4, 60


def add_load_parser(commands: argparse._SubParsersAction) -> None:
    load = commands.add_parser(
        "load", help="a sync night: many vendors syncing at once (Locust), judged for "
        "correctness under load")
    load.add_argument("--profile", default=None, metavar="FILE",
                      help="sync-night profile (TOML): vendors of each kind, page sizes, "
                      "ramp-up, duration, window")
    load.add_argument("--users", type=positive_int, default=None,
                      help=f"without --profile: this many vendors, the kinds ({', '.join(KINDS)})"
                      f" dealt in turn (default {DEFAULT_USERS})")
    load.add_argument("--duration", type=positive_int, default=None, metavar="SECONDS",
                      help=f"without --profile: how long the night lasts (default "
                      f"{DEFAULT_DURATION})")
    load.add_argument("--page-size", type=positive_int, default=None,
                      help="without --profile: the full and delta syncs' page size "
                      "(default 100)")
    load.add_argument("--base-url", help="everything before /ims/oneroster")
    load.add_argument("--token-url", help="the OAuth 2.0 token URL")
    load.add_argument("--client-id")
    load.add_argument("--client-secret")
    load.add_argument("--connections", default=None, metavar="FILE",
                      help="one set of credentials per vendor ([[connection]] tables with "
                      "client_id, client_secret and an optional kind) instead of "
                      "--client-id/--client-secret")
    load.add_argument("--version", choices=("1.2", "1.1"), default="1.2")
    load.add_argument("--timeout", type=positive_int, default=30,
                      help="seconds to wait for one answer (default 30)")
    load.add_argument("--report-dir", default=DEFAULT_REPORT_DIR,
                      help="where results.json, junit.xml, report.html, night.json and "
                      f"Locust's CSV files go (default {DEFAULT_REPORT_DIR})")
    load.add_argument("--mock", action="store_true",
                      help="serve the embedded mock district (a connection per vendor) and "
                      "load it")
    load.add_argument("--mock-workers", type=positive_int, default=None, metavar="N",
                      help="with --mock: serve it with serve --workers N (default: the "
                      "profile's [mock] workers, else 1, inside this command)")
    distributed = load.add_argument_group("distributed (Locust master and workers)")
    distributed.add_argument("--master", action="store_true",
                             help="run the night as a Locust master; the workers send the load")
    distributed.add_argument("--expect-workers", type=positive_int, default=None, metavar="N",
                             help="with --master: start once N workers are connected "
                             "(default 1)")
    distributed.add_argument("--master-bind-host", default="127.0.0.1", metavar="HOST",
                             help="with --master: the address to listen on (default "
                             "127.0.0.1; 0.0.0.0 for workers on other machines)")
    distributed.add_argument("--master-port", type=_port, default=5557,
                             help="the master's port (default 5557)")
    distributed.add_argument("--worker", action="store_true",
                             help="run as a Locust worker of the master at --master-host")
    distributed.add_argument("--master-host", default=None, metavar="HOST",
                             help="with --worker: the master's address")
    distributed.add_argument("--worker-wait", type=positive_int, default=60, metavar="SECONDS",
                             help="how long a master waits for its workers, or a worker for "
                             "its master (default 60)")
    add_district_options(load)


def _port(text: str) -> int:
    value = positive_int(text)
    if value > 65_535:
        raise argparse.ArgumentTypeError(f"expected a port up to 65535, got {value}")
    return value


def _target_given(args: argparse.Namespace) -> list[str]:
    return [f"--{name.replace('_', '-')}" for name in (
        "base_url", "token_url", "client_id", "client_secret", "connections")
        if getattr(args, name)]


def _check_roles(args: argparse.Namespace) -> None:
    if args.worker:
        if args.master:
            raise UsageError("give --master or --worker, not both")
        if not args.master_host:
            raise UsageError("--worker needs --master-host (the master's address)")
        extra = [*_target_given(args)] + [flag for flag, given in (
            ("--profile", args.profile), ("--users", args.users), ("--mock", args.mock),
            ("--duration", args.duration), ("--expect-workers", args.expect_workers)) if given]
        if extra:
            raise UsageError(f"a worker takes the plan from its master; drop {extra[0]}")
        return
    if args.master_host:
        raise UsageError("--master-host is for --worker (a master listens on "
                         "--master-bind-host)")
    if args.expect_workers and not args.master:
        raise UsageError("--expect-workers applies to --master")


def night_for(args: argparse.Namespace) -> Night:
    if args.profile:
        given = [flag for flag, value in (("--users", args.users), ("--duration", args.duration),
                                          ("--page-size", args.page_size)) if value]
        if given:
            raise UsageError(f"{given[0]} is for runs without a profile: set it in "
                             f"{args.profile}")
        try:
            return read_night(Path(args.profile))
        except ProfileError as exc:
            raise UsageError(str(exc)) from None
    return quick_night(args.users or DEFAULT_USERS, args.duration or DEFAULT_DURATION,
                       args.page_size)


def _locust_installed() -> None:
    if importlib.util.find_spec("locust") is None:
        raise UsageError("load runs on Locust, which is not installed: "
                         "pip install 'oneroster-harness[load]'")


def _child(mode: str, args: argparse.Namespace, plan: Plan | None) -> list[str]:
    command = [sys.executable, "-m", "harness.load", "--mode", mode,
               "--master-port", str(args.master_port)]
    if mode == "worker":
        return [*command, "--master-host", args.master_host, "--worker-wait",
                str(args.worker_wait)]
    command += ["--report-dir", str(args.report_dir)]
    if mode == "master":
        command += ["--master-bind-host", args.master_bind_host, "--expect-workers",
                    str(args.expect_workers or 1), "--worker-wait", str(args.worker_wait)]
    return command


def _run(command: list[str], plan: Plan | None) -> int:
    env = dict(os.environ)
    if plan is not None:
        env[PLAN_VARIABLE] = plan.to_json()
    process = subprocess.Popen(command, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        # The child got the same Ctrl+C; let it write what it has.
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _district_flags(args: argparse.Namespace) -> tuple[str, ...]:
    flags = ["--seed", str(args.seed)]
    for name in ("size", "students", "quirks", "data_dir", "jobs"):
        value = getattr(args, name)
        if value is not None:
            flags += [f"--{name.replace('_', '-')}", str(value)]
    return tuple(flags)


def cmd_load(args: argparse.Namespace, console: Console) -> int:
    _check_roles(args)
    _locust_installed()
    if args.worker:
        return _run(_child("worker", args, None), None)
    night = night_for(args)
    options = TargetOptions(base_url=args.base_url, token_url=args.token_url,
                            client_id=args.client_id, client_secret=args.client_secret,
                            version=args.version, timeout=args.timeout)
    mode = "master" if args.master else "local"
    with ExitStack() as stack:
        try:
            if args.mock:
                given = _target_given(args)
                if given:
                    raise UsageError("--mock loads the embedded district with a connection "
                                     f"per vendor; drop {given[0]}")
                check_options(options, mock=True)
                plan = _mock_plan(args, night, console, stack)
            else:
                if args.mock_workers:
                    raise UsageError("--mock-workers applies to --mock")
                plan = Plan(args.base_url, args.token_url, args.version, night,
                            _credentials(args, options, night), float(args.timeout),
                            args.base_url)
        except OptionsError as exc:
            raise UsageError(str(exc)) from None
        _writable(Path(args.report_dir))
        if not args.mock:
            _first_contact(plan)
        console.print(f"vendors: {', '.join(f'{v.count} {v.kind}' for v in night.vendors)}",
                      markup=False, highlight=False)
        sys.stdout.flush()
        return _run(_child(mode, args, plan), plan)


def _writable(report_dir: Path) -> None:
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write reports to {report_dir}: {exc.strerror or exc}"
                         ) from None


def _first_contact(plan: Plan) -> None:
    """One token for each set of credentials before the night: a wrong URL or secret is one
    line now, not a night of failed syncs."""
    pairs = dict.fromkeys(pair for pool in plan.credentials.values() for pair in pool)
    for client_id, secret in pairs:
        flow = ClientCredentials(plan.token_url, client_id, secret, timeout=plan.timeout)
        try:
            flow.token()
        except CredentialsError as exc:
            raise UsageError(str(exc)) from None
        finally:
            flow.close()


def _credentials(args: argparse.Namespace, options: TargetOptions,
                 night: Night) -> dict[str, list[tuple[str, str]]]:
    """Each kind's client credentials: the file's, or the one pair given."""
    if not args.connections:
        check_options(options)
        return {"*": [(args.client_id, args.client_secret)]}
    if args.client_id or args.client_secret:
        raise UsageError("give --connections or --client-id/--client-secret, not both")
    check_options(replace(options, client_id="-", client_secret="-"))
    try:
        return read_connections(Path(args.connections), night)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None


def _mock_plan(args: argparse.Namespace, night: Night, console: Console,
               stack: ExitStack) -> Plan:
    from harness.load.mock import mock_district

    wanted = night.mock
    if args.size is None and args.students is None:
        args.size, args.students = wanted.get("size"), wanted.get("students")
    if "seed" in wanted and args.seed == 42:
        args.seed = int(wanted["seed"])
    workers = args.mock_workers or int(wanted.get("workers", 1))
    district = prepare_district(args, console).path
    try:
        mock = stack.enter_context(mock_district(
            night, district, workers, _district_flags(args), args.version,
            Path(args.report_dir) / "mock-serve.log"))
    except RuntimeError as exc:
        raise UsageError(f"the mock did not start: {exc}") from None
    console.print(f"mock district: {district} at {mock.base_url}"
                  + (f" (serve --workers {workers})" if workers > 1 else ""),
                  markup=False, highlight=False)
    return Plan(mock.base_url, mock.token_url, args.version, night, mock.credentials,
                float(args.timeout), f"embedded mock ({district.name})", mock.served)


__all__ = ["add_load_parser", "cmd_load", "night_for"]
