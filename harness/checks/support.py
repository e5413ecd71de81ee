"""Small helpers shared by the check modules."""

from __future__ import annotations

from specs import validator

from ..target import Exchange
from . import Walk

EXAMPLES = 3  # offending ids named in a message
MAX_EVIDENCE = 3  # exchanges attached to a finding


def few(items: list[str], limit: int = EXAMPLES) -> str:
    """The first few of ``items`` and how many more there are."""
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def evidence(*exchanges: Exchange | None) -> list[Exchange]:
    """Distinct exchanges in order, at most MAX_EVIDENCE."""
    chosen: list[Exchange] = []
    for exchange in exchanges:
        if exchange is not None and all(exchange is not c for c in chosen):
            chosen.append(exchange)
    return chosen[:MAX_EVIDENCE]


def ref_id(value: object) -> str | None:
    """The sourcedId of a GUIDRef, or None when ``value`` is not one."""
    if isinstance(value, dict) and isinstance(value.get("sourcedId"), str):
        return value["sourcedId"]
    return None


def by_id(walk: Walk) -> dict[str, dict]:
    """The walk's records by sourcedId."""
    return {r["sourcedId"]: r for r in walk.records if isinstance(r.get("sourcedId"), str)}


def index_of(walk: Walk) -> dict[str, int]:
    """Each sourcedId's position in the walk (for ``Walk.exchange_for``)."""
    return {r["sourcedId"]: i for i, r in enumerate(walk.records)
            if isinstance(r.get("sourcedId"), str)}


def code_minor(body: object, version: str) -> str | None:
    """The codeMinor of a status payload (1.2 imsx_StatusInfoDType, 1.1 statusInfoSet[0])."""
    try:
        if version == "1.2":
            return body["imsx_CodeMinor"]["imsx_codeMinorField"][0][  # type: ignore[index]
                "imsx_codeMinorFieldValue"]
        return body["statusInfoSet"][0]["imsx_codeMinor"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None


def status_payload_errors(exchange: Exchange, version: str) -> list[str]:
    """Why the body is not the version's status payload (empty when it is one)."""
    name = "imsx_StatusInfoDType" if version == "1.2" else "statusInfoSet"
    return [e.message for e in validator(version, name).iter_errors(exchange.json())]
