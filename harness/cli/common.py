"""What every command family of the command line shares: the usage error, the parser that
raises it, and the argument types."""

from __future__ import annotations

import argparse
import os
from typing import NoReturn

from rich.console import Console

PROG = "oneroster-harness"


class UsageError(Exception):
    """A bad argument or configuration: reported in one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def interactive(console: Console) -> bool:
    return console.is_terminal and not os.environ.get("CI")


__all__ = ["PROG", "Parser", "UsageError", "interactive", "positive_int", "whole_number"]
