"""Errors (OR-ERR): unknown ids, filter fields and routes answer the spec's status and
status payload; no request of the run fails with a server error (a run-phase check)."""

from __future__ import annotations

import uuid

from ..engine import Finding, Offenders, Outcome, passed
from ..exchange import Exchange
from .context import Context, answered
from .support import (
    check,
    code_minor,
    incidents_finding,
    refused_cleanly,
    run_phase_check,
    status_payload_errors,
)


@check("OR-ERR-001", "An unknown sourcedId answers 404 unknownobject with a status payload",
       "OneRoster 1.2 REST binding §3.3 errors: 404, imsx_StatusInfo unknownobject; 1.1: 404, "
       "a statusInfoSet with codeMinor 'unknown object'")
def unknown_id_is_404(ctx: Context) -> Outcome:
    """``GET /users/{an id that does not exist}`` must answer 404 with a spec status body
    (``imsx_StatusInfoDType`` in 1.2, ``statusInfoSet`` in 1.1) whose codeMinor is
    unknownobject (1.1 spells it ``unknown object``). Fix: check existence and answer the
    status payload, never a 500 or HTML."""
    version = ctx.target.version
    exchange = ctx.target.get(f"/users/{uuid.uuid4()}")
    if exchange.status != 404:
        raise Finding(f"an unknown user {answered(exchange)}", exchange)
    errors = status_payload_errors(exchange, version)
    if errors:
        raise Finding(f"the 404 body is not a status payload: {errors[0]}", exchange)
    expected = "unknownobject" if version == "1.2" else "unknown object"
    if code_minor(exchange.json(), version) != expected:
        raise Finding(f"codeMinor is {code_minor(exchange.json(), version)!r}, expected "
                      f"{expected!r}", exchange)
    return passed("404 unknownobject with a valid status body", exchange)


@check("OR-ERR-002", "An unknown filter field answers 400 invalid_filter_field",
       "OneRoster 1.2 REST binding §3.5 filtering: 400 invalid_filter_field; 1.1 errata: the "
       "same, in a statusInfoSet")
def unknown_filter_field_is_400(ctx: Context) -> Outcome:
    """``GET /users?filter=shoeSize='9'`` must answer 400 with codeMinor invalid_filter_field
    and return no data. Fix: validate filter fields against the object's fields."""
    exchange = ctx.target.get("/users", {"filter": "shoeSize='9'"})
    if exchange.status != 400:
        raise Finding(f"an unknown filter field {answered(exchange)}", exchange)
    if code_minor(exchange.json(), ctx.target.version) != "invalid_filter_field":
        raise Finding("the 400 does not carry codeMinor invalid_filter_field", exchange)
    return passed("400 invalid_filter_field", exchange)


@check("OR-ERR-004", "An unknown route answers 404 with a status payload",
       "OneRoster 1.2 REST binding §3.3 errors: 404, imsx_StatusInfo unknownobject; 1.1: "
       "404, a statusInfoSet")
def unknown_route(ctx: Context) -> Outcome:
    """A path under the base that is no OneRoster endpoint (``/noSuchCollection``) must answer
    404 with the version's status payload (imsx_StatusInfo in 1.2, a statusInfoSet in 1.1), as
    an unknown id does, not an HTML page or a 200. Fix: route
    unmatched paths under the base to the OneRoster error handler."""
    exchange = ctx.target.get("/noSuchCollection")
    problem = refused_cleanly(exchange, ctx.target.version, (404,))
    if problem:
        raise Finding(f"/noSuchCollection {problem}", exchange)
    return passed("an unknown route answered 404 with a status payload", exchange)


# Requests a real client sends by mistake: (what it is, the query string as sent).
MISTAKES = (
    ("a filter with a value that is no date", "filter=dateLastModified%3E%27yesterday%27"),
    ("filter given twice", "filter=givenName%3D%27A%27&filter=familyName%3D%27B%27"),
    ("limit given twice", "limit=1&limit=2"),
    ("sort on a list field", "sort=agents"),
    ("an offset beyond any integer", "offset=99999999999999999999999"),
    ("a filter with an unclosed quote", "filter=givenName%3D%27A"),
)


def _why_not_clean(exchange: Exchange, version: str) -> str | None:
    """Why an answer to a client mistake is not clean: no answer, a 5xx, a 2xx that is not a
    JSON object, another status without the version's status payload (None when clean)."""
    status = exchange.status
    if status is None or status >= 500:
        return answered(exchange)
    if 200 <= status < 300:
        return None if isinstance(exchange.json(), dict) else answered(exchange)
    if exchange.json() is None:
        return answered(exchange)  # it says the body is empty or not JSON
    errors = status_payload_errors(exchange, version)
    return f"{answered(exchange)} without a status payload ({errors[0]})" if errors else None


