"""The resources service: the district's digital resources and what they are attached to."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.routes.operations import RESOURCES, RESOURCES_V11
from mock_provider.store import Store
from specs import validator

from .conftest import make_district
from .live_server import live_server

R12 = "/ims/oneroster/resources/v1p2"
V11 = "/ims/oneroster/v1p1"


@pytest.fixture(scope="module")
def served(districts_dir: Path) -> Iterator[tuple[httpx.Client, Store, dict[str, str]]]:
    store = Store(make_district(districts_dir, 42, 60))
    conn = store.conn
    klass, course = conn.execute(
        "SELECT sourcedId, course_id FROM classes WHERE hidden = 0").fetchone()
    teacher = conn.execute("SELECT user_id FROM enrollments WHERE class_id = ? AND "
                           "role = 'teacher' AND primary_ = 'true'", (klass,)).fetchone()[0]
    ids = {"classSourcedId": klass, "courseSourcedId": course, "userSourcedId": teacher,
           "sourcedId": conn.execute("SELECT sourcedId FROM resources").fetchone()[0]}
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with live_server(create_app(store, [lms], close_store=True)) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("lms", "lms-secret")).json()["access_token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client:
            yield client, store, ids


def _path(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


@pytest.mark.parametrize("op", RESOURCES, ids=lambda op: op.operation_id)
def test_every_1_2_resources_operation_answers_a_valid_envelope(served, op) -> None:
    client, _, ids = served
    response = client.get(R12 + _path(op.path, ids))
    assert response.status_code == 200, response.text
    body = response.json()
    schema = "SingleResourceDType" if op.single else "ResourceSetDType"
    assert not [e.message for e in validator("1.2", schema).iter_errors(body)]
    assert body[op.envelope]


@pytest.mark.parametrize("op", RESOURCES_V11, ids=lambda op: op.operation_id)
def test_every_1_1_resources_operation_answers_a_valid_envelope(served, op) -> None:
    client, _, ids = served
    response = client.get(V11 + _path(op.path, ids))
    assert response.status_code == 200, response.text
    assert not [e.message for e in validator("1.1", op.envelope).iter_errors(response.json())]


def test_a_class_lists_exactly_the_resources_it_references(served) -> None:
    client, _, ids = served
    klass = client.get(f"/ims/oneroster/rostering/v1p2/classes/{ids['classSourcedId']}")
    referenced = {r["sourcedId"] for r in klass.json()["class"]["resources"]}
    listed = client.get(f"{R12}/classes/{ids['classSourcedId']}/resources").json()["resources"]
    assert {r["sourcedId"] for r in listed} == referenced
    teacher = client.get(f"{R12}/users/{ids['userSourcedId']}/resources").json()["resources"]
    assert teacher and all(r["roles"] == ["teacher"] for r in teacher)
    assert client.get(f"{R12}/classes/nope/resources").status_code == 404
