"""The broken providers: the conformant mock with one deliberate defect, as ASGI middleware
around the real app. The provider-check tests say which check must catch which defect (and
that nothing else fires); this module says how each defect is made. A new check's test starts
by adding its defect here, next to the kind of middleware that can make it.

The middleware, by what a defect can reach:

* ``Defect``: the request scope (path, query, headers) and the JSON answer (status and body)
  of OneRoster requests; a header dropped, the Link header rewritten, any client secret taken
  at the token URL, any bearer token taken for the client's own.
* ``Broken``: the request scope, or an answer of its own instead of the mock's; the JSON body.
* ``QueryDefect``: the query parameters, and the JSON answer given the parameters; it keeps
  X-Total-Count true to a replaced page.
* ``GradebookDefect``: by method and path, an answer instead of the mock's or a rewrite of it
  (grade-book writes).
* ``Slow`` and ``Hostile``: every answer late, or every answer something that is not OneRoster.
* ``TokenGate``: a token request answered by a judge of its form and headers instead of the
  mock (and every token request kept); ``TokenAnswer``: the mock's token answers rewritten;
  ``Endless``: answers (OneRoster or token) that never end, at full speed or trickling;
  ``FirstContact``: every OneRoster request refused, or
  only 1.1 served, and the requests counted; ``Sha1Only``: HMAC-SHA256 signatures refused;
  ``ScopedDefect``: a defect that depends on the scopes of the request's token.

Then the defects, grouped like the checks that catch them: tokens and auth, core and paging,
errors, data and references, dates, querying, the grade book.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import itertools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mock_provider.connections import Connection
from mock_provider.errors import OneRosterError, error_body
from mock_provider.middleware.recorder import replaying
from mock_provider.paths import version_of
from mock_provider.query import Filter, Predicate, catalog, matches, parse_filter, values_of
from mock_provider.tokens import TokenIssuer

# --- answers ----------------------------------------------------------------------------------


Send = Callable[[dict], Awaitable[None]]


async def answer_of(app: Any, scope: dict, receive: Any) -> tuple[int, list, bytes]:
    """Run ``app`` on one request and collect its whole answer: status, headers, body."""
    start: dict = {}
    chunks: list[bytes] = []

    async def capture(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        else:
            chunks.append(message.get("body", b""))

    await app(scope, receive, capture)
    return start["status"], list(start["headers"]), b"".join(chunks)


async def send_answer(send: Send, status: int, headers: list, body: bytes) -> None:
    """Send an answer whole, its Content-Length set to the body's."""
    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def query_params(scope: dict) -> list[tuple[str, str]]:
    return parse_qsl(scope["query_string"].decode(), keep_blank_values=True)


def rewrite_query(scope: dict, change: Callable[[dict], dict]) -> dict:
    scope["query_string"] = urlencode(change(dict(query_params(scope)))).encode()
    return scope


# --- the middleware ---------------------------------------------------------------------------


Body = Callable[[str, dict], dict | None]


class Defect:
    """The mock with one deliberate defect, as ASGI middleware: it may rewrite the request
    (path, query, headers) and the JSON response of matching requests. With
    ``accept_any_token``, a GET whose bearer token the mock refuses (401) is answered as if it
    carried the run's own token (``VALID_TOKEN``)."""

    def __init__(self, app, request=None, response: Body | None = None,
                 drop_header: bytes | None = None,
                 rewrite_link: Callable[[str], str] | None = None,
                 accept_any_secret: bool = False, accept_any_token: bool = False) -> None:
        self.app, self.request, self.response, self.drop_header = app, request, response, \
            drop_header
        self.rewrite_link = rewrite_link
        self.accept_any_secret = accept_any_secret
        self.accept_any_token = accept_any_token

    async def __call__(self, scope, receive, send) -> None:
        if self.accept_any_secret and scope["type"] == "http" and \
                scope["path"].endswith("/oauth2/token"):
            right = base64.b64encode(b"h:h-secret")
            scope = {**scope, "headers": [(k, b"Basic " + right if k == b"authorization" else v)
                                          for k, v in scope["headers"]]}
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if self.request:
            scope = self.request(dict(scope))
        status, headers, body = await answer_of(self.app, scope, receive)
        if self.accept_any_token and status == 401 and scope["method"] == "GET" \
                and _bearer(scope):
            scope = {**scope, "headers": [
                (k, VALID_TOKEN["value"].encode() if k == b"authorization" else v)
                for k, v in scope["headers"]]}
            status, headers, body = await answer_of(self.app, scope, receive)
        if self.drop_header:
            headers = [(k, v) for k, v in headers if k.lower() != self.drop_header]
        if self.rewrite_link:
            headers = [(k, self.rewrite_link(v.decode()).encode() if k.lower() == b"link"
                        else v) for k, v in headers]
        if self.response and body.strip().startswith((b"{", b"[")):  # not a bare 201/204
            changed = self.response(scope["path"], json.loads(body))
            if changed is not None:
                status, body = changed["status"], json.dumps(changed["body"]).encode()
        await send_answer(send, status, headers, body)


def _bearer(scope: dict) -> bool:
    """Whether the request carries a bearer token (the scheme in any letter case)."""
    return any(k == b"authorization" and v[:7].lower() == b"bearer " for k, v in scope["headers"])


Rewrite = Callable[[dict], dict | None]


