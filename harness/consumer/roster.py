"""The roster a consumer hands back (``--result``): what it believes the district holds.

JSON: ``{"users": [{"sourcedId": "...", "status": "active"}, ...], "classes": [...]}`` where a
record may also be just its sourcedId (then it counts as active). CSV: one file with a
``sourcedId`` column and optionally ``status``; the file's name says the collection
(``users.csv``), and a name that is not a collection means users.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from .session import ROSTER_TABLES

Roster = dict[str, dict[str, str]]


class RosterError(Exception):
    """A result file that cannot be read: one line naming the file and the problem."""


def _from_json(path: Path, text: str) -> Roster:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RosterError(f"{path} is not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise RosterError(f"{path} must hold an object of collections, e.g. "
                          '{"users": [{"sourcedId": ..., "status": ...}]}')
    roster: Roster = {}
    for collection, records in data.items():
        if not isinstance(records, list):
            raise RosterError(f"{path}: {collection!r} must be a list of records")
        entries: dict[str, str] = {}
        for record in records:
            if isinstance(record, str):
                entries[record] = "active"
            elif isinstance(record, dict) and isinstance(record.get("sourcedId"), str):
                entries[record["sourcedId"]] = str(record.get("status", "active"))
            else:
                raise RosterError(f"{path}: every {collection} entry needs a sourcedId")
        roster[collection] = entries
    return roster


def _from_csv(path: Path, text: str) -> Roster:
    rows = list(csv.DictReader(text.splitlines()))
    if not rows or "sourcedId" not in rows[0]:
        raise RosterError(f"{path} needs a header row with a sourcedId column")
    collection = path.stem if path.stem in ROSTER_TABLES else "users"
    return {collection: {row["sourcedId"]: row.get("status") or "active" for row in rows}}


def load_roster(path: str | Path) -> Roster:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RosterError(f"the consumer wrote no result file at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read {path}: {exc}") from None
    return _from_csv(path, text) if path.suffix.lower() == ".csv" else _from_json(path, text)
