"""The OAuth 2 token endpoint over real HTTP: client authentication, grant type, scopes, expiry."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_provider.connections import Connection, allowed_scopes
from mock_provider.errors import OneRosterError, error_body
from mock_provider.middleware.auth import BearerAuth, require
from mock_provider.routes.oauth import token_endpoint
from mock_provider.scopes import required_scopes_v12
from mock_provider.tokens import TokenIssuer
from tests.live_server import live_server

V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
NOW = 1_750_000_000.0  # 2025-06-15 UTC
LMS = Connection("lms", "lms-client", "lms-secret+/=value", allowed_scopes("any"),
                 token_lifetime=900)
CORE = Connection("core", "core-client", "core-secret", frozenset({V12 + "roster-core.readonly"}),
                  version="1.2")
OLD = Connection("old", "old-client", "old-secret", allowed_scopes("1.1"), version="1.1",
                 expires=date(2025, 6, 1))


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


async def users(request: Request) -> Response:
    grant = require(request, required_scopes_v12("getAllUsers"))
    return JSONResponse({"client": grant.client_id})


async def oneroster_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OneRosterError)
    return Response(error_body(exc, "1.2"), exc.status, media_type="application/json")


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    connections, tokens = [LMS, CORE, OLD], TokenIssuer(FakeClock())
    app = Starlette(
        routes=[Route("/oauth2/token", token_endpoint(connections, tokens), methods=["POST"]),
                Route("/ims/oneroster/rostering/v1p2/users", users)],
        middleware=[Middleware(BearerAuth, connections=connections, tokens=tokens)],
        exception_handlers={OneRosterError: oneroster_error},
    )
    with live_server(app) as url, httpx.Client(base_url=url) as http:
        yield http


def token(client: httpx.Client, data: dict[str, str] | None = None, auth: tuple | None = None,
          url: str = "/oauth2/token", **kwargs: object) -> httpx.Response:
    form = {"grant_type": "client_credentials", **(data or {})}
    return client.post(url, data=form, auth=auth, **kwargs)  # type: ignore[arg-type]


def assert_error(response: httpx.Response, status: int, error: str, says: str = "") -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error and says in body["error_description"]
    for secret in ("lms-secret", "core-secret", "old-secret", "wrong-secret"):
        assert secret not in response.text


def test_token_by_basic(client: httpx.Client) -> None:
    response = token(client, auth=(LMS.client_id, LMS.client_secret))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900  # the connection's token_lifetime
    assert body["scope"].split() == sorted(LMS.scopes)


def test_token_by_form_fields(client: httpx.Client) -> None:
    response = token(client, {"client_id": CORE.client_id, "client_secret": CORE.client_secret})
    assert response.status_code == 200
    assert response.json()["scope"] == V12 + "roster-core.readonly"
    assert response.json()["expires_in"] == 3600


def test_basic_with_form_encoded_credentials(client: httpx.Client) -> None:
    # RFC 6749 §2.3.1 form-encodes id and secret before Basic; most clients do not. Both work.
    encoded = base64.b64encode(b"lms-client:lms-secret%2B%2F%3Dvalue").decode()
    response = token(client, headers={"Authorization": f"Basic {encoded}"})
    assert response.status_code == 200


def test_campus_app_name_query_is_ignored(client: httpx.Client) -> None:
    response = token(client, auth=(CORE.client_id, CORE.client_secret),
                     url="/oauth2/token?appName=district42")
    assert response.status_code == 200


def test_both_methods_agreeing_is_fine(client: httpx.Client) -> None:
    response = token(client, {"client_id": CORE.client_id, "client_secret": CORE.client_secret},
                     auth=(CORE.client_id, CORE.client_secret))
    assert response.status_code == 200


def test_both_methods_disagreeing(client: httpx.Client) -> None:
    response = token(client, {"client_id": LMS.client_id, "client_secret": LMS.client_secret},
                     auth=(CORE.client_id, CORE.client_secret))
    assert_error(response, 400, "invalid_request", "differ")


@pytest.mark.parametrize(("auth", "data"), [
    (("lms-client", "wrong-secret"), None),
    (("nobody", "wrong-secret"), None),
    (None, {"client_id": "lms-client", "client_secret": "wrong-secret"}),
    (None, {"client_id": "lms-client"}),
    (None, None),
], ids=["wrong secret", "unknown client", "wrong form secret", "form id only", "no credentials"])
def test_bad_credentials(client: httpx.Client, auth: tuple | None, data: dict | None) -> None:
    response = token(client, data, auth=auth)
    assert_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"] == 'Basic realm="oneroster"'


def test_wrong_and_unknown_answers_are_identical(client: httpx.Client) -> None:
    wrong = token(client, auth=("lms-client", "wrong-secret"))
    unknown = token(client, auth=("nobody", "wrong-secret"))
    assert wrong.json() == unknown.json()


def test_malformed_basic(client: httpx.Client) -> None:
    response = token(client, headers={"Authorization": "Basic not*base64"})
    assert_error(response, 401, "invalid_client", "malformed")


def test_wrong_grant_type(client: httpx.Client) -> None:
    response = token(client, {"grant_type": "password"}, auth=(LMS.client_id, LMS.client_secret))
    assert_error(response, 400, "unsupported_grant_type", "client_credentials")


def test_missing_grant_type(client: httpx.Client) -> None:
    response = client.post("/oauth2/token", data={"scope": ""},
                           auth=(LMS.client_id, LMS.client_secret))
    assert_error(response, 400, "invalid_request", "grant_type")


def test_unknown_scope_is_named(client: httpx.Client) -> None:
    response = token(client, {"scope": f"{V12}roster.readonly {V12}roster.writeall"},
                     auth=(LMS.client_id, LMS.client_secret))
    assert_error(response, 400, "invalid_scope", f"{V12}roster.writeall")


def test_scope_beyond_the_connection(client: httpx.Client) -> None:
    response = token(client, {"scope": f"{V12}roster.readonly"},
                     auth=(CORE.client_id, CORE.client_secret))
    assert_error(response, 400, "invalid_scope", f"{V12}roster.readonly")


def test_narrowed_scope_is_granted_exactly(client: httpx.Client) -> None:
    wanted = f"{V12}roster-core.readonly {V12}gradebook.readonly"
    response = token(client, {"scope": wanted}, auth=(LMS.client_id, LMS.client_secret))
    assert response.status_code == 200
    assert response.json()["scope"].split() == sorted(wanted.split())


def test_expired_credentials(client: httpx.Client) -> None:
    response = token(client, auth=(OLD.client_id, OLD.client_secret))
    assert_error(response, 401, "invalid_client", "credentials expired on 2025-06-01")


def test_json_body_is_refused(client: httpx.Client) -> None:
    response = client.post("/oauth2/token", json={"grant_type": "client_credentials"},
                           auth=(LMS.client_id, LMS.client_secret))
    assert_error(response, 400, "invalid_request", "application/x-www-form-urlencoded")


def test_repeated_parameter_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/oauth2/token", content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(LMS.client_id, LMS.client_secret))
    assert_error(response, 400, "invalid_request", "more than once")


def test_two_tokens_of_one_client_both_work(client: httpx.Client) -> None:
    first, second = (token(client, auth=(LMS.client_id, LMS.client_secret)).json()["access_token"]
                     for _ in range(2))
    assert first != second
    for access_token in (first, second):
        response = client.get("/ims/oneroster/rostering/v1p2/users",
                              headers={"Authorization": f"Bearer {access_token}"})
        assert response.status_code == 200
        assert response.json() == {"client": "lms-client"}
