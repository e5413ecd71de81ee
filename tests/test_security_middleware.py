"""BearerAuth and require() over real HTTP: 401 and 403 in each version's error shape,
bearer tokens (opaque and signed across workers) and OAuth 1.0a signatures on 1.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mock_provider.connections import Connection, allowed_scopes
from mock_provider.errors import OneRosterError, error_body
from mock_provider.middleware.auth import BearerAuth, require
from mock_provider.oauth1 import sign_oauth1
from mock_provider.paths import version_of
from mock_provider.scopes import required_scopes_v11, required_scopes_v12
from mock_provider.tokens import TokenIssuer
from tests.live_server import live_server

V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
NOW = 1_750_000_000.0  # 2025-06-15 12:26 UTC
DAY = 86_400
KEY = b"workers-share-this-key-0123456789"
LMS = Connection("lms", "lms-client", "lms-secret", allowed_scopes("any"), oauth1=True)
CORE = Connection("core", "core-client", "core-secret", frozenset({V12 + "roster-core.readonly"}),
                  version="1.2")
UNSIGNED = Connection("unsigned", "unsigned-client", "unsigned-secret", allowed_scopes("1.1"),
                      version="1.1")
EXPIRING = Connection("expiring", "expiring-client", "expiring-secret", allowed_scopes("any"),
                      expires=date(2025, 6, 15), token_lifetime=3 * DAY)
V11_USERS = "/ims/oneroster/v1p1/users"
V12_USERS = "/ims/oneroster/rostering/v1p2/users"


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def answer(request: Request, any_of: frozenset[str]) -> Response:
    grant = require(request, any_of)
    assert grant.connection is not None
    return JSONResponse({"client": grant.client_id, "auth": grant.auth,
                         "connection": grant.connection.name})


async def users_v12(request: Request) -> Response:
    return answer(request, required_scopes_v12("getAllUsers"))


async def students_v12(request: Request) -> Response:
    return answer(request, required_scopes_v12("getStudentsForClass"))


async def users_v11(request: Request) -> Response:
    return answer(request, required_scopes_v11("GET", "/users"))


async def public(request: Request) -> Response:
    return PlainTextResponse("hello")


async def oneroster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OneRosterError)
    return Response(error_body(exc, version_of(request.url.path)), exc.status,
                    media_type="application/json")


def make_app(issuer: TokenIssuer, connections: list[Connection] | None = None,
             allow_oauth1_sha1: bool = False) -> Starlette:
    return Starlette(
        routes=[Route(V12_USERS, users_v12),
                Route("/ims/oneroster/rostering/v1p2/classes/{classSourcedId}/students",
                      students_v12),
                Route(V11_USERS, users_v11), Route("/public", public)],
        middleware=[Middleware(BearerAuth, tokens=issuer, allow_oauth1_sha1=allow_oauth1_sha1,
                               connections=connections or [LMS, CORE, UNSIGNED, EXPIRING])],
        exception_handlers={OneRosterError: oneroster_error},
    )


CLOCK = FakeClock()
ISSUER = TokenIssuer(CLOCK)
# The middleware reads this list on every request, so a test may take a connection out.
CONNECTIONS = [LMS, CORE, UNSIGNED, EXPIRING]
APP = make_app(ISSUER, CONNECTIONS)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with live_server(APP) as url, httpx.Client(base_url=url) as http:
        yield http


@pytest.fixture(autouse=True)
def reset() -> Iterator[None]:
    yield
    CLOCK.now = NOW


def bearer(connection: Connection, *scopes: str) -> dict[str, str]:
    issued = ISSUER.issue(connection, scopes or connection.scopes)
    return {"Authorization": f"Bearer {issued.access_token}"}


def assert_401(response: httpx.Response, says: str, version: str = "1.2",
               challenge: str = 'Bearer realm="oneroster"') -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["www-authenticate"] == challenge
    body = response.json()
    if version == "1.1":
        (status,) = body["statusInfoSet"]
        assert status["imsx_codeMinor"] == "unauthorized"
    else:
        field = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]
        assert field["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
        status = body
    assert status["imsx_codeMajor"] == "failure" and says in status["imsx_description"]


# --- bearer ------------------------------------------------------------------------------

def test_unprotected_paths_pass_through(client: httpx.Client) -> None:
    response = client.get("/public")
    assert response.status_code == 200 and response.text == "hello"


def test_no_header(client: httpx.Client) -> None:
    assert_401(client.get(V12_USERS), "missing Authorization header")


def test_no_header_on_v11_answers_in_v11_shape(client: httpx.Client) -> None:
    assert_401(client.get(V11_USERS), "missing Authorization header", version="1.1")


@pytest.mark.parametrize(("header", "says", "challenge"), [
    ("Bearer", "malformed", 'Bearer realm="oneroster"'),
    ("Bearer a b", "malformed", 'Bearer realm="oneroster", error="invalid_token"'),
    ("Token abc", "unsupported Authorization scheme", 'Bearer realm="oneroster"'),
    ("Basic bG1zLWNsaWVudDpsbXMtc2VjcmV0", "unsupported Authorization scheme",
     'Bearer realm="oneroster"'),
])
def test_malformed_header(client: httpx.Client, header: str, says: str, challenge: str) -> None:
    assert_401(client.get(V12_USERS, headers={"Authorization": header}), says,
               challenge=challenge)


def test_unknown_token(client: httpx.Client) -> None:
    response = client.get(V12_USERS, headers={"Authorization": "Bearer not-a-real-token"})
    assert_401(response, "unknown access token",
               challenge='Bearer realm="oneroster", error="invalid_token"')


def test_expired_token(client: httpx.Client) -> None:
    headers = bearer(LMS)
    CLOCK.now += 3600
    assert_401(client.get(V12_USERS, headers=headers), "expired",
               challenge='Bearer realm="oneroster", error="invalid_token"')


def test_credentials_expiring_cut_off_live_tokens(client: httpx.Client) -> None:
    headers = bearer(EXPIRING)
    assert client.get(V12_USERS, headers=headers).status_code == 200
    CLOCK.now += DAY  # the token still lives; the credentials do not
    assert_401(client.get(V12_USERS, headers=headers), "credentials expired on 2025-06-15",
               challenge='Bearer realm="oneroster", error="invalid_token"')


def test_valid_token_with_the_scope(client: httpx.Client) -> None:
    response = client.get(V12_USERS, headers=bearer(CORE))
    assert response.status_code == 200
    assert response.json() == {"client": "core-client", "auth": "bearer", "connection": "core"}


def test_valid_token_without_the_scope(client: httpx.Client) -> None:
    response = client.get("/ims/oneroster/rostering/v1p2/classes/c1/students",
                          headers=bearer(CORE))
    assert response.status_code == 403
    body = response.json()
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        "forbidden")
    assert body["imsx_description"] == (
        f"this token lacks the scope this request needs (any of: {V12}roster.readonly)")


def test_narrowed_token_is_held_to_its_scopes(client: httpx.Client) -> None:
    headers = bearer(LMS, V12 + "roster-demographics.readonly")
    assert client.get(V12_USERS, headers=headers).status_code == 403


def test_v11_bearer(client: httpx.Client) -> None:
    response = client.get(V11_USERS, headers=bearer(UNSIGNED))
    assert response.status_code == 200 and response.json()["auth"] == "bearer"
    # A 1.2-only token lacks every 1.1 scope.
    forbidden = client.get(V11_USERS, headers=bearer(CORE))
    assert forbidden.status_code == 403
    assert forbidden.json()["statusInfoSet"][0]["imsx_codeMinor"] == "forbidden"


def test_removed_connection_loses_its_tokens(client: httpx.Client) -> None:
    headers = bearer(CORE)
    CONNECTIONS.remove(CORE)
    try:
        assert_401(client.get(V12_USERS, headers=headers), "no longer registered",
                   challenge='Bearer realm="oneroster", error="invalid_token"')
    finally:
        CONNECTIONS.insert(1, CORE)


def test_signed_tokens_work_across_workers() -> None:
    # Two servers sharing a key stand for two worker processes; a third has its own key.
    worker_a = TokenIssuer(CLOCK, signing_key=KEY)
    worker_b = make_app(TokenIssuer(CLOCK, signing_key=KEY))
    stranger = make_app(TokenIssuer(CLOCK, signing_key=b"a-different-key-0123456789abcdef"))
    access = worker_a.issue(CORE, CORE.scopes).access_token
    headers = {"Authorization": f"Bearer {access}"}
    with live_server(worker_b) as b_url, live_server(stranger) as s_url:
        ok = httpx.get(b_url + V12_USERS, headers=headers)
        assert ok.status_code == 200 and ok.json()["connection"] == "core"
        assert_401(httpx.get(s_url + V12_USERS, headers=headers), "unknown access token",
                   challenge='Bearer realm="oneroster", error="invalid_token"')


# --- OAuth 1.0a on 1.1 -------------------------------------------------------------------

def signed(client: httpx.Client, path: str, params: dict[str, str] | None = None, *,
           connection: Connection = LMS, secret: str | None = None, timestamp: float = NOW,
           method_name: str = "HMAC-SHA256", nonce: str | None = None) -> httpx.Request:
    request = client.build_request("GET", path, params=params)
    request.headers["Authorization"] = sign_oauth1(
        "GET", str(request.url), connection.client_id, secret or connection.client_secret,
        method_name=method_name, timestamp=int(timestamp), nonce=nonce)
    return request


FILTER = {"filter": "familyName='O Brien' AND status='active'", "limit": "5", "sort": "givenName"}


def test_oauth1_sha256_accepted(client: httpx.Client) -> None:
    response = client.send(signed(client, V11_USERS))
    assert response.status_code == 200
    assert response.json() == {"client": "lms-client", "auth": "oauth1", "connection": "lms"}


def test_oauth1_with_quoted_filter_and_spaces(client: httpx.Client) -> None:
    response = client.send(signed(client, V11_USERS, FILTER))
    assert response.status_code == 200, response.text


def test_oauth1_with_percent_twenty_spaces(client: httpx.Client) -> None:
    # Clients that write %20 for spaces (not +) sign the same normalised parameters.
    path = V11_USERS + "?filter=familyName%3D%27O%20Brien%27%20AND%20status%3D%27active%27"
    response = client.send(signed(client, path))
    assert response.status_code == 200, response.text


def test_oauth1_tampered_query(client: httpx.Client) -> None:
    request = signed(client, V11_USERS, FILTER)
    tampered = client.build_request("GET", V11_USERS, params={**FILTER, "limit": "500"},
                                    headers={"Authorization": request.headers["Authorization"]})
    assert_401(client.send(tampered), "signature does not match", version="1.1")


def test_oauth1_replayed_nonce(client: httpx.Client) -> None:
    request = signed(client, V11_USERS, nonce="once-only-nonce")
    assert client.send(request).status_code == 200
    assert_401(client.send(request), "oauth_nonce was already used", version="1.1")


@pytest.mark.parametrize(("offset", "says"), [(-601, "minutes old"), (301, "minutes ahead")])
def test_oauth1_timestamp_window(client: httpx.Client, offset: int, says: str) -> None:
    assert_401(client.send(signed(client, V11_USERS, timestamp=NOW + offset)), says,
               version="1.1")


@pytest.mark.parametrize("offset", [-599, 299])
def test_oauth1_timestamp_inside_window(client: httpx.Client, offset: int) -> None:
    assert client.send(signed(client, V11_USERS, timestamp=NOW + offset)).status_code == 200


def test_oauth1_sha1_only_when_allowed(client: httpx.Client) -> None:
    assert_401(client.send(signed(client, V11_USERS, method_name="HMAC-SHA1")),
               "HMAC-SHA1 is not accepted", version="1.1")
    with live_server(make_app(ISSUER, allow_oauth1_sha1=True)) as url, \
            httpx.Client(base_url=url) as allowing:
        response = allowing.send(signed(allowing, V11_USERS, method_name="HMAC-SHA1"))
    assert response.status_code == 200, response.text


def test_oauth1_wrong_secret(client: httpx.Client) -> None:
    response = client.send(signed(client, V11_USERS, secret="wrong-secret"))
    assert_401(response, "signature does not match", version="1.1")
    assert "wrong-secret" not in response.text and "lms-secret" not in response.text


def test_oauth1_needs_the_connection_to_allow_it(client: httpx.Client) -> None:
    response = client.send(signed(client, V11_USERS, connection=UNSIGNED))
    assert_401(response, "does not accept OAuth 1.0a", version="1.1")


def test_oauth1_is_not_accepted_on_v12(client: httpx.Client) -> None:
    assert_401(client.send(signed(client, V12_USERS)), "only on OneRoster 1.1")
