"""The inspector's pages and routes, server-rendered from the templates beside this module."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route

from ..connections import Connection
from ..district.tick import MAX_DAYS, read_clock
from ..errors import OneRosterError, error_body
from ..middleware.faults import FaultPlan
from ..routes.admin import run_reset, run_rollover, run_tick
from . import district_view
from .access import check_access
from .core import PREFIX, Inspector
from .live import curl_command, event_stream
from .watch import detail_view

log = logging.getLogger("mock_provider.inspector")
HERE = Path(__file__).parent
STATIC = {"inspector.js": "text/javascript", "inspector.css": "text/css"}
MAX_FORM = 16 * 1024
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx")
_env = Environment(loader=FileSystemLoader(HERE / "templates"),
                   autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                   lstrip_blocks=True)


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _countdown(seconds: float) -> str:
    if seconds <= 0:
        return "expired"
    days, rest = divmod(int(seconds), 86_400)
    hours, rest = divmod(rest, 3600)
    return f"{days} d {hours} h {rest // 60} min left"


_env.filters["when"] = _when
_env.filters["countdown"] = _countdown


def _inspector(request: Request) -> Inspector:
    inspector: Inspector = request.app.state.inspector
    check_access(request, inspector.options.admin_token)
    return inspector


def _page(request: Request, inspector: Inspector, template: str, status: int = 200,
          **context: Any) -> HTMLResponse:
    html = _env.get_template(template).render(
        prefix=PREFIX, inspector=inspector, form_token=inspector.form_token,
        actions=inspector.options.actions, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def _form(request: Request, inspector: Inspector) -> dict[str, str]:
    """A POSTed form of one of our pages; 403 without the page's form token (so another site
    cannot drive the district through the browser) or when actions are off."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise OneRosterError(400, "invaliddata", f"the form is larger than {MAX_FORM} bytes")
    values = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    if values.get("form_token") != inspector.form_token:
        raise OneRosterError(403, "forbidden", "the form is stale or not from the inspector; "
                             "reload the page and try again")
    if not inspector.options.actions:
        raise OneRosterError(403, "forbidden", "this inspector is read-only: the consumer "
                             "scenario under way owns the clock and the faults")
    return values


# --- Traffic ---------------------------------------------------------------------------

async def home(request: Request) -> Response:
    _inspector(request)
    return RedirectResponse(f"{PREFIX}/traffic", status_code=303)


async def traffic(request: Request) -> Response:
    inspector = _inspector(request)
    names = [c.name for c in inspector.connections]
    query = request.query_params
    return _page(request, inspector, "traffic.html.j2", connections=names,
                 status_classes=STATUS_CLASSES,
                 chosen={"connection": query.get("connection", ""),
                         "status": query.get("status", ""), "path": query.get("path", "")},
                 initial=json.dumps(inspector.feed.recent()[:300], ensure_ascii=False)
                 .replace("</", "<\\/"))


async def exchange(request: Request) -> Response:
    inspector = _inspector(request)
    text = request.path_params["seq"]
    record = inspector.feed.record(int(text)) if text.isdigit() else None
    if record is None:
        raise OneRosterError(404, "unknownobject", f"no exchange {text} is kept any more")
    kept = inspector.feed.detail(record["seq"])
    detail = detail_view(kept, inspector.labels) if kept is not None else None
    return JSONResponse({"record": record, "detail": detail,
                         "curl": curl_command(record, detail) if detail else None})


