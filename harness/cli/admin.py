"""``tick``, ``rollover`` and ``reset``: drive a running mock through its /admin routes."""

from __future__ import annotations

import argparse
import json
import os

from rich.console import Console
from rich.table import Table

from .common import UsageError, positive_int


def add_admin_parsers(commands: argparse._SubParsersAction) -> None:
    tick = _admin_command(
        commands, "tick", "advance a running mock's district clock, applying realistic changes")
    tick.add_argument("--days", type=positive_int, default=1, help="days to advance (default 1)")
    _admin_command(commands, "rollover",
                   "move a running mock to the next school year, as Infinite Campus does")
    _admin_command(commands, "reset", "put a running mock's district back to its generated state")


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


__all__ = ["add_admin_parsers", "cmd_reset", "cmd_rollover", "cmd_tick"]