class Broken:
    """The mock with one defect, as ASGI middleware: ``request`` may rewrite the scope or
    answer by itself (returning (status, headers, body)); ``response`` may rewrite a JSON
    answer's body; ``drop_header`` removes a header from every answer."""

    def __init__(self, app, request=None, response: Rewrite | None = None,
                 drop_header: bytes | None = None) -> None:
        self.app, self.request, self.response = app, request, response
        self.drop_header = drop_header

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        if self.request:
            changed = self.request(dict(scope))
            if isinstance(changed, tuple):
                await send_answer(send, *changed)
                return
            scope = changed
        status, headers, body = await answer_of(self.app, scope, receive)
        if self.drop_header:
            headers = [(k, v) for k, v in headers if k.lower() != self.drop_header]
        if self.response and body.strip().startswith(b"{"):
            rewritten = self.response(json.loads(body))
            if rewritten is not None:
                body = json.dumps(rewritten).encode()
        await send_answer(send, status, headers, body)


Params = dict[str, str]


JsonAnswer = tuple[int, dict]


class QueryDefect:
    """The mock with one defect, as ASGI middleware that sees the query: ``request`` rewrites
    the query parameters of OneRoster GETs, ``response`` may replace a JSON answer (given the
    path, the parameters as sent to the mock, the status and the body). A replaced collection
    page that was the whole answer gets an X-Total-Count that fits its records."""

    def __init__(self, app, request: Callable[[str, Params], Params] | None = None,
                 response: Callable[[str, Params, int, dict], JsonAnswer | None] | None = None,
                 seen: list[Params] | None = None) -> None:
        self.app, self.request, self.response, self.seen = app, request, response, seen

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        params = dict(parse_qsl(scope["query_string"].decode(), keep_blank_values=True))
        if self.seen is not None:
            self.seen.append(params)
        if self.request:
            params = self.request(scope["path"], dict(params))
            scope = {**scope, "query_string": urlencode(params).encode()}
        if not self.response:
            await self.app(scope, receive, send)
            return
        status, headers, body = await answer_of(self.app, scope, receive)
        changed = self.response(scope["path"], params, status, json.loads(body))
        if changed is not None:
            status, new = changed
            body = json.dumps(new).encode()
            old_total = next((v for k, v in headers if k.lower() == b"x-total-count"), None)
            headers = [(k, v) for k, v in headers if k.lower() not in {b"x-total-count",
                                                                        b"link"}]
            records = next((v for v in new.values() if isinstance(v, list)), None)
            if old_total is not None and records is not None:
                headers.append((b"x-total-count", str(len(records)).encode()))
        await send_answer(send, status, headers, body)


RawAnswer = tuple[int, bytes]


Before = Callable[[str, str], RawAnswer | None]  # (method, path) -> an answer instead of the mock's


After = Callable[[str, str, int, bytes], RawAnswer | None]  # + the mock's status and body


class GradebookDefect:
    """The mock with one grade-book defect, as ASGI middleware: ``before`` may answer a request
    itself (the mock never sees it), ``after`` may rewrite the mock's answer."""

    def __init__(self, app, before: Before | None = None, after: After | None = None) -> None:
        self.app, self.before, self.after = app, before, after

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        answer = self.before(method, path) if self.before else None
        if answer is not None:
            await send_answer(send, answer[0], [], answer[1])
            return
        status, headers, body = await answer_of(self.app, scope, receive)
        changed = self.after(method, path, status, body) if self.after else None
        status, body = changed or (status, body)
        await send_answer(send, status, headers, body)


class Slow:
    """A provider that takes its time over every OneRoster answer."""

    def __init__(self, app, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "/ims/oneroster/" in scope["path"]:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)


class Hostile:
    """A provider that answers every OneRoster request with something that is not OneRoster."""

    def __init__(self, app, body: bytes, content_length: int | None = None) -> None:
        self.app, self.body, self.content_length = app, body, content_length

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        length = self.content_length if self.content_length is not None else len(self.body)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(length).encode())]})
        await send({"type": "http.response.body", "body": self.body})


class Endless:
    """A provider whose answers never end: every OneRoster request (``where="oneroster"``) or
    every token request (``where="token"``) gets 200, ``application/json`` and a chunked body
    that goes on, ``chunk`` after ``chunk`` with ``pause`` seconds between them, until the
    client hangs up. ``pause=0`` streams at full speed, ``chunk=b"x"`` with ``pause=1`` is an
    answer trickling in at one byte a second. Each answer gives up after ``give_up`` seconds
    (a test's server must not stream forever); ``answers`` counts those begun."""

    def __init__(self, app, where: str, chunk: bytes = b'{"sourcedId": "x"},' * 3_000,
                 pause: float = 0.0, give_up: float = 60.0) -> None:
        if where not in ("oneroster", "token"):
            raise ValueError(f"where is oneroster or token, not {where!r}")
        self.app, self.where, self.chunk, self.pause = app, where, chunk, pause
        self.give_up = give_up
        self.answers = 0

    def _mine(self, scope: dict) -> bool:
        if scope["type"] != "http":
            return False
        path = scope["path"]
        return path.endswith("/oauth2/token") if self.where == "token" \
            else "/ims/oneroster/" in path

    async def __call__(self, scope, receive, send) -> None:
        if not self._mine(scope):
            await self.app(scope, receive, send)
            return
        self.answers += 1
        gone = asyncio.Event()

        async def watch() -> None:  # reads the request, then waits for the hang-up
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        loop = asyncio.get_running_loop()
        until = loop.time() + self.give_up
        try:
            await send({"type": "http.response.start", "status": 200, "headers": JSON})
            await send({"type": "http.response.body", "body": b'{"orgs": [',
                        "more_body": True})
            while not gone.is_set() and loop.time() < until:
                await send({"type": "http.response.body", "body": self.chunk,
                            "more_body": True})
                await asyncio.sleep(self.pause)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()


