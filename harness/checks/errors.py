"""Errors (OR-ERR): unknown ids, filter fields and routes answer the spec's status and
status payload; no request of the run fails with a server error (a run-phase check)."""

from __future__ import annotations

import uuid

from ..engine import Finding, Outcome, passed
from .context import Context
from .support import (
    check,
    code_minor,
    incidents_finding,
    refused_cleanly,
    run_phase_check,
    status_payload_errors,
)


@check("OR-ERR-001", "An unknown sourcedId answers 404 with imsx_StatusInfo unknownobject",
       "OneRoster 1.2 REST binding §3.3 errors: 404 unknownobject")
def unknown_id_is_404(ctx: Context) -> Outcome:
    """``GET /users/{an id that does not exist}`` must answer 404 with a spec status body
    (``imsx_StatusInfoDType`` in 1.2, ``statusInfoSet`` in 1.1) whose codeMinor is
    unknownobject. Fix: check existence and answer the status payload, never a 500 or HTML."""
    version = ctx.target.version
    exchange = ctx.target.get(f"/users/{uuid.uuid4()}")
    if exchange.status != 404:
        raise Finding(f"an unknown user answered {exchange.status}", exchange)
    errors = status_payload_errors(exchange, version)
    if errors:
        raise Finding(f"the 404 body is not a status payload: {errors[0]}", exchange)
    expected = "unknownobject" if version == "1.2" else "unknown object"
    if code_minor(exchange.json(), version) != expected:
        raise Finding(f"codeMinor is {code_minor(exchange.json(), version)!r}, expected "
                      f"{expected!r}", exchange)
    return passed("404 unknownobject with a valid status body", exchange)


@check("OR-ERR-002", "An unknown filter field answers 400 invalid_filter_field",
       "OneRoster 1.2 REST binding §3.5 filtering; 1.1 errata")
def unknown_filter_field_is_400(ctx: Context) -> Outcome:
    """``GET /users?filter=shoeSize='9'`` must answer 400 with codeMinor invalid_filter_field
    and return no data. Fix: validate filter fields against the object's fields."""
    exchange = ctx.target.get("/users", {"filter": "shoeSize='9'"})
    if exchange.status != 400:
        raise Finding(f"an unknown filter field answered {exchange.status}", exchange)
    if code_minor(exchange.json(), ctx.target.version) != "invalid_filter_field":
        raise Finding("the 400 does not carry codeMinor invalid_filter_field", exchange)
    return passed("400 invalid_filter_field", exchange)


@check("OR-ERR-004", "An unknown route answers 404 with a status payload",
       "OneRoster 1.2 REST binding §3.3 errors: unknownobject")
def unknown_route(ctx: Context) -> Outcome:
    """A path under the base that is no OneRoster endpoint (``/noSuchCollection``) must answer
    404 with an imsx_StatusInfo, as an unknown id does, not an HTML page or a 200. Fix: route
    unmatched paths under the base to the OneRoster error handler."""
    exchange = ctx.target.get("/noSuchCollection")
    problem = refused_cleanly(exchange, ctx.target.version, (404,))
    if problem:
        raise Finding(f"/noSuchCollection {problem}", exchange)
    return passed("an unknown route answered 404 with a status payload", exchange)


@run_phase_check("OR-ERR-003", "No request fails with a server error or times out",
                 "OneRoster 1.2 REST binding §3.3: 5xx only for provider faults")
def no_server_errors(ctx: Context) -> Outcome:
    """Every request of the run, valid or not, must be answered: a 500/503 or a timeout is
    the provider failing, whatever was asked (bad input gets a 4xx with imsx_StatusInfo). The
    checker retries a 5xx once, so this lists every one it saw."""
    failures = ctx.incidents("server-error", "timeout")
    if failures:
        raise incidents_finding(f"{len(failures)} server error(s) or timeout(s); the first: "
                                f"{failures[0].exchange.method} {failures[0].exchange.url} "
                                f"({failures[0].detail})", failures)
    return passed("no server error and no timeout in the run")