async def events(request: Request) -> Response:
    inspector = _inspector(request)
    last = request.headers.get("last-event-id", "")
    return StreamingResponse(event_stream(inspector, int(last) if last.isdigit() else 0),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# --- Syncs and connections -------------------------------------------------------------

async def syncs(request: Request) -> Response:
    inspector = _inspector(request)
    names = [c.name for c in inspector.connections]
    names += [n for n in inspector.syncs.connections() if n not in names]
    verdicts = await run_in_threadpool(inspector.verdicts)
    return _page(request, inspector, "syncs.html.j2", verdicts=verdicts,
                 connections=[(name, inspector.syncs.of(name)) for name in names])


def _expiry(connection: Connection, now: float) -> dict[str, Any] | None:
    """When the credentials stop working: the end of their expiry date (UTC)."""
    if connection.expires is None:
        return None
    ends = datetime.combine(connection.expires + timedelta(days=1), datetime.min.time(), UTC)
    return {"date": connection.expires.isoformat(), "ends": ends.isoformat(),
            "left": ends.timestamp() - now}


def _short_scopes(connection: Connection) -> list[str]:
    return sorted({scope.rsplit("/", 1)[-1] for scope in connection.scopes})


async def connections(request: Request) -> Response:
    inspector = _inspector(request)
    now = inspector.tokens.clock() if inspector.tokens else time.time()
    rows = [{"connection": c, "scopes": _short_scopes(c), "expiry": _expiry(c, now),
             "activity": inspector.activity.of(c.name),
             "last_sync": inspector.syncs.of(c.name).last_sync}
            for c in inspector.connections]
    return _page(request, inspector, "connections.html.j2", rows=rows,
                 unattributed=inspector.activity.unattributed())


# --- District ----------------------------------------------------------------------------

async def district(request: Request, error: str | None = None, status: int = 200) -> Response:
    inspector = _inspector(request)
    assert inspector.state is not None
    store = inspector.state.store
    conn = store.conn
    query = request.query_params
    school, klass, search = query.get("school", ""), query.get("class", ""), query.get("q", "")
    context: dict[str, Any] = {
        "clock": read_clock(conn), "school_year": store.meta.get("school_year", ""),
        "schools": district_view.schools(conn), "school": school, "class_id": klass,
        "search": search, "max_days": MAX_DAYS, "error": error,
        "change": inspector.last_change, "quirks": store.quirk_manifest(),
    }
    if school:
        context["school_name"] = district_view.title_of(conn, "orgs", school)
        context["classes"] = district_view.classes(conn, school)
    if klass:
        context["class_title"] = district_view.title_of(conn, "classes", klass)
        context["roster"] = district_view.roster(conn, klass)
    if search.strip():
        context["found"] = district_view.search_users(conn, search)
    return _page(request, inspector, "district.html.j2", status=status, **context)


def _days(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from 1 to {MAX_DAYS}, got {text!r}")
    return int(text)


async def change(request: Request) -> Response:
    inspector = _inspector(request)
    values = await _form(request, inspector)
    assert inspector.state is not None
    action = request.path_params["action"]
    try:
        if action == "tick":
            report = await run_tick(inspector.state, _days(values.get("days", "1")))
        elif action == "rollover":
            report = await run_rollover(inspector.state)
        elif action == "reset":
            report = await run_reset(inspector.state)
        else:
            raise OneRosterError(404, "unknownobject", f"no district action {action!r}")
    except ValueError as exc:
        return await district(request, error=str(exc), status=400)
    except OneRosterError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await district(request, error=exc.description, status=exc.status)
    inspector.last_change = {"action": action, "at": time.time(), "report": report}
    return RedirectResponse(f"{PREFIX}/district#change", status_code=303)


# --- Faults and reports ------------------------------------------------------------------

async def faults(request: Request) -> Response:
    inspector = _inspector(request)
    if request.method == "POST":
        values = await _form(request, inspector)
        name = values.get("scenario", "")
        if name == "off":
            inspector.faults.set(None, None)
        elif name in inspector.options.fault_scenarios:
            inspector.faults.set(name, inspector.options.fault_scenarios[name][1])
        else:
            raise OneRosterError(400, "invaliddata", f"no fault scenario {name!r}; choose one "
                                 f"of {', '.join(inspector.options.fault_scenarios)} or off")
        return RedirectResponse(f"{PREFIX}/faults", status_code=303)
    plan, default = inspector.faults.plan, FaultPlan()
    # What the plan in force changes, as the fault middleware's settings name it.
    switched = {k: v for k, v in vars(plan).items() if v != getattr(default, k)}
    return _page(request, inspector, "faults.html.j2",
                 scenarios=inspector.options.fault_scenarios, current=inspector.faults.name,
                 switched=switched)


def _runs(root: Path) -> list[dict[str, Any]]:
    if not root.is_dir():
        return []
    runs = [{"name": p.parent.relative_to(root).as_posix(), "modified": p.stat().st_mtime}
            for p in root.glob("*/report.html")]
    return sorted(runs, key=lambda r: -r["modified"])


async def reports(request: Request) -> Response:
    inspector = _inspector(request)
    root = inspector.options.reports_dir
    return _page(request, inspector, "reports.html.j2", runs=_runs(root), root=root)


async def report_file(request: Request) -> Response:
    inspector = _inspector(request)
    root = inspector.options.reports_dir.resolve()
    wanted = (root / request.path_params["file"]).resolve()
    if not wanted.is_relative_to(root) or not wanted.is_file():
        raise OneRosterError(404, "unknownobject",
                             f"no report file {request.path_params['file']!r} under {root}")
    return FileResponse(wanted)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC:
        raise OneRosterError(404, "unknownobject", f"no inspector file {name!r}")
    return FileResponse(HERE / "static" / name, media_type=STATIC[name],
                        headers={"Cache-Control": "no-cache"})


# --- The app -----------------------------------------------------------------------------

async def _oneroster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OneRosterError)
    return Response(error_body(exc, "1.2"), status_code=exc.status,
                    media_type="application/json", headers=dict(exc.headers or {}))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = "unknownobject" if exc.status_code == 404 else "invaliddata"
    text = f"no inspector page at {request.url.path}" if exc.status_code == 404 \
        else str(exc.detail)
    return await _oneroster_error(request, OneRosterError(exc.status_code, code, text,
                                                          headers=dict(exc.headers or {})))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("the inspector failed on %s", request.url.path)
    return await _oneroster_error(request, OneRosterError(
        500, "internal_server_error", "the inspector failed to show this page"))


def inspector_app(inspector: Inspector) -> Starlette:
    """The pages under ``/inspector``, as their own app (the mock's middleware, its recorder
    among them, never sees them)."""
    app = Starlette(routes=[Mount(PREFIX, routes=[
        Route("/", home), Route("/traffic", traffic), Route("/events", events),
        Route("/exchanges/{seq}", exchange), Route("/syncs", syncs),
        Route("/connections", connections), Route("/district", district),
        Route("/district/{action}", change, methods=["POST"]),
        Route("/faults", faults, methods=["GET", "POST"]), Route("/reports", reports),
        Route("/reports/{file:path}", report_file), Route("/static/{name}", static),
    ]), Route(PREFIX, home)], exception_handlers={
        OneRosterError: _oneroster_error, HTTPException: _http_error,
        Exception: _server_error})
    app.state.inspector = inspector
    return app


__all__ = ["inspector_app"]