class TokenGate:
    """The mock with a token endpoint that differs in one way: ``judge(form, headers)`` may
    answer a token request itself ((status, headers, body)); otherwise the mock answers. Every
    token request is kept in ``seen``: its form without the secret, and ``style``, how the
    client authenticated ("basic" or "form")."""

    def __init__(self, app, judge: Judge | None = None) -> None:
        self.app, self.judge = app, judge or (lambda form, headers: None)
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/oauth2/token"):
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        form = dict(parse_qsl(body.decode()))
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        style = "basic" if headers.get("authorization", "").startswith("Basic ") else "form"
        self.seen.append({**{k: v for k, v in form.items() if k != "client_secret"},
                          "style": style})
        verdict = self.judge(form, headers)
        if verdict is not None:
            await send_answer(send, *verdict)
            return
        await self.app(scope, replaying(receive, body, more=False), send)


class TokenAnswer:
    """The mock's token endpoint with its answer rewritten: ``change(body)`` edits a
    successful token answer's JSON (a token it issued stays valid for the mock)."""

    def __init__(self, app, change: Callable[[dict], None]) -> None:
        self.app, self.change = app, change

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/oauth2/token"):
            await self.app(scope, receive, send)
            return
        status, headers, body = await answer_of(self.app, scope, receive)
        if status == 200:
            answer = json.loads(body)
            self.change(answer)
            body = json.dumps(answer).encode()
        await send_answer(send, status, headers, body)


class FirstContact:
    """Counts the OneRoster requests that reach the mock (``seen``). ``refuse_all`` answers
    each with a 401, as a provider does whose token URL belongs to another tenant;
    ``only_v1p1`` answers 404 to every 1.2 path, as a 1.1-only provider does."""

    def __init__(self, app, refuse_all: bool = False, only_v1p1: bool = False) -> None:
        self.app, self.refuse_all, self.only_v1p1 = app, refuse_all, only_v1p1
        self.seen = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.seen += 1
        if self.refuse_all:
            body = error_body(OneRosterError(401, "unauthorisedrequest",
                                             "token issued for another tenant"), "1.2")
            await send_answer(send, 401, [*JSON, (b"www-authenticate",
                                                  b'Bearer error="invalid_token"')], body)
            return
        if self.only_v1p1 and "/v1p2/" in scope["path"]:
            await send_answer(send, 404, HTML, b"<html>Not Found</html>")
            return
        await self.app(scope, receive, send)


class Sha1Only:
    """A 1.1 provider that takes only HMAC-SHA1 signatures: around a mock that allows SHA-1,
    every HMAC-SHA256-signed request is refused as such a provider refuses it. ``methods``
    lists the signature method of each signed request, in order."""

    def __init__(self, app) -> None:
        self.app = app
        self.methods: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        signed = dict(scope.get("headers", [])).get(b"authorization", b"").decode()
        if scope["type"] == "http" and signed.startswith("OAuth "):
            method = "HMAC-SHA256" if 'oauth_signature_method="HMAC-SHA256"' in signed \
                else "HMAC-SHA1"
            self.methods.append(method)
            if method == "HMAC-SHA256":
                body = error_body(OneRosterError(
                    401, "unauthorized", "unsupported signature method HMAC-SHA256"), "1.1")
                await send_answer(send, 401, [*JSON, (b"www-authenticate",
                                                      b'OAuth realm="oneroster"')], body)
                return
        await self.app(scope, receive, send)


class ScopedDefect:
    """The mock with one defect that depends on the scopes a request's token holds:
    ``tokens`` is the mock's own issuer, so ``defect(self, scope, receive, send)`` can read
    them (``scopes_of``) and issue a wider token for ``connection``."""

    def __init__(self, app, tokens: TokenIssuer, connection: Connection,
                 defect: Callable) -> None:
        self.app, self.tokens, self.connection, self.defect = app, tokens, connection, defect

    def scopes_of(self, scope: dict) -> set[str]:
        """The short names of the scopes the request's bearer token holds."""
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        try:
            grant = self.tokens.verify(header.removeprefix("Bearer "))
        except OneRosterError:
            return set()
        return {s.rsplit("/", 1)[-1] for s in grant.scopes}

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.defect(self, scope, receive, send)


# --- tokens and auth --------------------------------------------------------------------------


# The run's own token ("Bearer ..."), set by the test that serves the broken provider once
# it has one: what a defect hands the mock in place of a missing or refused token.
VALID_TOKEN: dict[str, str] = {}


def without_token_allowed(scope: dict) -> dict:
    headers = scope["headers"]
    if not any(k == b"authorization" for k, _ in headers):
        scope["headers"] = [*headers, (b"authorization", VALID_TOKEN["value"].encode())]
    return scope


def scopes_ignored(path: str, body: dict) -> dict | None:
    if path.endswith("/demographics") and "imsx_codeMajor" in body:
        return {"status": 200, "body": {"demographics": []}}
    return None


