"""The plan behind OR-AUTH-011 (the scope table): which rostering reads to ask with which
single-scope token, and the real ids that fill their paths.

For every rostering read operation of the version (``harness.oneroster.scopes``), one request
per documented scope with a token that holds only that scope (it must open the read), and one
with a token that holds none of them (it must be refused with 403). The token "with none of
them" is the widest single-scope token outside the operation's list: ``roster.readonly`` for
demographics, ``roster-core.readonly`` for the nested reads, ``roster-demographics.readonly``
for the core ones, so the refusal tested is the one a provider is likeliest to get wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from ..oneroster import scopes
from .context import Context

_PARAM = re.compile(r"\{(\w+)\}")
# A path parameter -> the collection whose first page supplies its value.
SOURCES = {"schoolSourcedId": "schools", "classSourcedId": "classes",
           "courseSourcedId": "courses", "studentSourcedId": "students",
           "teacherSourcedId": "teachers", "termSourcedId": "terms",
           "userSourcedId": "users"}
# For "the token with none of the operation's scopes": the widest first.
NONE_PREFERENCE = (scopes.ROSTER, scopes.CORE, scopes.DEMOGRAPHICS)


@dataclass(frozen=True)
class Ask:
    """One request of the table: ``path`` (real ids in it) asked with a token holding only
    ``scope``; ``opens`` says whether that scope is one of the operation's."""

    template: str
    path: str
    scope: str
    opens: bool


def plan(ctx: Context, tokens: dict[str, str]) -> tuple[list[Ask], list[str]]:
    """Every (read, token) pair the held ``tokens`` (scope URI -> token) allow, and the reads
    left out (no id for a parameter)."""
    asks: list[Ask] = []
    left_out: list[str] = []
    ids: dict[str, str | None] = {}
    for read in scopes.rostering_reads(ctx.version):
        path = _fill(ctx, read.path, ids)
        if path is None:
            left_out.append(read.path)
            continue
        asks += [Ask(read.path, path, s, True) for s in sorted(read.scopes) if s in tokens]
        outside = _outside(read.scopes, tokens, ctx.version)
        if outside is not None:
            asks.append(Ask(read.path, path, outside, False))
    return asks, left_out


def _outside(required: frozenset[str], tokens: dict[str, str], version: str) -> str | None:
    candidates = [s for s in tokens if s not in required]
    order = [scopes.uri(name, version) for name in NONE_PREFERENCE]
    candidates.sort(key=lambda s: order.index(s) if s in order else len(order))
    return candidates[0] if candidates else None


def _first_id(ctx: Context, collection: str) -> str | None:
    body = ctx.first_page(collection).json()
    records = next(iter(body.values()), None) if isinstance(body, dict) and body else None
    if isinstance(records, list) and records and isinstance(records[0], dict):
        sid = records[0].get("sourcedId")
        return sid if isinstance(sid, str) else None
    return None


def _fill(ctx: Context, template: str, ids: dict[str, str | None]) -> str | None:
    """The template with a real id for each parameter (None when one cannot be had)."""
    values: dict[str, str] = {}
    for name in _PARAM.findall(template):
        collection = SOURCES.get(name) or template.strip("/").split("/")[0]
        if collection not in ids:
            ids[collection] = _first_id(ctx, collection)
        value = ids[collection]
        if value is None:
            return None
        values[name] = quote(value, safe="")
    return _PARAM.sub(lambda m: values[m.group(1)], template)


__all__ = ["Ask", "plan"]
