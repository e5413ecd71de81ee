"""The consumer verdicts on a recording still being written, for the inspector's Syncs page:
the same judgement as ``check consumer --recording``, on what has happened so far."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..report.console import verdict_line
from .judge import judge
from .recording import RecordingError, load


def verdicts_so_far(path: Path) -> dict[str, Any]:
    """``verdict`` (one line), ``conformant`` and ``results`` (id, title, severity, status,
    message per check); ``error`` instead when the recording cannot be read."""
    try:
        summary = judge(load(path))
    except RecordingError as exc:
        return {"error": str(exc)}
    return {"verdict": verdict_line(summary), "conformant": summary.conformant,
            "results": [{"id": r.id, "title": r.title, "severity": r.severity,
                         "status": r.status, "message": r.message} for r in summary.results]}


__all__ = ["verdicts_so_far"]
