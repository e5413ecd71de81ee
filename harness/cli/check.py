"""``check provider`` and ``check consumer``: the conformance checks, against a provider at a
URL (or the embedded mock) and against a consumer's sync under a scenario."""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from harness.auth import SIGNATURE_CHOICES
from harness.connect import OptionsError, TargetOptions, check_options, open_target
from harness.consumer.certify import Certification, certify, judge_recording
from harness.consumer.recording import RecordingError
from harness.consumer.roster import RosterError
from harness.consumer.scenarios import SCENARIOS, Scenario, scenarios_for
from harness.embedded import running_mock
from harness.profiles import PROFILES
from harness.report import write_all
from harness.report.console import print_summary
from harness.runner import run_checks, select
from harness.target import MAX_CONCURRENCY, Target, TargetError
from mock_provider.store import copy_district

from .common import Parser, UsageError, interactive, positive_int
from .district import add_district_options, prepare_district


def add_check_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser("check", help="check a OneRoster provider's conformance")
    kinds = check.add_subparsers(dest="kind", metavar="KIND", parser_class=Parser)
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
    provider.add_argument("--signature-method", default=None, choices=SIGNATURE_CHOICES,
                          help="with --oauth1: auto (the default: HMAC-SHA256 as OneRoster 1.1 "
                          "asks, HMAC-SHA1 when that is refused, reported by OR-AUTH-009), "
                          "HMAC-SHA256 or HMAC-SHA1")
    provider.add_argument("--scope", default=None, metavar='"URI URI ..."',
                          help="the scopes to ask the token URL for (space-separated; \"\" "
                          "for none); default: the OneRoster scopes of the services checked")
    provider.add_argument("--vendor-key", default=None, metavar="KEY:SECRET",
                          help="Infinite Campus x-vendor-authorization for grade-book calls")
    provider.add_argument("--profile", default="spec",
                          help="comma-separated: " + ", ".join(PROFILES) + " (default spec)")
    provider.add_argument("--concurrency", type=positive_int, default=1,
                          help=f"requests at once, 1 to {MAX_CONCURRENCY} (default 1)")
    provider.add_argument("--only", default=None, metavar="IDS",
                          help="comma-separated check ids or prefixes (e.g. OR-PAGE)")
    provider.add_argument("--report-dir", default="reports",
                          help="where results.json, junit.xml and report.html go")
    provider.add_argument("--max-requests", type=positive_int, default=2_000,
                          help="stop requesting after this many (default 2000)")
    provider.add_argument("--max-seconds", type=positive_int, default=600,
                          help="skip the checks not started after this long (default 600)")
    provider.add_argument("--timeout", type=positive_int, default=10,
                          help="seconds to wait for one answer (default 10)")
    provider.add_argument("--mock", action="store_true",
                          help="start the embedded mock district and check it")
    add_district_options(provider)
    _add_consumer_parser(kinds)


def _add_consumer_parser(kinds: argparse._SubParsersAction) -> None:
    consumer = kinds.add_parser(
        "consumer", help="run a consumer's sync against the mock under a scenario and judge it")
    consumer.add_argument("--scenario", default="full-sync",
                          help="one of " + ", ".join([*SCENARIOS, "all"]) + " (default full-sync)")
    consumer.add_argument("--report-dir", default="reports",
                          help="reports go to REPORT_DIR/consumer-<scenario>/")
    consumer.add_argument("--time-limit", type=positive_int, default=600,
                          help="seconds one run of the command may take (default 600)")
    consumer.add_argument("--result", default=None, metavar="FILE",
                          help="the roster the consumer writes (JSON or CSV), compared with "
                          "the district; passed to it as ONEROSTER_RESULT_FILE")
    consumer.add_argument("--recording", default=None, metavar="FILE",
                          help="judge this recording instead of running anything")
    consumer.add_argument("consumer_command", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                          help="the consumer to run; without it, serve until Ctrl+C")
    add_district_options(consumer)


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    if args.kind == "consumer":
        return cmd_check_consumer(args, console)
    try:
        checks = select(args.only, args.profile)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    options = TargetOptions(
        base_url=args.base_url, token_url=args.token_url, client_id=args.client_id,
        client_secret=args.client_secret, token=args.token, oauth1=args.oauth1,
        signature_method=args.signature_method, scope=args.scope, vendor_key=args.vendor_key,
        version=args.version, timeout=args.timeout, max_requests=args.max_requests,
        concurrency=args.concurrency)
    try:
        if args.mock:
            if args.base_url or args.token_url or args.token or args.oauth1 or \
                    args.signature_method:
                raise UsageError("--mock checks the embedded district with its own "
                                 "credentials; drop --base-url/--token-url/--token/--oauth1"
                                 + ("/--signature-method" if args.signature_method else ""))
            check_options(options, mock=True)
            district = prepare_district(args, console).path
            # The grade-book checks write (and delete) records of their own: on a copy, so the
            # cached file stays the generated district.
            with tempfile.TemporaryDirectory(prefix=".check-", dir=district.parent) as scratch, \
                    running_mock(copy_district(district, Path(scratch) / district.name)) as mock:
                target = open_target(replace(
                    options, base_url=mock.base_url, token_url=mock.token_url,
                    client_id=mock.client_id, client_secret=mock.client_secret))
                return _check_target(target, checks, args, console)
        return _check_target(open_target(options), checks, args, console)
    except OptionsError as exc:
        raise UsageError(str(exc)) from None


def _check_target(target: Target, checks: list, args: argparse.Namespace,
                  console: Console) -> int:
    for note in target.notes:  # said before a run that may take minutes
        console.print(note, markup=False, highlight=False)
    try:
        if interactive(console):
            with Progress(TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task("checking", total=len(checks))

                def progress(check) -> None:
                    bar.update(task, description=f"{check.id} {check.title[:50]}",
                               completed=checks.index(check))

                summary = run_checks(target, checks, progress, args.max_seconds, args.seed,
                                     profile=args.profile)
        else:
            summary = run_checks(target, checks, max_seconds=args.max_seconds, seed=args.seed,
                                 profile=args.profile)
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


__all__ = ["add_check_parser", "cmd_check", "cmd_check_consumer"]
