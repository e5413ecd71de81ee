"""``explain``: what a check means and how to fix it, or the list of every check."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from harness.checks import CHECKS
from harness.consumer.judge import CONSUMER_CHECKS, RULES_V11
from harness.load.verdicts import EXPLANATIONS, RULES, TITLES

from .common import UsageError


def add_explain_parser(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser("explain", help="what a check means and how to fix it")
    explain.add_argument("check_id", nargs="?", metavar="ID",
                         help="a check id; without it, list every check")


def cmd_explain(args: argparse.Namespace, console: Console) -> int:
    if args.check_id is None:
        table = Table(title="Checks")
        for column in ("id", "severity", "title"):
            table.add_column(column)
        for found in [*CHECKS.values(), *CONSUMER_CHECKS.values()]:
            table.add_row(found.id, found.severity, found.title)
        for check_id, title in TITLES.items():  # the sync night's verdicts (`load`)
            table.add_row(check_id, "error", title)
        console.print(table)
        return 0
    wanted = args.check_id.strip().upper()
    if wanted in TITLES:
        console.print(f"{wanted} (error): {TITLES[wanted]}", markup=False)
        console.print(f"rule: {RULES[wanted]}", markup=False)
        console.print(f"a verdict of `oneroster-harness load`: {EXPLANATIONS[wanted]}",
                      markup=False)
        return 0
    found = CHECKS.get(wanted) or CONSUMER_CHECKS.get(wanted)
    if found is None:
        raise UsageError(f"unknown check {args.check_id!r}; `oneroster-harness explain` lists "
                         "them")
    console.print(f"{found.id} ({found.severity}): {found.title}", markup=False)
    console.print(f"rule: {found.rule}", markup=False)
    if found.id in RULES_V11:
        console.print(f"rule in OneRoster 1.1: {RULES_V11[found.id]}", markup=False)
    # The docstrings mark code as ``code`` (reStructuredText); a terminal shows it as `code`.
    console.print(found.explanation.replace("``", "`"), markup=False)
    return 0


__all__ = ["add_explain_parser", "cmd_explain"]
