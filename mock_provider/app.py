"""The mock provider, composed once: routes, auth middleware, spec-shaped error handlers."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from specs import openapi

from .allocator import keep_freed_memory
from .bodies import BodyError
from .connections import Connection
from .errors import OneRosterError, error_body
from .inspector import Inspector, Watch
from .middleware.auth import BearerAuth
from .middleware.faults import FaultPlan, Faults
from .middleware.recorder import Recorder, Recording
from .paths import SERVICE_BASES, V11, V12_GRADEBOOK, V12_RESOURCES, V12_ROSTERING, version_of
from .query.page_cache import PageCache
from .query.sql import install_functions
from .routes.admin import admin_routes
from .routes.dispatch import DirectRouter
from .routes.gradebook_writes import gradebook_write_routes
from .routes.oauth import token_endpoint
from .routes.operations import ASSESSMENTS, GRADEBOOK, GRADEBOOK_V11, RESOURCES, RESOURCES_V11
from .routes.reads import Endpoint, base_url, rostering_routes, routes_for
from .settings import Settings
from .state import MockState, mock_state, shared
from .store import Store
from .tokens import TokenIssuer

log = logging.getLogger("mock_provider")
# Both names the 1EdTech documents use for a service's discovery file (they disagree).
DISCOVERY_NAMES = {
    "rostering": ("onerosterv1p2rostersservice_openapi3_v1p0.json",
                  "imsorv1p2_rostering_openapi3_v1p0.json"),
    "gradebook": ("onerosterv1p2gradebookservice_openapi3_v1p0.json",
                  "imsorv1p2_gradebook_openapi3_v1p0.json"),
    "resources": ("onerosterv1p2resourcesservice_openapi3_v1p0.json",
                  "imsorv1p2_resources_openapi3_v1p0.json"),
}


def _error_response(request: Request, error: OneRosterError) -> Response:
    headers = dict(error.headers or {})
    return Response(error_body(error, version_of(request.url.path)), status_code=error.status,
                    media_type="application/json", headers=headers)


async def _oneroster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OneRosterError)
    return _error_response(request, exc)


_METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _methods_of(routes: list[BaseRoute], scope: dict) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match is Match.NONE:
            continue
        if isinstance(route, Mount):
            methods |= _methods_of(route.routes, {**scope, **child})
        elif isinstance(route, Route):
            methods |= set(route.methods or ())
    return methods


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: a path's GET, PUT and DELETE are separate
    routes, and Starlette's own ``Allow`` names only the first one it met."""
    scope = {"type": "http", "path": request.scope["path"], "method": request.method,
             "root_path": request.scope.get("app_root_path", "")}
    methods = _methods_of(request.app.routes, scope)
    known = {method: i for i, method in enumerate(_METHOD_ORDER)}
    return ", ".join(sorted(methods, key=lambda m: (known.get(m, len(known)), m)))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = OneRosterError(404, "unknownobject",
                               f"Unknown Object: no endpoint at {request.url.path}")
    elif exc.status_code == 405:
        allowed = _allowed_methods(request)
        error = OneRosterError(405, "invaliddata",
                               f"method {request.method} is not allowed on {request.url.path} "
                               f"(allowed: {allowed})", headers={"Allow": allowed})
    else:
        error = OneRosterError(exc.status_code, "invaliddata", str(exc.detail))
    return _error_response(request, error)


async def _body_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BodyError)
    # The rest of an oversized body is not read: closing the connection saves draining it.
    headers = {"Connection": "close"} if exc.status == 413 else None
    return _error_response(request, OneRosterError(exc.status, "invaliddata", exc.message,
                                                   headers=headers))


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path)
    error = OneRosterError(500, "internal_server_error",
                           "the provider failed to answer this request")
    return _error_response(request, error)


REPLACED = {"description": "Replaced: a PUT to an existing sourcedId stores the new record and "
                           "answers 200 with no body, as Infinite Campus and Google do (this "
                           "mock's update_status; 201, as on create, when it is 201)"}


def _document_replace_status(doc: dict) -> None:
    """The published documents list only 201 for a PUT; the copy this mock serves also lists
    the 200 it answers when a PUT replaces a record."""
    for item in doc.get("paths", {}).values():
        put = item.get("put")
        if put is not None:
            put.setdefault("responses", {}).setdefault("200", dict(REPLACED))


def _discovery(request: Request, service: str) -> Response:
    """A service's OpenAPI document, localised to this server and its token URL."""
    doc = openapi(service)
    doc["servers"] = [{"url": base_url(request, "1.2") + SERVICE_BASES[service]}]
    origin = f"{request.url.scheme}://{request.url.netloc}"
    token_url = origin + shared(request).settings.profile.token_url_path
    for scheme in doc.get("components", {}).get("securitySchemes", {}).values():
        for flow in scheme.get("flows", {}).values():
            flow["tokenUrl"] = token_url
    if shared(request).settings.update_status == 200:
        _document_replace_status(doc)
    return Response(json.dumps(doc, ensure_ascii=False), media_type="application/json")


async def discovery(request: Request) -> Response:
    path = request.url.path
    service = next((name for name in ("gradebook", "resources") if f"/{name}/" in path),
                   "rostering")
    return _discovery(request, service)