def huge_refusals_of_users(size: int) -> Body:
    """A response rewrite: a refusal of ``/users`` (401 and the like) padded to ``size`` bytes,
    as a provider that puts a whole log into its error page would. The status and the headers
    stay, so only the answer's size is wrong."""

    def rewrite(path: str, body: dict) -> dict | None:
        if not path.endswith("/users") or "imsx_codeMajor" not in body \
                or "access token" not in str(body.get("imsx_description")):
            return None
        return {"status": 401, "body": {**body, "imsx_description": "x" * size}}

    return rewrite


def case_sensitive_bearer(scope: dict) -> dict:
    headers = []
    for key, value in scope["headers"]:
        if key == b"authorization" and value[:7] in (b"bearer ", b"BEARER "):
            value = b"Bearer refused-because-of-case"
        headers.append((key, value))
    return {**scope, "headers": headers}


JSON = [(b"content-type", b"application/json")]
HTML = [(b"content-type", b"text/html; charset=utf-8")]
# A token request's form and headers -> an answer instead of the mock's, or None.
Verdict = tuple[int, list, bytes] | None
Judge = Callable[[dict[str, str], dict[str, str]], Verdict]
ROSTERING_BASES = ("/ims/oneroster/rostering/v1p2", "/ims/oneroster/v1p1")


def token_refusal(status: int, error: str, description: str) -> tuple[int, list, bytes]:
    """An RFC 6749 §5.2 error answer."""
    return status, JSON, json.dumps({"error": error, "error_description": description}).encode()


def scope_required(form: dict[str, str], headers: dict[str, str]) -> Verdict:
    """A token URL that refuses a request without ``scope``."""
    if not form.get("scope"):
        return token_refusal(400, "invalid_request", "scope is required")
    return None


def core_scope_only(form: dict[str, str], headers: dict[str, str]) -> Verdict:
    """A token URL that refuses any scope but roster-core, without saying which of those
    asked it refuses."""
    asked = form.get("scope", "").split()
    if not asked or any(not s.endswith("/roster-core.readonly") for s in asked):
        return token_refusal(400, "invalid_scope", "the requested scope is not allowed")
    return None


def basic_refused(form: dict[str, str], headers: dict[str, str]) -> Verdict:
    """A token URL that reads the client only from the form (RFC 6749 §2.3.1 allows both)."""
    if headers.get("authorization", "").startswith("Basic "):
        return token_refusal(401, "invalid_client",
                             "client_id and client_secret must be in the body")
    return None


def form_refused(form: dict[str, str], headers: dict[str, str]) -> Verdict:
    """A token URL that takes only HTTP Basic."""
    if "client_secret" in form:
        return token_refusal(400, "invalid_request", "use HTTP Basic for client authentication")
    return None


def _rostering_route(scope: dict) -> list[str] | None:
    """The segments after the rostering base of a OneRoster 1.2 or 1.1 path."""
    for base in ROSTERING_BASES:
        if scope["path"].startswith(base + "/"):
            return [p for p in scope["path"][len(base):].split("/") if p]
    return None


async def generic_token_errors(broken: ScopedDefect, scope, receive, send) -> None:
    """Every token refusal is a bare 400 invalid_request, whatever was wrong."""
    status, headers, body = await answer_of(broken.app, scope, receive)
    if scope["path"].endswith("/oauth2/token") and status != 200:
        status, body = 400, json.dumps({"error": "invalid_request"}).encode()
    await send_answer(send, status, headers, body)


async def nested_reads_open_with_core(broken: ScopedDefect, scope, receive, send) -> None:
    """A roster-core token reads the nested rosters (which need roster.readonly)."""
    route = _rostering_route(scope)
    if route and len(route) >= 3 and broken.scopes_of(scope) == {"roster-core.readonly"}:
        wider = broken.tokens.issue(broken.connection, broken.connection.scopes).access_token
        scope = {**scope, "headers": [
            (k, f"Bearer {wider}".encode() if k == b"authorization" else v)
            for k, v in scope["headers"]]}
    await broken.app(scope, receive, send)


async def user_by_id_needs_roster(broken: ScopedDefect, scope, receive, send) -> None:
    """GET /users/{id} refused to a roster-core token (the provider requires roster)."""
    route = _rostering_route(scope)
    if route and len(route) == 2 and route[0] == "users" and broken.scopes_of(scope) == {
            "roster-core.readonly"}:
        body = error_body(OneRosterError(403, "forbidden", "roster.readonly needed"),
                          version_of(scope["path"]))
        await send_answer(send, 403, JSON, body)
        return
    await broken.app(scope, receive, send)


async def bare_403_on_nested_reads(broken: ScopedDefect, scope, receive, send) -> None:
    """The nested reads' 403s come without a status payload."""
    status, headers, body = await answer_of(broken.app, scope, receive)
    route = _rostering_route(scope)
    if route and len(route) >= 3 and status == 403:
        headers, body = [(b"content-type", b"text/plain")], b"Forbidden"
    await send_answer(send, status, headers, body)


async def grants_every_scope(broken: ScopedDefect, scope, receive, send) -> None:
    """The token answer names every scope of the connection, whatever was asked for."""
    status, headers, body = await answer_of(broken.app, scope, receive)
    if scope["path"].endswith("/oauth2/token") and status == 200:
        answer = json.loads(body)
        answer["scope"] = " ".join(sorted(broken.connection.scopes))
        body = json.dumps(answer).encode()
    await send_answer(send, status, headers, body)


