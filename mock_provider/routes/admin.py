"""Admin routes: drive the district's simulated clock over HTTP.

* ``POST /admin/tick`` moves the clock ``days`` forward (query ``?days=N``, a JSON body
  ``{"days": N}`` or a form body ``days=N``; 1 by default) and answers the tick report.
* ``POST /admin/rollover`` rolls the district over to its next school year (no parameters;
  an empty body or ``{}``) and answers the rollover report (see
  ``mock_provider.district.rollover``). When the clock is already at or past the new year's
  rollover moment (07:00Z the day before its first day) it answers 409 ``invaliddata`` and
  changes nothing: the clock never moves back.
* ``POST /admin/reset`` (no parameters) regenerates the district from its seed, size and
  quirks and puts it in place of the served one, undoing ticks, rollovers and grade-book
  writes (see ``mock_provider.district.reset``).
* ``GET /admin/clock`` answers ``{"clock": "YYYY-MM-DDTHH:MM:SSZ"}``.

They are off unless the app has an admin token (``MockState.admin_token``); off, every path
under ``/admin`` answers 404 ``unknownobject`` as if it did not exist. On, a request needs
``Authorization: Bearer <admin token>`` (OAuth tokens of the OneRoster connections do not
count) or gets 401 ``unauthorisedrequest``. Bad input is 400 ``invaliddata`` naming the value.

Ticks write through their own writer connection to the store's file, one at a time in this
process (a lock) and across server processes (SQLite's IMMEDIATE write lock); the read-only
store connection the rostering routes use sees each tick whole once it commits (WAL).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from ..bodies import BodyError, loads_strict, read_body
from ..district.reset import ResetError, reset_district
from ..district.rollover import RolloverConflict, RolloverError, RolloverReport, advance_year
from ..district.tick import MAX_DAYS, TickError, TickReport, advance, read_clock
from ..errors import OneRosterError
from ..state import MockState, shared
from ..writer import open_writer

log = logging.getLogger("mock_provider.admin")
T = TypeVar("T")

PREFIX = "/admin"
REALM = 'Bearer realm="oneroster-admin"'
MAX_BODY = 16 * 1024
_DIGITS = re.compile(r"[0-9]{1,9}")
# One write (tick or rollover) at a time in this process; other processes wait on SQLite's
# write lock.
_TICK_LOCK = threading.Lock()
_ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _bad(description: str) -> OneRosterError:
    return OneRosterError(400, "invaliddata", description)


def admin_token_matches(supplied: str, expected: str) -> bool:
    """Constant-time comparison of a supplied admin token with the configured one."""
    return hmac.compare_digest(supplied.strip().encode(), expected.encode())


def _guard(request: Request, methods: tuple[str, ...]) -> None:
    """404 when admin is off, 401 without the admin token, 405 for another method."""
    expected = shared(request).admin_token
    if not expected:
        raise OneRosterError(404, "unknownobject",
                             f"Unknown Object: no endpoint at {request.url.path}")
    header = request.headers.get("authorization")
    if header is None:
        raise OneRosterError(401, "unauthorisedrequest",
                             "the admin routes need an Authorization: Bearer <admin token> "
                             "header", headers={"WWW-Authenticate": REALM})
    scheme, _, supplied = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not admin_token_matches(supplied, str(expected)):
        raise OneRosterError(401, "unauthorisedrequest", "the admin token is not valid",
                             headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'})
    if request.method not in methods:
        raise OneRosterError(405, "invaliddata",
                             f"method {request.method} is not allowed on {request.url.path}",
                             headers={"Allow": ", ".join(methods)})


def _days_text(text: str, where: str) -> int:
    if not _DIGITS.fullmatch(text):
        raise _bad(f"days {where} must be a whole number from 1 to {MAX_DAYS}, got {text!r}")
    days = int(text)
    if not 1 <= days <= MAX_DAYS:
        raise _bad(f"days {where} must be from 1 to {MAX_DAYS}, got {text!r}")
    return days


def _days_from_items(items: list[tuple[str, str]], where: str) -> int | None:
    unknown = sorted({key for key, _ in items if key != "days"})
    if unknown:
        raise _bad(f"unknown parameter {unknown[0]!r} {where}; the only one is 'days'")
    values = [value for _, value in items]
    if len(values) > 1:
        raise _bad(f"days is given {len(values)} times {where} ({', '.join(map(repr, values))});"
                   " give it once")
    return _days_text(values[0], where) if values else None


def _days_from_json(body: bytes) -> int | None:
    try:
        payload = loads_strict(body)
    except BodyError as exc:
        raise _bad(f"{exc.message}: {body[:80]!r}") from None
    if not isinstance(payload, dict):
        raise _bad(f"the request body must be a JSON object like {{\"days\": 7}}, got "
                   f"{json.dumps(payload)[:80]}")
    unknown = sorted(key for key in payload if key != "days")
    if unknown:
        raise _bad(f"unknown field {unknown[0]!r} in the request body; the only one is 'days'")
    if "days" not in payload:
        return None
    days = payload["days"]
    if isinstance(days, str):
        return _days_text(days, "in the request body")
    if isinstance(days, bool) or not isinstance(days, int):
        raise _bad(f"days in the request body must be a whole number from 1 to {MAX_DAYS}, "
                   f"got {json.dumps(days)}")
    if not 1 <= days <= MAX_DAYS:
        raise _bad(f"days in the request body must be from 1 to {MAX_DAYS}, got {days}")
    return days


async def _days(request: Request) -> int:
    from_query = _days_from_items(request.query_params.multi_items(), "in the query")
    body = await read_body(request, MAX_BODY)
    from_body = None
    if body.strip():
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            try:
                items = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
            except (UnicodeDecodeError, ValueError):
                raise _bad(f"the form body cannot be read: {body[:80]!r}") from None
            from_body = _days_from_items(items, "in the form body")
        else:
            from_body = _days_from_json(body)
    if from_query is not None and from_body is not None:
        raise _bad("days is given both in the query and in the body; give it once")
    for days in (from_query, from_body):
        if days is not None:
            return days
    return 1


def _failed(exc: Exception, what: str = "tick") -> OneRosterError:
    log.error("the %s failed and was rolled back", what, exc_info=exc)
    return OneRosterError(500, "internal_server_error",
                          f"the {what} failed and was rolled back, the district is unchanged "
                          f"({type(exc).__name__}: {exc})")


def _with_writer(path: Path, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``work`` on a fresh writer connection, one admin write at a time in this process."""
    with _TICK_LOCK:
        conn = open_writer(path)
        try:
            return work(conn)
        finally:
            conn.close()