@check("OR-ERR-005", "Mistakes a real client makes are answered, never with a server error",
       "OneRoster 1.2 REST binding §3.3: 4xx with imsx_StatusInfo for client errors, 5xx only "
       "for provider faults; 1.1 statusInfoSet")
def client_mistakes_answered(ctx: Context) -> Outcome:
    """Real clients send, by mistake: a filter whose value is no date
    (``dateLastModified>'yesterday'``), ``filter`` or ``limit`` given twice, a sort on a list
    field (``sort=agents``), an offset beyond any integer, a filter with an unclosed quote.
    Each must be answered either 200 with a JSON page (the provider read it some way) or
    4xx with the version's status payload, never a 5xx, an HTML page or no answer. Fix:
    validate the query before running it, and map every parse error to 400 with
    ``invaliddata`` (1.1 ``invalid data``)."""
    version = ctx.target.version
    offenders = Offenders()
    for what, query in MISTAKES:
        exchange = ctx.target.get(f"/users?{query}")
        problem = _why_not_clean(exchange, version)
        if problem:
            offenders.add(f"{what} (/users?{query}) {problem}", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {len(MISTAKES)} client mistakes were not "
                                     "answered cleanly")
    return passed(f"{len(MISTAKES)} client mistakes, each answered 200 or 4xx with a status "
                  "payload")


def _other_methods(ctx: Context) -> list[tuple[str, str, Exchange]]:
    """Writes to read-only rostering endpoints: (method, path, answer), asked once per run.
    Only collections and an id that does not exist, so nothing real can be changed."""
    if "other-methods" not in ctx.cache:
        unknown = f"/users/harness-{uuid.uuid4()}"
        asked = (("POST", "/users"), ("PUT", "/orgs"), ("PATCH", "/classes"),
                 ("DELETE", unknown))
        ctx.cache["other-methods"] = [
            (method, path, ctx.target.send(method, path, json={} if method != "DELETE" else
                                           None))
            for method, path in asked]
    return ctx.cache["other-methods"]


@check("OR-ERR-006", "Other methods on read-only endpoints are refused with a status payload",
       "OneRoster 1.2 REST binding §3.3: rostering is read-only; errors carry imsx_StatusInfo; "
       "1.1: rostering is read-only, errors carry a statusInfoSet")
def other_methods_refused(ctx: Context) -> Outcome:
    """Rostering endpoints are read-only. ``POST /users``, ``PUT /orgs``, ``PATCH /classes``
    and ``DELETE /users/{an id that does not exist}`` must be refused with a 4xx and the
    version's status payload, as every OneRoster error is: never accepted (2xx), never a
    server error, never an HTML page from the web server. Fix: route every method under the
    base path to the OneRoster error handler."""
    version = ctx.target.version
    offenders = Offenders()
    answers = _other_methods(ctx)
    for method, path, exchange in answers:
        status = exchange.status
        if status is not None and 200 <= status < 300:
            offenders.add(f"{method} {path} was accepted ({status})", exchange)
        elif problem := _why_not_clean(exchange, version):
            offenders.add(f"{method} {path} {problem}", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {len(answers)} requests with other methods were "
                                     "not refused cleanly")
    return passed(f"{len(answers)} requests with other methods were refused with a status "
                  "payload")


@check("OR-ERR-007", "Other methods on a collection answer 405 with an Allow header",
       "RFC 9110 §15.5.6 405 Method Not Allowed (Allow required)", severity="warning")
def other_methods_are_405(ctx: Context) -> Outcome:
    """HTTP's own answer to a method a resource does not support is 405 Method Not Allowed,
    with an ``Allow`` header naming the methods it does support (RFC 9110 requires the header
    on a 405). ``POST /users``, ``PUT /orgs`` and ``PATCH /classes`` should get it, so a
    client learns the endpoint is read-only rather than missing. Warning only: OneRoster
    does not name the status. Fix: answer 405 with ``Allow: GET, HEAD`` (and the status
    payload)."""
    offenders = Offenders()
    collections = [a for a in _other_methods(ctx) if a[0] != "DELETE"]
    for method, path, exchange in collections:
        if exchange.status != 405:
            offenders.add(f"{method} {path} {answered(exchange)}", exchange)
        elif not exchange.headers.get("allow"):
            offenders.add(f"{method} {path} answered 405 without an Allow header", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {len(collections)} requests with other methods "
                                     "did not get 405 with Allow")
    return passed(f"{len(collections)} requests with other methods got 405 with Allow")


@run_phase_check("OR-ERR-003", "No request fails with a server error or times out",
                 "OneRoster 1.2 REST binding §3.3: 5xx only for provider faults; 1.1 the same")
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
