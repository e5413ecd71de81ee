"""PUT and DELETE routes for the grade book: 1.2 line items, results, categories, score scales,
assessment line items and assessment results; 1.1 line items, results and categories (see
``mock_provider.gradebook.writes``). On 1.2 also the four bulk POSTs (scope
``gradebook.createpost``): line items of a class or school, results of a line item or of a class
and academic session; 201 with the sourcedId pairs.

Answers: 201 with no body when a PUT creates (the OpenAPI lists 201 with no body), 200 with no
body when it replaces (``settings.update_status``, 200 or 201, default 200: Google reads 200 as
"updated"), 204 for a DELETE. Refusals are the spec error bodies: 400 malformed, 401/403 for
credentials, scopes and rostering-only connections, 404 unknown record (DELETE, and a PUT
on an id the caller cannot see: ``gradebook.writes.put_record``), 413 a body over
``settings.max_put_body`` / ``max_post_body``, 415 a body declared as something other than
JSON, 422 rule (bodies are read by ``mock_provider.bodies``).

The flavor's profile turns ids sent in its served forms into stored ones before the checks
(``Profile.stored_write``: a Campus 1.1 student ``s200123``), and a refusal names ids as the
flavor serves them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..bodies import read_body, require_json
from ..errors import OneRosterError
from ..gradebook.rules import RuleSet, forbidden
from ..gradebook.writes import (
    KINDS,
    V11_KINDS,
    BulkParent,
    WriteRequest,
    delete_record,
    parse_body,
    parse_bulk_body,
    post_records,
    put_record,
)
from ..middleware.auth import require
from ..scopes import required_scopes_v11, required_scopes_v12
from ..state import shared
from .reads import Endpoint, base_url
from .school_scope import school_scope

SCOPED_TABLES = ("classes", "orgs", "users", "academicSessions", "courses", "categories",
                 "lineItems", "results", "scoreScales", "assessmentLineItems",
                 "assessmentResults")


def _authorize_write(request: Request, version: str, table: str, method: str,
                     rules: RuleSet, operation: str | None = None) -> None:
    grant = request.scope.get("state", {}).get("grant")
    connection = getattr(grant, "connection", None)
    if (connection is not None and connection.connection_type != "supported"
            and rules.on("connection_supported")):
        raise forbidden("connection_supported",
                        f"connection {connection.name!r} is rostering-only (unsupported); "
                        "grade-book writes need a supported connection")
    if operation is not None:
        scopes = required_scopes_v12(operation)
    elif version == "1.1":
        scopes = required_scopes_v11(method, f"/{table}/{{sourcedId}}")
    else:
        verb = "put" if method == "PUT" else "delete"
        name = KINDS[table].key
        scopes = required_scopes_v12(verb + name[0].upper() + name[1:])
    grant = require(request, scopes)
    shared(request).settings.profile.check_gradebook_request(request, grant)


def _write_request(request: Request, version: str, table: str, rules: RuleSet,
                   sourced_id: str | None = None) -> WriteRequest:
    scopes = {}
    for name in SCOPED_TABLES:
        sql, params = school_scope(request, name)
        if sql:
            scopes[name] = (sql, params)
    return WriteRequest(version=version, table=table,
                        sourced_id=(request.path_params["sourcedId"] if sourced_id is None
                                    else sourced_id),
                        base_url=base_url(request, version), rules=rules, scopes=scopes)


@contextlib.contextmanager
def _served_ids_in_refusals(request: Request, version: str) -> Iterator[None]:
    """A refusal names ids as the client knows them: the checks saw stored ids."""
    try:
        yield
    except OneRosterError as exc:
        text = shared(request).settings.profile.transform_body(request, version,
                                                               exc.description)
        if text == exc.description:
            raise
        raise OneRosterError(exc.status, exc.code_minor, text, exc.headers) from None


def put_endpoint(version: str, table: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        settings = shared(request).settings
        rules = settings.rules
        _authorize_write(request, version, table, "PUT", rules)
        req = _write_request(request, version, table, rules)
        require_json(request)
        raw = await read_body(request, settings.max_put_body)
        sent = settings.profile.stored_write(request, version, table, parse_body(raw, req))
        writer = shared(request).writer()
        with _served_ids_in_refusals(request, version):
            created = await run_in_threadpool(writer.run,
                                              lambda conn: put_record(conn, req, sent))
        status = 201 if created else settings.update_status
        return Response(status_code=status)

    return endpoint


def delete_endpoint(version: str, table: str) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        rules = shared(request).settings.rules
        _authorize_write(request, version, table, "DELETE", rules)
        req = _write_request(request, version, table, rules)
        cascade = request.query_params.get("cascade", "").lower() == "true"
        writer = shared(request).writer()
        await run_in_threadpool(writer.run, lambda conn: delete_record(conn, req, cascade))
        return Response(status_code=204)

    return endpoint


# The 1.2 bulk POSTs: (path, operationId, table, BulkParent field per path parameter).
POSTS: tuple[tuple[str, str, str, dict[str, str]], ...] = (
    ("/classes/{classSourcedId}/lineItems", "postLineItemsForClass", "lineItems",
     {"classSourcedId": "class_id"}),
    ("/schools/{schoolSourcedId}/lineItems", "postLineItemsForSchool", "lineItems",
     {"schoolSourcedId": "school_id"}),
    ("/lineItems/{lineItemSourcedId}/results", "postResultsForLineItem", "results",
     {"lineItemSourcedId": "line_item_id"}),
    ("/classes/{classSourcedId}/academicSessions/{academicSessionSourcedId}/results",
     "postResultsForAcademicSessionForClass", "results",
     {"classSourcedId": "class_id", "academicSessionSourcedId": "session_id"}),
)


def post_endpoint(operation: str, table: str, params: dict[str, str]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        settings = shared(request).settings
        rules = settings.rules
        _authorize_write(request, "1.2", table, "POST", rules, operation)
        req = _write_request(request, "1.2", table, rules, sourced_id="")
        parent = BulkParent(table, **{field: request.path_params[name]
                                      for name, field in params.items()})
        require_json(request)
        raw = await read_body(request, settings.max_post_body)
        records = [settings.profile.stored_write(request, "1.2", table, record)
                   for record in parse_bulk_body(raw, table)]
        writer = shared(request).writer()
        with _served_ids_in_refusals(request, "1.2"):
            pairs = await run_in_threadpool(
                writer.run, lambda conn: post_records(conn, req, parent, records))
        return JSONResponse({"sourcedIdPairs": pairs}, status_code=201)

    return endpoint


def gradebook_write_routes(version: str) -> list[Route]:
    """PUT and DELETE routes relative to the version's grade-book base path."""
    tables = V11_KINDS if version == "1.1" else tuple(KINDS)
    routes = []
    for table in tables:
        path = f"/{table}/{{sourcedId}}"
        routes.append(Route(path, put_endpoint(version, table), methods=["PUT"]))
        routes.append(Route(path, delete_endpoint(version, table), methods=["DELETE"]))
    if version == "1.2":
        for path, operation, table, params in POSTS:
            routes.append(Route(path, post_endpoint(operation, table, params), methods=["POST"]))
    return routes
