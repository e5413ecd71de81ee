"""What the provider exposes beyond the 22 core operations: every rostering GET of the 1.2
document, asked with real ids, and each one that answers checked against its schema."""

from __future__ import annotations

import re
from typing import Any

from specs import openapi, validator

from ..engine import Finding, Outcome, passed
from ..target import Exchange
from .context import Context, answered
from .support import check

_PARAM = re.compile(r"\{(\w+)\}")
# Path parameter -> the core collection whose first record supplies it.
SOURCES = {"schoolSourcedId": "schools", "classSourcedId": "classes",
           "courseSourcedId": "courses", "studentSourcedId": "students",
           "teacherSourcedId": "teachers", "termSourcedId": "terms",
           "userSourcedId": "users"}
# A single record's path: the collection its own id comes from.
SINGLE_SOURCES = {"academicSessions": "academicSessions", "classes": "classes",
                  "courses": "courses", "demographics": "demographics",
                  "enrollments": "enrollments", "gradingPeriods": "gradingPeriods",
                  "orgs": "orgs", "schools": "schools", "students": "students",
                  "teachers": "teachers", "terms": "terms", "users": "users"}
NOT_OFFERED = (404, 405, 501)


def operations() -> list[tuple[str, str]]:
    """(path template, response schema name) of every rostering GET in the 1.2 document."""
    found = []
    for path, methods in openapi("rostering")["paths"].items():
        answer = methods.get("get", {}).get("responses", {}).get("200", {})
        ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get(
            "$ref", "")
        if ref:
            found.append((path, ref.rsplit("/", 1)[-1]))
    return found


def _first_id(ctx: Context, collection: str) -> str | None:
    exchange = ctx.target.get(f"/{collection}", {"limit": 1})
    body = exchange.json()
    records = next(iter(body.values()), None) if isinstance(body, dict) else None
    if exchange.status == 200 and isinstance(records, list) and records:
        return records[0].get("sourcedId") if isinstance(records[0], dict) else None
    return None


def _fill(ctx: Context, template: str, ids: dict[str, str | None]) -> str | None:
    """The path with real ids in place of its parameters, None when one cannot be had."""
    def source(name: str) -> str:
        if name == "sourcedId":
            return SINGLE_SOURCES.get(template.strip("/").split("/")[0], "")
        return SOURCES.get(name, "")

    values = {}
    for name in _PARAM.findall(template):
        collection = source(name)
        if collection not in ids:
            ids[collection] = _first_id(ctx, collection) if collection else None
        if ids[collection] is None:
            return None
        values[name] = ids[collection]
    return _PARAM.sub(lambda m: str(values[m.group(1)]), template)


def _problems(exchange: Exchange, schema: str, version: str) -> list[str]:
    body: Any = exchange.json()
    if version != "1.2":
        return [] if isinstance(body, dict) and len(body) >= 1 else ["the answer is not an object"]
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
            for e in validator("1.2", schema).iter_errors(body)][:3]


@check("OR-DISC-001", "Every rostering operation the provider offers answers as documented",
       "OneRoster 1.2 Rostering REST binding: the 41 read operations")
def offered_operations(ctx: Context) -> Outcome:
    """Beyond the 22 core operations, a provider may offer the nested ones
    (``/schools/{id}/classes``, ``/terms/{id}/gradingPeriods``, ``/users/{id}/classes``...).
    Each of the 41 is asked with real ids; one that answers 404/405/501 is not offered (fine
    unless it is core), one that answers 200 must match its schema, anything else is a
    finding."""
    ids: dict[str, str | None] = {}
    offered, absent, broken = [], [], []
    last: Exchange | None = None
    for template, schema in operations():
        path = _fill(ctx, template, ids)
        if path is None:
            absent.append(f"{template} (no id to ask with)")
            continue
        exchange = ctx.target.get(path, {"limit": 5} if schema.endswith("SetDType") else None)
        last = exchange
        if exchange.status in NOT_OFFERED:
            absent.append(template)
        elif exchange.status != 200:
            broken.append((template, f"{answered(exchange)}", exchange))
        else:
            problems = _problems(exchange, schema, ctx.target.version)
            if problems:
                broken.append((template, "; ".join(problems), exchange))
            else:
                offered.append(template)
    if broken:
        template, why, _ = broken[0]
        raise Finding(f"{len(broken)} offered operation(s) misbehave; {template}: {why}",
                      *(e for _, _, e in broken[:5]))
    message = f"{len(offered)} of {len(offered) + len(absent)} operations answer as documented"
    if absent:
        message += f"; not offered: {', '.join(absent[:8])}" + (
            f" and {len(absent) - 8} more" if len(absent) > 8 else "")
    return passed(message, *([last] if last else []))
