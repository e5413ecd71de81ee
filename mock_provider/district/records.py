"""Small helpers that give generated records their OneRoster wire form."""

from __future__ import annotations

import random
import time

from ..editor import dumps
from ..refs import ref, ref_id, ref_json

__all__ = ["dumps", "enrollment", "flag", "new_id", "ref", "ref_id", "ref_json", "timestamp"]


_VARIANT = "89ab89ab89ab89ab"


def new_id(rng: random.Random) -> str:
    """A version-4 GUID drawn from ``rng`` (deterministic, unlike ``uuid.uuid4``)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:]}"


_DAYS: dict[int, str] = {}


def timestamp(epoch_seconds: float) -> str:
    """An ISO 8601 UTC date-time with a ``Z`` zone, second precision."""
    day, seconds = divmod(int(epoch_seconds), 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = time.strftime("%Y-%m-%d", time.gmtime(day * 86400))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{date}T{hours:02d}:{minutes:02d}:{secs:02d}Z"


def flag(value: bool) -> str:
    """OneRoster booleans travel as the strings "true" and "false"."""
    return "true" if value else "false"


def enrollment(eid: str, dlm: str, user_id: str, class_id: str, school_id: str, role: str,
               primary: str | None, begin: str, end: str) -> dict[str, object]:
    """An active enrollment written after generation (a tick, a rollover), in its 1.2 form."""
    obj: dict[str, object] = {
        "sourcedId": eid, "status": "active", "dateLastModified": dlm,
        "user": ref("user", user_id), "class": ref("class", class_id),
        "school": ref("org", school_id), "role": role,
    }
    if primary is not None:
        obj["primary"] = primary
    obj["beginDate"] = begin
    obj["endDate"] = end
    return obj