# --- core collections, paging and errors ------------------------------------------------------


def extra_key_in_orgs(path: str, body: dict) -> dict | None:
    if path.endswith("/orgs") and isinstance(body.get("orgs"), list):
        return {"status": 200, "body": {**body, "note": "extra"}}
    return None


def school_classes_as_orgs(path: str, body: dict) -> dict | None:
    if "/schools/" in path and path.endswith("/classes") and "classes" in body:
        return {"status": 200, "body": {"orgs": body["classes"]}}
    return None


def unknown_route_is_200(path: str, body: dict) -> dict | None:
    if path.endswith("/noSuchCollection"):
        return {"status": 200, "body": {"ok": True}}
    return None


def unknown_user_is_500(path: str, body: dict) -> dict | None:
    if "/users/" in path and "imsx_codeMajor" in body:
        return {"status": 500, "body": {"error": "boom"}}
    return None


def by_id_answers(collection: str, other_id: str) -> Callable[[dict], dict]:
    """A request rewrite: ``GET /<collection>/{id}`` is answered with the record ``other_id``,
    whatever id was asked for (a get-by-id that looks up the wrong key)."""

    def request(scope: dict) -> dict:
        head, _, asked = scope["path"].rpartition("/")
        if head.endswith(f"/rostering/v1p2/{collection}") and asked != other_id:
            scope["path"] = f"{head}/{other_id}"
            scope["raw_path"] = scope["path"].encode()
        return scope

    return request


def by_id_in_a_list(collection: str, key: str) -> Body:
    """A response rewrite: ``GET /<collection>/{id}`` answers its record in a list under the
    collection's envelope (``{"courses": [...]}``) instead of the singular ``key``."""

    def rewrite(path: str, body: dict) -> dict | None:
        if path.rpartition("/")[0].endswith(f"/{collection}") and isinstance(body.get(key), dict):
            return {"status": 200, "body": {collection: [body[key]]}}
        return None

    return rewrite


def renamed_envelope(where: Callable[[str], bool], old: str, new: str) -> Body:
    """A response rewrite: answers on paths ``where`` accepts carry their data under ``new``
    instead of the envelope key ``old`` (``/schools`` under ``schools``, not ``orgs``)."""

    def rewrite(path: str, body: dict) -> dict | None:
        if where(path) and old in body:
            return {"status": 200, "body": {new if k == old else k: v for k, v in body.items()}}
        return None

    return rewrite


_NESTED_CLASSES = re.compile(r"/v1p1/\w+/[^/]+/classes$")
V11_SCHOOLS_AS_SCHOOLS = renamed_envelope(lambda p: p.endswith("/v1p1/schools"), "orgs",
                                          "schools")
V11_DEMOGRAPHICS_RECORD_AS_DEMOGRAPHIC = renamed_envelope(
    lambda p: "/v1p1/demographics/" in p, "demographics", "demographic")
# /schools/{id}/classes, /terms/{id}/classes, /users/{id}/classes and the like
V11_NESTED_CLASSES_AS_SECTIONS = renamed_envelope(
    lambda p: bool(_NESTED_CLASSES.search(p)), "classes", "sections")


def users_without_username(path: str, body: dict) -> dict | None:
    """Every user record lacks ``username``, which OneRoster 1.1 requires (1.2 does not)."""
    records = body.get("users") if isinstance(body.get("users"), list) else (
        [body["user"]] if isinstance(body.get("user"), dict) else [])
    for record in records:
        record.pop("username", None)
    return {"status": 200, "body": body} if records else None


def unknown_filter_field_is_200(path: str, body: dict) -> dict | None:
    """``/users`` answers a filter on a field users do not have with an empty page, as if the
    filter matched nothing, instead of 400 invalid_filter_field."""
    if path.endswith("/users") and "invalid_filter_field" in json.dumps(body):
        return {"status": 200, "body": {"users": []}}
    return None


HTML = [(b"content-type", b"text/html")]


def html_for_other_methods(scope: dict) -> dict | tuple:
    if scope["method"] not in ("GET", "HEAD") and "/rostering/" in scope["path"]:
        return 404, HTML, b"<html><body>Not Found</body></html>"
    return scope


def bad_date_is_500(scope: dict) -> dict | tuple:
    if any(k == "filter" and "yesterday" in v for k, v in query_params(scope)):
        return 500, HTML, b"<html>Internal Server Error</html>"
    return scope


# --- records: references, roles, agents (rewrites of walked pages) ----------------------------


Change = Callable[[list[dict]], None]


def edit_records(collection: str, change: Change,
                 at_least: int = 8) -> Callable[[str, dict], dict | None]:
    """A response rewrite: ``change`` edits the records of the flat /<collection> pages that
    hold at least ``at_least`` records. The default leaves the other checks' ``limit=5`` first
    pages intact and changes only the walks' pages."""

    def rewrite(path: str, body: dict) -> dict | None:
        records = body.get(collection)
        if not path.endswith(f"/{collection}") or not isinstance(records, list) \
                or len(records) < at_least:
            return None
        records = copy.deepcopy(records)
        change(records)
        return {"status": 200, "body": {**body, collection: records}}

    return rewrite


