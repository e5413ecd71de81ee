"""The Infinite Campus flavor: Campus URL layout, ?appName= token URL, guardian visibility."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.connections import Connection, allowed_scopes
from mock_provider.profiles import profile_for
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

APP = "springfield"
V12 = f"/campus/api/oneroster/v1p2/{APP}/ims/oneroster/rostering/v1p2"
V11 = f"/campus/api/oneroster/v1p1/{APP}/ims/oneroster/v1p1"
TOKEN = f"/campus/oauth2/token?appName={APP}"


@pytest.fixture(scope="module")
def campus(districts_dir: Path) -> Iterator[str]:
    store = Store(make_district(districts_dir, 42, 60))
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=allowed_scopes("any", "supported")),
        Connection(name="roster-only", client_id="ro", client_secret="ro-secret",
                   scopes=allowed_scopes("any", "unsupported"), connection_type="unsupported"),
    ]
    settings = Settings(profile=profile_for("infinite-campus", APP))
    with live_server(create_app(store, connections, settings)) as url:
        yield url


def _token(url: str, client: str, path: str = TOKEN) -> httpx.Response:
    return httpx.post(url + path, data={"grant_type": "client_credentials"},
                      auth=(client, f"{client}-secret"))


def _get(url: str, path: str, client: str = "lms", **params: object) -> httpx.Response:
    bearer = _token(url, client).json()["access_token"]
    return httpx.get(url + path, params=params, headers={"Authorization": f"Bearer {bearer}"})


def test_tokens_come_from_the_campus_token_url_with_the_app_name(campus: str) -> None:
    assert _token(campus, "lms").status_code == 200
    wrong = _token(campus, "lms", "/campus/oauth2/token?appName=elsewhere")
    assert wrong.status_code == 400
    assert "elsewhere" in wrong.json()["error_description"]
    assert _token(campus, "lms", "/campus/oauth2/token").status_code == 400
    assert _token(campus, "lms", "/oauth2/token").status_code == 404


def test_rostering_is_served_under_the_campus_prefix(campus: str) -> None:
    response = _get(campus, f"{V12}/students", limit=2)
    assert response.status_code == 200
    href = response.json()["users"][0]["roles"][0]["org"]["href"]
    assert href.startswith(f"{campus}{V12}/orgs/")
    assert _get(campus, f"{V11}/students", limit=2).status_code == 200
    assert _get(campus, "/ims/oneroster/rostering/v1p2/students").status_code == 404


def test_guardians_are_shared_only_with_grade_book_connections(campus: str) -> None:
    for_lms = _get(campus, f"{V12}/users", limit=1000,
                   filter="roles.role='parent' OR roles.role='guardian'")
    assert for_lms.status_code == 200 and for_lms.json()["users"]
    roster_only = _get(campus, f"{V12}/users", client="ro", limit=1000)
    roles = {u["roles"][0]["role"] for u in roster_only.json()["users"]}
    assert roles and not roles & {"parent", "guardian", "relative"}
    guardian_id = for_lms.json()["users"][0]["sourcedId"]
    assert _get(campus, f"{V12}/users/{guardian_id}", client="ro").status_code == 404


def test_discovery_names_the_campus_token_url(campus: str) -> None:
    doc = httpx.get(f"{campus}{V12}/discovery/imsorv1p2_rostering_openapi3_v1p0.json").json()
    flows = doc["components"]["securitySchemes"]["OAuth2CC"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == campus + TOKEN
    assert doc["servers"] == [{"url": campus + V12}]


def test_1_1_uses_role_prefixed_legacy_ids_everywhere(campus: str) -> None:
    import re

    from specs import validator

    students = _get(campus, f"{V11}/students", limit=5).json()["users"]
    assert all(re.fullmatch(r"s\d+", s["sourcedId"]) for s in students)
    assert all(s["sourcedId"] == "s" + s["identifier"] for s in students)
    legacy = students[0]["sourcedId"]
    one = _get(campus, f"{V11}/users/{legacy}")
    assert one.status_code == 200 and one.json()["user"]["sourcedId"] == legacy
    classes = _get(campus, f"{V11}/students/{legacy}/classes")
    assert classes.status_code == 200 and classes.json()["classes"]
    enrollments = _get(campus, f"{V11}/enrollments", limit=50).json()
    assert not list(validator("1.1", "enrollments").iter_errors(enrollments))
    for enrollment in enrollments["enrollments"]:
        user = enrollment["user"]
        assert re.fullmatch(r"[st]\d+", user["sourcedId"])
        assert user["href"].endswith(f"/users/{user['sourcedId']}")
    assert _get(campus, f"{V11}/users/s999999999").status_code == 404


def test_1_2_users_keep_guids_and_carry_the_legacy_id_in_metadata(campus: str) -> None:
    from specs import validator

    body = _get(campus, f"{V12}/students", limit=5).json()
    assert not list(validator("1.2", "UserSetDType").iter_errors(body))
    for user in body["users"]:
        assert len(user["sourcedId"]) == 36
        assert user["metadata"] == {"ic.legacysourceId": user["identifier"]}
    selected = _get(campus, f"{V12}/students", limit=2, fields="sourcedId,metadata").json()
    assert all(set(u) == {"sourcedId", "metadata"} for u in selected["users"])
