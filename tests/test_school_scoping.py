"""A connection limited to some schools sees their data and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

V12 = "/ims/oneroster/rostering/v1p2"


@pytest.fixture(scope="module")
def scoped(districts_dir: Path) -> Iterator[tuple[httpx.Client, Store, str, str]]:
    store = Store(make_district(districts_dir, 42, 4_000))
    mine, other = [r[0] for r in store.conn.execute(
        "SELECT identifier FROM orgs WHERE type = 'school' ORDER BY seq LIMIT 2")]
    connection = Connection(name="one-school", client_id="one", client_secret="one-secret",
                            scopes=ALL_SCOPES_V12, schools=frozenset({mine}))
    with live_server(create_app(store, [connection], close_store=True)) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("one", "one-secret")).json()["access_token"]
        with httpx.Client(base_url=url + V12,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            yield client, store, mine, other


def _school_id(store: Store, identifier: str) -> str:
    return store.conn.execute("SELECT sourcedId FROM orgs WHERE identifier = ?",
                              (identifier,)).fetchone()[0]


def test_only_the_allowed_school_is_listed(scoped) -> None:
    client, _, mine, _ = scoped
    schools = client.get("/schools").json()["orgs"]
    assert [s["identifier"] for s in schools] == [mine]


def test_students_and_classes_are_those_of_the_allowed_school(scoped) -> None:
    client, store, mine, _ = scoped
    school = _school_id(store, mine)
    expected_students = {r[0] for r in store.conn.execute(
        "SELECT user_id FROM user_orgs WHERE org_id = ? AND role = 'student'", (school,))}
    students = client.get("/students", params={"limit": 5000}).json()["users"]
    assert {s["sourcedId"] for s in students} == expected_students
    classes = client.get("/classes", params={"limit": 5000}).json()["classes"]
    assert classes and {c["school"]["sourcedId"] for c in classes} == {school}


def test_records_of_other_schools_are_unknown(scoped) -> None:
    client, store, _, other = scoped
    other_id = _school_id(store, other)
    stranger = store.conn.execute("SELECT user_id FROM user_orgs WHERE org_id = ? AND "
                                  "role = 'student'", (other_id,)).fetchone()[0]
    assert client.get(f"/students/{stranger}").status_code == 404
    assert client.get(f"/schools/{other_id}/classes").status_code == 404
    assert client.get(f"/schools/{other_id}").status_code == 404