def edit_class_members(which: str, change: Change) -> Callable[[str, dict], dict | None]:
    """A response rewrite: ``change`` edits the users of ``/classes/{id}/<which>`` pages."""

    def rewrite(path: str, body: dict) -> dict | None:
        if not re.search(rf"/classes/[^/]+/{which}$", path) or not body.get("users"):
            return None
        users = copy.deepcopy(body["users"])
        change(users)
        return {"status": 200, "body": {**body, "users": users}}

    return rewrite


def without_record(sourced_id: str) -> Change:
    def change(records: list[dict]) -> None:
        records[:] = [r for r in records if r["sourcedId"] != sourced_id]

    return change


def add_primary_role(users: list[dict]) -> None:
    users[7]["roles"].append({**users[7]["roles"][0], "role": "aide"})


def drop_last(records: list[dict]) -> None:
    records.pop()


def class_typed_as_course(enrollments: list[dict]) -> None:
    enrollments[7]["class"]["type"] = "course"


def org_is_its_own_parent(orgs: list[dict]) -> None:
    school = next(o for o in orgs if o["type"] == "school")
    school["parent"] = {**school["parent"], "sourcedId": school["sourcedId"],
                        "href": school["parent"]["href"].rsplit("/", 1)[0] + "/"
                        + school["sourcedId"]}


def edit_users(body: dict, change: Callable[[dict], None]) -> dict | None:
    records = body.get("users") if isinstance(body.get("users"), list) else (
        [body["user"]] if isinstance(body.get("user"), dict) else [])
    for record in records:
        change(record)
    return body if records else None


def parents_without_agents(body: dict) -> dict | None:
    def change(user: dict) -> None:
        if user.get("roles", [{}])[0].get("role") in ("parent", "guardian"):
            user.pop("agents", None)
    return edit_users(body, change)


def second_org_without_primary(district_org: str) -> Rewrite:
    def change(user: dict) -> None:
        roles = user.get("roles")
        if roles and roles[0].get("role") == "student":
            user["roles"] = [*roles, {"roleType": "secondary", "role": "student",
                                      "org": {**roles[0]["org"], "sourcedId": district_org,
                                              "href": roles[0]["org"]["href"].rsplit("/", 1)[0]
                                              + "/" + district_org}}]
    return lambda body: edit_users(body, change)


def terms_at_a_grading_period(period: str) -> Rewrite:
    def rewrite(body: dict) -> dict | None:
        classes = body.get("classes") if isinstance(body.get("classes"), list) else (
            [body["class"]] if isinstance(body.get("class"), dict) else [])
        for klass in classes[:1]:
            klass["terms"] = [{**klass["terms"][0], "sourcedId": period}]
        return body if classes else None
    return rewrite


# --- dates and delta reads --------------------------------------------------------------------


def grading_period_outside_its_term(sessions: list[dict]) -> None:
    period = next(s for s in sessions if s["type"] == "gradingPeriod")
    period["startDate"] = f"{int(period['startDate'][:4]) - 1}{period['startDate'][4:]}"


def term_without_school_year(sessions: list[dict]) -> None:
    term = next(s for s in sessions if s["type"] == "term")
    year = next(s for s in sessions if s["sourcedId"] == term["parent"]["sourcedId"])
    del term["parent"]
    year["children"] = [c for c in year["children"] if c["sourcedId"] != term["sourcedId"]]


def enrollment_before_its_term(enrollments: list[dict]) -> None:
    enrollments[7]["beginDate"] = "2001-01-02"


def local_modified_time(courses: list[dict]) -> None:
    courses[7]["dateLastModified"] = courses[7]["dateLastModified"].rstrip("Z")


def delta_filter(change: Callable[[str], str]) -> Callable[[dict], dict]:
    def request(scope: dict) -> dict:
        return rewrite_query(scope, lambda p: {**p, "filter": change(p["filter"])}
                             if "dateLastModified>" in p.get("filter", "") else p)

    return request


def one_stamp_for_everyone(body: dict) -> dict | None:
    def change(user: dict) -> None:
        user["dateLastModified"] = "2026-01-05T08:00:00Z"
    return edit_users(body, change)


def nothing_after_the_one_stamp(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, "sourcedId='nobody'" if k == "filter" and "dateLastModified" in v else v)
         for k, v in query_params(scope)]).encode()
    return scope


# --- querying: filter, sort, fields -----------------------------------------------------------


def rewrite_filter(change: Callable[[Filter], Filter]) -> Callable[[str, Params], Params]:
    def request(path: str, params: Params) -> Params:
        try:
            parsed = parse_filter(params["filter"])
        except (KeyError, OneRosterError):
            return params
        return {**params, "filter": str(change(parsed))}

    return request


def first_predicate_only(flt: Filter) -> Filter:
    return Filter(flt.predicates[:1])


def not_equal_as_equal(flt: Filter) -> Filter:
    return Filter(tuple(Predicate(p.field, "=" if p.op == "!=" else p.op, p.value)
                        for p in flt.predicates), flt.logical)


