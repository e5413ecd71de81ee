"""Rostering read endpoints for OneRoster 1.2 and 1.1, built from the operation table."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import OneRosterError, status_info_v11
from ..memo import remember
from ..middleware.auth import require
from ..query.page import fetch_page, fetch_page_joined, select_fields
from ..query.params import CollectionQuery, parse_collection_query, parse_single_query
from ..record_forms import doc_sql
from ..refs import render_page_bytes, render_refs
from ..scopes import required_scopes_v11, required_scopes_v12
from ..state import shared
from .operations import ROSTERING, Operation
from .school_scope import (
    reader_conditions,
    ref_visibility,
    school_scope,
    scoped_texts,
    sees_everything,
)

JSON = "application/json"
EXPOSED = "X-Total-Count, Link"
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]
GRADEBOOK_TABLES = frozenset({"categories", "lineItems", "results", "scoreScales",
                              "assessmentLineItems", "assessmentResults"})


# The href origin ("scheme://host" as Starlette's request.url spells it) and the Link header's
# base, remembered by what they are made of (``_url_parts``): parsing the URL again on every
# page cost about as much as rendering its references. Bounded, as Host headers are the
# client's to pick.
_ORIGINS: dict[tuple, str] = {}
_ORIGINS_MAX = 1024


def _url_parts(request: Request) -> tuple:
    """What request.url's scheme, netloc and path are made of: the scheme, the first Host
    header, the socket and the path."""
    scope = request.scope
    host = next((value for key, value in scope["headers"] if key == b"host"), None)
    return scope.get("scheme", "http"), host, scope.get("server"), scope.get("path")


def _remembered(key: tuple, make: Callable[[], str]) -> str:
    return remember(_ORIGINS, key, make, _ORIGINS_MAX)


def _origin(request: Request) -> str:
    scheme, host, server, _ = _url_parts(request)
    return _remembered(("origin", scheme, host, server),
                       lambda: f"{request.url.scheme}://{request.url.netloc}")


def base_url(request: Request, version: str) -> str:
    """Scheme, host and the flavor's prefix in front of ``/ims/oneroster``."""
    return _origin(request) + shared(request).settings.profile.prefixes[version]


def _authorize(request: Request, version: str, op: Operation) -> None:
    """403 unless the grant holds one of the operation's scopes (and, for the grade book,
    passes the flavor's extra checks)."""
    if version == "1.1":
        grant = require(request, required_scopes_v11("GET", op.path))
    else:
        grant = require(request, required_scopes_v12(op.operation_id))
    if op.table in GRADEBOOK_TABLES:
        shared(request).settings.profile.check_gradebook_request(request, grant)


def _check_parent(request: Request, op: Operation) -> None:
    parent = op.parent
    if parent is None:
        return
    values = [request.path_params[name] for name in parent.params]
    scope_sql, scope_params = school_scope(request, parent.table)
    scoped = f" AND {scope_sql}" if scope_sql else ""
    row = shared(request).store.conn.execute(
        f"SELECT 1 FROM {parent.table} WHERE {parent.where} AND hidden = 0{scoped}",
        (*values, *scope_params)).fetchone()
    if row is None:
        raise OneRosterError(404, "unknownobject",
                             f"Unknown Object: no {parent.label} with sourcedId {values[0]!r}")


def _where(op: Operation, request: Request) -> tuple[str, tuple]:
    clauses, scope_params = reader_conditions(request, op.table)
    params: tuple = ()
    if op.where:
        clauses.insert(1, op.where)
        params = tuple(request.path_params[name] for name in op.params)
    return " AND ".join(clauses), params + scope_params


def _served_records(request: Request, version: str, op: Operation,
                    texts: list[str]) -> list[str]:
    """Stored texts as this caller is served them: the references it may follow (school
    scoping), then the flavor's forms. Every read route serves its records through here."""
    texts = scoped_texts(request, texts)
    return shared(request).settings.profile.transform_records(request, version, op.table, texts)


def _warnings_json(warnings: list[tuple[str, str]]) -> str:
    items = [status_info_v11(code, text, "success", "warning") for code, text in warnings]
    return json.dumps(items, ensure_ascii=False, separators=(",", ":"))


# Query parameters a collection understands (query.params): the only ones a Link repeats.
PAGE_PARAMETERS = ("filter", "sort", "orderBy", "fields")
# Past this a Link is left out (X-Total-Count still says how far to page): a long filter
# repeated in four URLs makes header lines some HTTP clients refuse.
MAX_LINK = 8 * 1024
_DEFAULT_PORTS = {"http": 80, "https": 443}


def server_origin(request: Request) -> str:
    """Scheme, host and port of the socket this request reached (the address the mock was
    told to serve on), not the client's ``Host`` header."""
    server = request.scope.get("server")
    scheme = request.url.scheme
    if not server or server[1] is None:
        return f"{scheme}://{request.url.netloc}"
    host, port = server
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}" + ("" if _DEFAULT_PORTS.get(scheme) == port else f":{port}")


