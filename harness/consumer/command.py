"""Running the consumer's command once: in its own process group (a timeout stops everything
it started), within a time limit, its output appended to the log. The last line it printed is
kept, secrets masked, so a judge can tell whether a failing run said why."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LAST_LINE = 200  # characters of the last line kept


@dataclass(frozen=True)
class CommandRun:
    exit_code: int | None  # None when it was stopped at the time limit
    timed_out: bool
    seconds: float
    output_bytes: int  # what this run printed (stdout and stderr), in bytes
    last_line: str  # its last non-empty line, secrets masked, at most LAST_LINE characters


def _last_line(output: bytes, secrets: Sequence[str]) -> str:
    lines = [line.strip() for line in output.decode("utf-8", "replace").splitlines()]
    last = next((line for line in reversed(lines) if line), "")
    for secret in secrets:
        if secret:
            last = last.replace(secret, "***")
    return last[:LAST_LINE]


def run_command(command: Sequence[str], env: Mapping[str, str], time_limit: float, log: Path,
                secrets: Sequence[str] = ()) -> CommandRun:
    """Run ``command`` once with ``env`` added to this process's environment."""
    began = time.monotonic()
    start = log.stat().st_size if log.exists() else 0
    code: int | None
    with log.open("ab") as out:
        try:
            process = subprocess.Popen(list(command), env={**os.environ, **env}, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            out.write(f"cannot start {command[0]}: {exc.strerror}\n".encode())
            process = None
            code, timed_out = 127, False
        if process is not None:
            try:
                code, timed_out = process.wait(timeout=time_limit), False
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                code, timed_out = None, True
    with log.open("rb") as written:
        written.seek(start)
        output = written.read()
    return CommandRun(code, timed_out, round(time.monotonic() - began, 3), len(output),
                      _last_line(output[-4096:], secrets))