def case_sensitive_contains(path: str, params: Params, status: int,
                            body: dict) -> JsonAnswer | None:
    """Keep, of the mock's (case-insensitive) answer, what a case-sensitive ~ selects."""
    if status != 200 or "~" not in params.get("filter", ""):
        return None
    collection = path.rsplit("/", 1)[1]
    cat = catalog(collection, version_of(path))
    flt = parse_filter(params["filter"])

    def keeps(record: dict) -> bool:
        results = []
        for p in flt.predicates:
            if p.op == "~":
                values = values_of(record, cat.fields[p.field]) or []
                results.append(any(p.value in v for v in values))
            else:
                results.append(matches(Filter((p,)), record, cat))
        return any(results) if flt.logical == "OR" else all(results)

    return 200, {**body, collection: [r for r in body[collection] if keeps(r)]}


def without_params(*names: str) -> Callable[[str, Params], Params]:
    return lambda path, params: {k: v for k, v in params.items() if k not in names}


def reversed_order(path: str, params: Params) -> Params:
    flip = {"asc": "desc", "desc": "asc"}
    return {**params, "orderBy": flip[params["orderBy"]]} if "orderBy" in params else params


def known_fields_only(path: str, params: Params) -> Params:
    if "fields" not in params or path.rsplit("/", 2)[-2] in ("users", "orgs"):
        return params  # collections only: a single record keeps its fields
    known = catalog(path.rsplit("/", 1)[1], version_of(path)).selectable
    return {**params, "fields": ",".join(n for n in params["fields"].split(",") if n in known)}


def fields_ignored_on_single_records(scope: dict) -> dict:
    if scope["path"].rsplit("/", 2)[-2] in ("users", "orgs"):  # /users/{id}, /orgs/{id}
        scope["query_string"] = urlencode(
            [(k, v) for k, v in query_params(scope) if k != "fields"]).encode()
    return scope


def blank_fields_ignored(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, v) for k, v in query_params(scope) if not (k == "fields" and not v.strip())]).encode()
    return scope


def no_warnings(path: str, params: Params, status: int, body: dict) -> JsonAnswer | None:
    if status != 200 or "statusInfoSet" not in body:
        return None
    return 200, {k: v for k, v in body.items() if k != "statusInfoSet"}


def malformed_filter_is_200(path: str, params: Params, status: int,
                            body: dict) -> JsonAnswer | None:
    if status != 400 or "filter" not in params:
        return None
    try:
        parse_filter(params["filter"])
    except OneRosterError:
        return 200, {path.rsplit("/", 1)[1]: []}
    return None


# --- the grade book (writes) ------------------------------------------------------------------


def is_put_to(collection: str, method: str, path: str) -> bool:
    return method == "PUT" and f"/{collection}/" in path


def unknown_student_accepted(method: str, path: str, status: int, body: bytes) -> RawAnswer | None:
    if is_put_to("results", method, path) and status == 422 and b"unknown student" in body:
        return 201, b""
    return None


def unknown_class_is_500(method: str, path: str, status: int, body: bytes) -> RawAnswer | None:
    if is_put_to("lineItems", method, path) and status == 422 and b"unknown class" in body:
        return 500, b'{"error": "boom"}'
    return None


def delete_does_nothing(method: str, path: str) -> RawAnswer | None:
    return (204, b"") if method == "DELETE" else None


def updates_not_stored(*collections: str) -> Before:
    """PUTs to ``collections`` (line items by default) after the first for a sourcedId answer
    200 and store nothing."""
    seen: set[str] = set()

    def before(method: str, path: str) -> RawAnswer | None:
        if not any(is_put_to(c, method, path) for c in collections or ("lineItems",)):
            return None
        if path in seen:
            return 200, b""
        seen.add(path)
        return None

    return before


def malformed_answered_with_html(method: str, path: str, status: int, body: bytes
                                 ) -> RawAnswer | None:
    if method == "PUT" and status == 400:
        return 400, b"<html><body><h1>Bad Request</h1></body></html>"
    return None


def schema_error_is_500(method: str, path: str, status: int, body: bytes) -> RawAnswer | None:
    if method == "PUT" and status == 400 and b"schema:" in body:
        return 500, b'{"error": "NumberFormatException"}'
    return None


def no_grade_book(method: str, path: str) -> RawAnswer | None:
    """A rostering-only provider: every grade-book route is an HTML 404."""
    return (404, b"<html><body>Cannot GET</body></html>") if "/gradebook/" in path else None


def read_only_grade_book(method: str, path: str) -> RawAnswer | None:
    """A grade book served for reading only (Gradebook Pull): every PUT is a 405."""
    return (405, b"") if method == "PUT" else None


def second_clause_ignored(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, v.split(" AND ")[0] if k == "filter" else v) for k, v in query_params(scope)]).encode()
    return scope


def students_only(scope: dict) -> dict:
    """/users serves only the 60 students (a district smaller than one page of 100)."""
    if scope["path"].endswith("/users"):
        scope["query_string"] = urlencode(
            [*query_params(scope), ("filter", "roles.role='student'")]).encode()
    return scope


def limits_taken_as_given(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, "100" if k == "limit" and v in ("0", "-1") else v)
         for k, v in query_params(scope)]).encode()
    return scope


def delta_filter_at_finer_precision(scope: dict) -> dict:
    """Stored stamps carry microseconds the answers leave out: every user is 'later' than the
    stamp it is served with, so the delta filter returns them all."""
    scope["query_string"] = urlencode(
        [(k, v) for k, v in query_params(scope)
         if not (k == "filter" and v.startswith("dateLastModified>'"))]).encode()
    return scope


