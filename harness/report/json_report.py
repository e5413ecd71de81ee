"""results.json: the whole run as data, in a fixed key order."""

from __future__ import annotations

import json
from pathlib import Path

from harness.model import RunSummary


def summary_to_dict(summary: RunSummary) -> dict:
    return {
        "target": summary.target,
        "version": summary.version,
        "seconds": summary.seconds,
        "started": summary.started,
        "profile": summary.profile,
        "seed": summary.seed,
        "counts": summary.counts(),
        "conformant": summary.conformant,
        "results": [result.to_dict() for result in summary.results],
    }


def write_json(summary: RunSummary, path: str | Path) -> Path:
    path = Path(path)
    text = json.dumps(summary_to_dict(summary), indent=2, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