def _link_header(request: Request, query: CollectionQuery, total: int) -> str | None:
    """first/prev/next/last from the understood parameters only; None when longer than
    MAX_LINK."""
    kept = urlencode([(k, v) for k, v in request.query_params.multi_items()
                      if k in PAGE_PARAMETERS])
    # Encoded once for the four URLs; limit and offset are digits, which need no quoting.
    # The socket's origin and the quoted path, remembered like base_url's origin.
    where = _remembered(("link", *_url_parts(request)),
                        lambda: f"{server_origin(request)}{quote(request.url.path, safe='/:@')}")
    base = f"<{where}?" + (
        f"{kept}&limit={query.limit}&offset=" if kept else f"limit={query.limit}&offset=")

    def url(offset: int) -> str:
        return f"{base}{offset}>"

    limit, offset = query.limit, query.offset
    links = [f'{url(0)}; rel="first"']
    if offset > 0:
        links.append(f'{url(max(offset - limit, 0))}; rel="prev"')
    if offset + limit < total:
        links.append(f'{url(offset + limit)}; rel="next"')
    last = ((total - 1) // limit) * limit if total else 0
    links.append(f'{url(last)}; rel="last"')
    header = ", ".join(links)
    return header if len(header) <= MAX_LINK else None


def collection_endpoint(op: Operation, version: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        state = shared(request)
        profile = state.settings.profile
        _authorize(request, version, op)
        profile.resolve_path_ids(request, version)
        _check_parent(request, op)
        query, warnings = parse_collection_query(
            request.query_params.multi_items(), table=op.table, version=version,
            max_limit=state.settings.max_limit, strict_fields=state.settings.strict_fields)
        where, params = _where(op, request)
        key = None
        if state.pages.enabled:
            grant = request.scope.get("state", {}).get("grant")
            # Who asks matters as much as what: scoping and flavor rules follow the grant.
            key = (str(request.url), getattr(grant, "client_id", None),
                   getattr(grant, "scopes", None), where, tuple(params))
            cached = state.pages.get(state.store.conn, key)
            if cached is not None:
                return Response(cached[0], media_type=JSON, headers=cached[1])
        translate = profile.filter_translation(request, version, op.table)
        envelope = op.envelope_in(version)
        status_set = ""
        if warnings and version == "1.1":
            status_set = f',"statusInfoSet":{_warnings_json(warnings)}'
        if (not query.fields and profile.serves_stored(version, op.table)
                and sees_everything(request)):
            # Served as stored: the page is built from the stored UTF-8 bytes and its
            # references rendered in place, nothing decoded or encoded on the way.
            total, joined = fetch_page_joined(state.store.conn, op.table, version, query, where,
                                              params, state.store.page_counts, translate)
            encoded = render_page_bytes(b'{"%s":[' % envelope.encode(), [joined],
                                        b"]%s}" % status_set.encode(), version,
                                        base_url(request, version))
        else:
            total, texts = fetch_page(state.store.conn, op.table, version, query, where,
                                      params, state.store.page_counts, translate,
                                      ref_visibility(request))
            texts = _served_records(request, version, op, texts)
            if query.fields:
                texts = [select_fields(text, query.fields) for text in texts]
            body = profile.transform_body(
                request, version, f'{{"{envelope}":[{",".join(texts)}]{status_set}}}')
            encoded = render_refs(body, version, base_url(request, version)).encode()
        headers = {"X-Total-Count": str(total), "Access-Control-Expose-Headers": EXPOSED}
        link = _link_header(request, query, total)
        if link is not None:
            headers["Link"] = link
        if key is not None:
            state.pages.put(key, (encoded, headers))
        return Response(encoded, media_type=JSON, headers=headers)

    return endpoint


def single_endpoint(op: Operation, version: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        state = shared(request)
        profile = state.settings.profile
        _authorize(request, version, op)
        asked = request.path_params["sourcedId"]
        profile.resolve_path_ids(request, version)
        fields, warnings = parse_single_query(
            request.query_params.multi_items(), table=op.table, version=version,
            strict_fields=state.settings.strict_fields)
        where, params = _where(op, request)
        sourced_id = request.path_params["sourcedId"]
        row = state.store.conn.execute(
            f"SELECT {doc_sql(op.table, version)} FROM {op.table} WHERE sourcedId = ? AND {where}",
            (sourced_id, *params)).fetchone()
        if row is None:
            kind = op.path.strip("/").split("/")[0]
            raise OneRosterError(404, "unknownobject",
                                 f"Unknown Object: no {kind} record with sourcedId {asked!r}")
        text = _served_records(request, version, op, [row[0]])[0]
        text = select_fields(text, fields) if fields else text
        body = f'{{"{op.envelope_in(version)}":{text}'
        if warnings and version == "1.1":
            body += f',"statusInfoSet":{_warnings_json(warnings)}'
        body = profile.transform_body(request, version, body + "}")
        body = render_refs(body, version, base_url(request, version))
        return Response(body, media_type=JSON)

    return endpoint


def routes_for(operations: tuple[Operation, ...], version: str) -> list[Route]:
    """Read routes for ``operations``, relative to the version's service base path."""
    routes = []
    for op in operations:
        make = single_endpoint if op.single else collection_endpoint
        routes.append(Route(op.path, make(op, version), methods=["GET"], name=op.operation_id))
    return routes


def rostering_routes(version: str) -> list[Route]:
    return routes_for(ROSTERING, version)
