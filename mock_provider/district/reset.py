"""Reset: put a served district back to its generated state, whatever ticks, rollovers and
grade-book writes happened since.

The district is generated afresh from the seed, size and quirks its file records, then copied
over the live tables in one transaction, so readers see the old state or the new one, never a
mix.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

from ..editor import RecordEditor
from ..writer import in_transaction
from .build import DistrictSpec, build_district
from .quirks import parse_quirks


class ResetError(ValueError):
    """The file does not say which district it is, so it cannot be regenerated."""


def spec_of(meta: dict[str, str]) -> DistrictSpec:
    """The specification a district file was generated from."""
    match = re.search(r"-y(\d+)-", meta.get("key", ""))
    try:
        return DistrictSpec(seed=int(meta["seed"]), students=int(meta["students"]),
                            size=meta.get("size", "custom"),
                            quirks=parse_quirks(meta.get("quirks") or None),
                            school_year=int(match.group(1)) if match else
                            int(meta["school_year"]))
    except (KeyError, ValueError) as exc:
        raise ResetError(
            f"the district file does not record how it was generated ({exc})") from None


def reset_district(conn: sqlite3.Connection, path: Path) -> dict:
    """Regenerate the district of the file at ``path`` and replace its contents through the
    writer connection ``conn``. Returns the restored clock, school year and counts."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    spec = spec_of(meta)
    fresh = path.with_name(f".{path.name}.reset")
    fresh.unlink(missing_ok=True)
    # One process: the server's threads make forking generator workers unsafe here.
    build_district(spec, fresh, workers=1)
    conn.execute("ATTACH DATABASE ? AS fresh", (str(fresh),))
    try:
        in_transaction(conn, lambda c: RecordEditor(c).replace_all("fresh"))
    finally:
        conn.execute("DETACH DATABASE fresh")
        with contextlib.suppress(OSError):
            fresh.unlink()
    restored = dict(conn.execute("SELECT key, value FROM meta"))
    return {"clock": restored["clock"], "schoolYear": int(restored["school_year"]),
            "counts": json.loads(restored["counts"])}