async def _write(state: MockState, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run an admin write off the event loop; a busy file is 503, anything unexpected 500.
    Callers turn their own domain errors (bad input, conflicts) into 4xx first."""
    try:
        return await run_in_threadpool(_with_writer, state.store.path, work)
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise OneRosterError(503, "server_busy",
                                 f"another writer holds the district file; try the {what} "
                                 "again", headers={"Retry-After": "1"}) from None
        raise _failed(exc, what) from None
    except (TickError, RolloverError, ResetError):
        raise
    except Exception as exc:
        raise _failed(exc, what) from None


async def run_tick(state: MockState, days: int) -> dict[str, object]:
    """Move the served district's clock ``days`` forward; the tick report (as the route
    answers it). OneRosterError for bad input or a failed write."""
    try:
        report: TickReport = await _write(state, "tick", lambda conn: advance(conn, days))
    except TickError as exc:
        raise _bad(str(exc)) from None
    state.store.meta["clock"] = report.new_clock
    return report.to_dict()


async def run_rollover(state: MockState) -> dict[str, object]:
    """Roll the served district over to its next school year; the rollover report."""
    try:
        report: RolloverReport = await _write(state, "rollover", advance_year)
    except RolloverConflict as exc:
        raise OneRosterError(409, "invaliddata", str(exc)) from None
    except RolloverError as exc:
        raise _bad(str(exc)) from None
    state.store.meta["clock"] = report.new_clock
    state.store.meta["school_year"] = str(report.new_school_year)
    return report.to_dict()


async def run_reset(state: MockState) -> dict[str, object]:
    """Regenerate the served district from its seed; the reset report."""
    store = state.store
    try:
        report = await _write(state, "reset", lambda conn: reset_district(conn, store.path))
    except ResetError as exc:
        raise _bad(str(exc)) from None
    store.meta.update(dict(store.conn.execute("SELECT key, value FROM meta")))
    return report


async def tick(request: Request) -> Response:
    _guard(request, ("POST",))
    days = await _days(request)
    return JSONResponse(await run_tick(shared(request), days))


async def _no_parameters(request: Request) -> None:
    """A rollover takes no parameters: no query, and a body that is empty or ``{}``."""
    names = sorted({key for key, _ in request.query_params.multi_items()})
    if names:
        raise _bad(f"unknown parameter {names[0]!r} in the query; this route takes none")
    body = (await read_body(request, MAX_BODY)).strip()
    if not body:
        return
    try:
        payload = loads_strict(body)
    except BodyError:
        raise _bad(f"the request body must be empty or {{}}, got {body[:80]!r}") from None
    if payload != {}:
        raise _bad(f"the request body must be empty or {{}}; a rollover takes no parameters, "
                   f"got {json.dumps(payload)[:80]}")


async def rollover(request: Request) -> Response:
    _guard(request, ("POST",))
    await _no_parameters(request)
    return JSONResponse(await run_rollover(shared(request)))


async def reset(request: Request) -> Response:
    _guard(request, ("POST",))
    await _no_parameters(request)
    return JSONResponse(await run_reset(shared(request)))


async def clock(request: Request) -> Response:
    _guard(request, ("GET", "HEAD"))
    return JSONResponse({"clock": read_clock(shared(request).store.conn)})


def admin_routes() -> list[BaseRoute]:
    """The ``/admin`` mount. Every method reaches the endpoints, which decide 404/401/405
    themselves so that a disabled admin leaks nothing, not even which methods exist."""
    return [Mount(PREFIX, routes=[
        Route("/tick", tick, methods=_ALL_METHODS),
        Route("/rollover", rollover, methods=_ALL_METHODS),
        Route("/reset", reset, methods=_ALL_METHODS),
        Route("/clock", clock, methods=_ALL_METHODS),
    ])]


__all__ = ["PREFIX", "admin_routes", "admin_token_matches", "run_reset", "run_rollover",
           "run_tick"]
