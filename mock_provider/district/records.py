"""Small helpers that give generated records their OneRoster wire form.

References are stored with a service token in place of the server's base URL (``~R`` for
rostering, ``~G`` for gradebook, ``~X`` for resources), so one stored JSON text serves 1.1 and
1.2 and any host or URL prefix: the server swaps the tokens for absolute URLs per page.
"""

from __future__ import annotations

import json
import random
import time
import uuid

REF_SERVICE = {
    "org": ("~R", "orgs"),
    "user": ("~R", "users"),
    "class": ("~R", "classes"),
    "course": ("~R", "courses"),
    "academicSession": ("~R", "academicSessions"),
    "category": ("~G", "categories"),
    "lineItem": ("~G", "lineItems"),
    "scoreScale": ("~G", "scoreScales"),
    "assessmentLineItem": ("~G", "assessmentLineItems"),
    "resource": ("~X", "resources"),
}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


def dumps(obj: object) -> str:
    return _dumps(obj)


def ref(kind: str, sourced_id: str) -> dict[str, str]:
    token, collection = REF_SERVICE[kind]
    return {"href": f"{token}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def new_id(rng: random.Random) -> str:
    """A version-4 GUID drawn from ``rng`` (deterministic, unlike ``uuid.uuid4``)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def timestamp(epoch_seconds: float) -> str:
    """An ISO 8601 UTC date-time with a ``Z`` zone, second precision."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def flag(value: bool) -> str:
    """OneRoster booleans travel as the strings "true" and "false"."""
    return "true" if value else "false"