def status_payload_in_1_1_spelling(body: dict) -> dict | None:
    minor = body.get("imsx_CodeMinor")
    if not isinstance(minor, dict):
        return None
    body = {k: v for k, v in body.items() if k != "imsx_CodeMinor"}
    body["imsx_codeMinor"] = minor["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"]
    return body


def offset_ignored(scope: dict) -> dict:
    scope["query_string"] = urlencode(
        [(k, v) for k, v in query_params(scope) if k != "offset"]).encode()
    return scope


def datetimes_only_as_served(scope: dict) -> dict | tuple:
    """A provider that parses filter date-times only in the one spelling it serves (no
    fraction, Z): another ISO 8601 spelling of the same instant is refused."""
    for key, value in query_params(scope):
        if key == "filter" and re.search(r"(\.\d+Z|\+00:00)'", value):
            return status_answer(400, "invaliddata", "bad date-time")
    return scope


def relative_hrefs_in(body: dict) -> dict | None:
    """Every href written as a path from the service root, as some certified providers do."""
    text = json.dumps(body)
    relative = re.sub(r'"href": "https?://[^"]*?/ims/oneroster/[^/"]+(?:/v1p[12])?', '"href": "',
                      text)
    return json.loads(relative) if relative != text else None


def own_scope_names_only(form: dict[str, str], headers: dict[str, str]) -> Verdict:
    """A token URL that knows only scope names of its own (as a 1.1 provider may): any
    OneRoster scope URI asked for is refused without naming it; no scope at all gets its
    default scope."""
    if form.get("scope", "").strip():
        return token_refusal(400, "invalid_scope",
                             "The requested scope is invalid, unknown, or malformed.")
    return None


def nested_class_rosters_not_offered(scope: dict) -> dict | tuple:
    """A provider that does not serve /classes/{id}/students at all, whatever the token."""
    if re.search(r"/classes/[^/]+/students$", scope["path"]):
        return status_answer(404, "unknownobject", "not found")
    return scope


def dotted_filters_refused(scope: dict) -> dict | tuple:
    """A provider that filters plain fields only: a dotted or list field is refused with 400
    and a status payload (as a certified 1.2 provider does)."""
    for key, value in query_params(scope):
        if key == "filter" and re.search(r"(\w+\.\w+|grades)\s*(=|!=|~|<|>)", value):
            return status_answer(400, "invalid_filter_field", "unsupported filter field")
    return scope


def sorts_always_throttled(scope: dict) -> dict | tuple:
    """A provider whose rate limit never lets a sorted request through (HTML 429 body)."""
    if any(key == "sort" for key, _ in query_params(scope)):
        return 429, [(b"content-type", b"text/html"), (b"retry-after", b"0")], \
            b"Too many requests, please try again later."
    return scope


def status_answer(status: int, code: str, description: str) -> tuple[int, list, bytes]:
    """A whole 1.2 refusal with its imsx_StatusInfoDType, as a defect answers it itself."""
    body = {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": description,
            "imsx_CodeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": code}]}}
    return status, [(b"content-type", b"application/json")], json.dumps(body).encode()


def scores_compared_as_text(scope: dict) -> dict | tuple:
    """A provider that compares score as text: score<'9' also returns 10 to 89 (as '10' <
    '9'). Simulated by asking the mock for score < 90 instead."""
    return rewrite_query(scope, lambda params: {
        **params, "filter": "score<'90'"} if params.get("filter") in ("score<'9'",
                                                                      "score<'9.0'") else params)


# --- under load (`load`'s correctness verdicts) -----------------------------------------------


def pages_overlap(collection: str) -> Callable[[str, Params], Params]:
    """A provider whose pages of ``collection`` after the first start one record early (an
    offset counted from a list that moved under concurrent writes): each page repeats the
    previous page's last record, and the walk ends one record short of X-Total-Count."""
    def overlap(path: str, params: Params) -> Params:
        offset = int(params.get("offset") or 0)
        if path.endswith(f"/{collection}") and offset > 0:
            return {**params, "offset": str(offset - 1)}
        return params

    return overlap


def server_errors_after(requests: int, every: int = 3) -> Callable[[dict], dict | tuple]:
    """A provider that holds up for ``requests`` OneRoster requests, then answers every
    ``every``-th with 500 (a spec-shaped status, no Retry-After)."""
    seen = itertools.count(1)

    def failing(scope: dict) -> dict | tuple:
        n = next(seen)
        if n > requests and n % every == 0:
            return status_answer(500, "server_error", "the database is overloaded")
        return scope

    return failing


def throttled_without_retry_after(every: int) -> Callable[[dict], dict | tuple]:
    """A provider whose rate limit answers every ``every``-th request 429 with no Retry-After
    (the consumer cannot know when to come back)."""
    seen = itertools.count(1)

    def throttle(scope: dict) -> dict | tuple:
        if next(seen) % every == 0:
            return status_answer(429, "server_busy", "too many requests")
        return scope

    return throttle


class SometimesSlow:
    """A provider whose every ``every``-th OneRoster answer is ``seconds`` late (a lock held
    by another client's request), the others on time."""

    def __init__(self, app, every: int, seconds: float) -> None:
        self.app, self.every, self.seconds = app, every, seconds
        self.seen = itertools.count(1)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and "/ims/oneroster/" in scope["path"] and \
                next(self.seen) % self.every == 0:
            await asyncio.sleep(self.seconds)
        await self.app(scope, receive, send)