def _token(issue: Endpoint) -> Endpoint:
    """The token endpoint behind the flavor's own refusals (e.g. Campus's appName)."""
    async def endpoint(request: Request) -> Response:
        refusal = shared(request).settings.profile.check_token_request(request)
        return refusal if refusal is not None else await issue(request)

    return endpoint


def _discovery_routes(service: str) -> list[Route]:
    return [Route(f"/discovery/{name}", discovery) for name in DISCOVERY_NAMES[service]]


def build_routes(settings: Settings, token: Endpoint) -> list[BaseRoute]:
    prefixes = settings.profile.prefixes

    def mount(path: str, routes: list[BaseRoute]) -> Mount:
        return Mount(path, app=DirectRouter(routes))

    v12: list[BaseRoute] = [
        mount(V12_ROSTERING, [*_discovery_routes("rostering"), *rostering_routes("1.2")]),
        mount(V12_GRADEBOOK, [*_discovery_routes("gradebook"), *routes_for(GRADEBOOK, "1.2"),
                              *routes_for(ASSESSMENTS, "1.2"), *gradebook_write_routes("1.2")]),
        mount(V12_RESOURCES, [*_discovery_routes("resources"), *routes_for(RESOURCES, "1.2")]),
    ]
    v11: list[BaseRoute] = [mount(V11, [*rostering_routes("1.1"),
                                        *routes_for(GRADEBOOK_V11, "1.1"),
                                        *gradebook_write_routes("1.1"),
                                        *routes_for(RESOURCES_V11, "1.1")])]
    if prefixes["1.2"]:
        v12 = [Mount(prefixes["1.2"], routes=v12)]
    if prefixes["1.1"]:
        v11 = [Mount(prefixes["1.1"], routes=v11)]
    return [
        Route(settings.profile.token_path, token, methods=["POST"]),
        Route("/openapi.json", discovery),
        *v12,
        *v11,
    ]


# Pages read through a memory map instead of a read() per page: a page of 1,000 users visits
# some 500 of the file's pages. The map's pages count in the server's RSS once touched (the
# file's own, shared with the OS cache), so it is bounded well inside the 500 MB target.
STORE_MAP_BYTES = 256 * 1024 * 1024


def _map_store(store: Store) -> None:
    store.conn.execute(f"PRAGMA mmap_size = {STORE_MAP_BYTES}")


def _lifespan(close_store: bool) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            # The writer is the app's own; the store only when the app was given it to keep.
            state = mock_state(app)
            state.close()
            if close_store:
                state.store.close()

    return lifespan


def create_app(store: Store, connections: list[Connection], settings: Settings | None = None,
               tokens: TokenIssuer | None = None, admin_token: str | None = None, *,
               recording: Recording | None = None, faults: FaultPlan | None = None,
               on_drift: Callable[[], object] | None = None,
               inspector: Inspector | None = None, close_store: bool = False) -> Starlette:
    """The mock. ``recording`` records every exchange (outside the faults, so it sees them);
    ``faults`` injects the misbehaviour of a scenario, ``on_drift`` is what a drift does;
    ``inspector`` serves the pages at /inspector and watches everything else (outermost), and
    its Faults page switches the faults while serving.

    When the server shuts down, the app closes its grade-book writer, and ``store`` too when
    ``close_store`` (the store was opened for this app alone; a caller serving one store from
    several apps in turn keeps it open and closes it itself)."""
    settings = settings or Settings()
    # Not `tokens or ...`: an issuer holding no tokens yet is falsy (it has a length).
    tokens = tokens if tokens is not None else TokenIssuer()
    protected = tuple(f"{prefix}/ims/oneroster" for prefix in settings.profile.prefixes.values())
    middleware = [Middleware(BearerAuth, connections=connections, tokens=tokens,
                             allow_oauth1_sha1=settings.allow_oauth1_sha1,
                             protected_prefixes=protected,
                             public_parts=tuple(f"{base}/discovery/"
                                                for base in SERVICE_BASES.values()))]
    switch = inspector.faults if inspector is not None else None
    if switch is not None and faults is not None and not faults.empty and switch.plan.empty:
        switch.set(switch.name or "scenario", faults)
    if switch is not None:
        middleware.insert(0, Middleware(Faults, plan=switch, on_drift=on_drift))
    elif faults is not None and not faults.empty:
        middleware.insert(0, Middleware(Faults, plan=faults, on_drift=on_drift))
    if recording is not None:
        middleware.insert(0, Middleware(Recorder, recording=recording))
    if inspector is not None:
        middleware.insert(0, Middleware(Watch, inspector=inspector))
    token = _token(token_endpoint(connections, tokens))
    app = Starlette(
        # The /admin routes are always mounted and answer 404 unless admin_token is set.
        routes=[*build_routes(settings, token), *admin_routes()],
        middleware=middleware,
        exception_handlers={OneRosterError: _oneroster_error, HTTPException: _http_error,
                            BodyError: _body_error, Exception: _server_error},
        lifespan=_lifespan(close_store),
    )
    install_functions(store.conn)
    _map_store(store)
    keep_freed_memory()
    app.state.mock = MockState(store=store, settings=settings,
                               pages=PageCache(settings.page_cache), admin_token=admin_token)
    if inspector is not None:
        inspector.bind(app.state.mock, connections, tokens, settings.profile.token_path)
    return app


__all__ = ["Settings", "create_app"]
