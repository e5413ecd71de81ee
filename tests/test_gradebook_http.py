"""Grade-book reads over real HTTP: 1.2 and 1.1 envelopes, scoping, scopes, Campus vendor key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.flavors import profile_for
from mock_provider.routes.operations import GRADEBOOK, GRADEBOOK_V11, Operation
from mock_provider.store import Store
from specs import validator

from .conftest import make_district
from .live_server import live_server

G12 = "/ims/oneroster/gradebook/v1p2"
V11 = "/ims/oneroster/v1p1"
ROSTER_ONLY = frozenset(s for s in ALL_SCOPES_V12 if "/scope/roster" in s)
SCHEMA_V12 = {"categories": "CategoriesSetDType", "category": "SingleCategoryDType",
              "lineItems": "LineItemSetDType", "lineItem": "SingleLineItemDType",
              "results": "ResultSetDType", "result": "SingleResultDType",
              "scoreScales": "ScoreScaleSetDType", "scoreScale": "SingleScoreScaleDType"}


def _token(url: str, client: str) -> str:
    return httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=(client, f"{client}-secret")).json()["access_token"]


@pytest.fixture(scope="module")
def server(districts_dir: Path) -> Iterator[tuple[str, Store]]:
    store = Store(make_district(districts_dir, 42, 60))
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11),
        Connection(name="roster", client_id="roster", client_secret="roster-secret",
                   scopes=ROSTER_ONLY, connection_type="unsupported"),
    ]
    with live_server(create_app(store, connections, close_store=True)) as url:
        yield url, store


@pytest.fixture(scope="module")
def api(server) -> Iterator[httpx.Client]:
    url, _ = server
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {_token(url, 'lms')}"},
                      timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def path_ids(server) -> dict[str, str]:
    _, store = server
    conn = store.conn
    line_item, klass, school = conn.execute(
        "SELECT l.sourcedId, l.class_id, l.school_id FROM lineItems l "
        "WHERE EXISTS (SELECT 1 FROM results r WHERE r.lineItem_id = l.sourcedId)").fetchone()
    student = conn.execute("SELECT student_id FROM results WHERE lineItem_id = ?",
                           (line_item,)).fetchone()[0]
    return {"classSourcedId": klass, "lineItemSourcedId": line_item,
            "studentSourcedId": student, "schoolSourcedId": school}


def _path(op: Operation, ids: dict[str, str], store: Store) -> str:
    if op.single:
        one = store.conn.execute(f"SELECT sourcedId FROM {op.table} LIMIT 1").fetchone()[0]
        return op.path.replace("{sourcedId}", one)
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], op.path)


@pytest.mark.parametrize("op", GRADEBOOK, ids=lambda op: op.operation_id)
def test_every_1_2_grade_book_read_answers_a_valid_envelope(api, server, path_ids, op) -> None:
    _, store = server
    response = api.get(G12 + _path(op, path_ids, store))
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [op.envelope]
    assert not [e.message for e in validator("1.2", SCHEMA_V12[op.envelope]).iter_errors(body)]
    if not op.single:
        assert body[op.envelope], "each read has data in the generated district"


@pytest.mark.parametrize("op", GRADEBOOK_V11, ids=lambda op: op.operation_id)
def test_every_1_1_grade_book_read_answers_a_valid_envelope(api, server, path_ids, op) -> None:
    _, store = server
    response = api.get(V11 + _path(op, path_ids, store))
    assert response.status_code == 200, response.text
    body = response.json()
    assert not [e.message for e in validator("1.1", op.envelope).iter_errors(body)]


def test_results_for_a_student_in_a_class_are_theirs(api, path_ids) -> None:
    klass, student = path_ids["classSourcedId"], path_ids["studentSourcedId"]
    results = api.get(f"{G12}/classes/{klass}/students/{student}/results").json()["results"]
    assert results
    assert {r["student"]["sourcedId"] for r in results} == {student}
    assert {r["class"]["sourcedId"] for r in results} == {klass}
    stranger = api.get(f"{G12}/classes/{klass}/students/not-enrolled/results")
    assert stranger.status_code == 404


def test_line_items_filter_by_due_date(api, path_ids) -> None:
    items = api.get(f"{G12}/classes/{path_ids['classSourcedId']}/lineItems",
                    params={"filter": "dueDate<'2026-11-01'"}).json()["lineItems"]
    assert items and all(i["dueDate"] < "2026-11-01" for i in items)


def test_a_rostering_only_connection_cannot_read_the_grade_book(server) -> None:
    url, _ = server
    headers = {"Authorization": f"Bearer {_token(url, 'roster')}"}
    assert httpx.get(f"{url}/ims/oneroster/rostering/v1p2/classes",
                     headers=headers).status_code == 200
    refused = httpx.get(f"{url}{G12}/lineItems", headers=headers)
    assert refused.status_code == 403
    assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
        "imsx_codeMinorFieldValue"] == "forbidden"


def test_grade_book_discovery_is_public(server) -> None:
    url, _ = server
    doc = httpx.get(f"{url}{G12}/discovery/imsorv1p2_gradebook_openapi3_v1p0.json").json()
    assert doc["servers"] == [{"url": f"{url}{G12}"}]


def test_campus_wants_the_vendor_header_on_grade_book_calls(districts_dir: Path) -> None:
    store = Store(make_district(districts_dir, 42, 60))
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12, vendor_key="vk:vs")
    app = create_app(store, [lms], Settings(profile=profile_for("infinite-campus", "d")),
                     close_store=True)
    with live_server(app) as url:
        token = httpx.post(f"{url}/campus/oauth2/token?appName=d",
                           data={"grant_type": "client_credentials"},
                           auth=("lms", "lms-secret")).json()["access_token"]
        base = f"{url}/campus/api/oneroster/v1p2/d"
        bearer = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{base}{G12}/lineItems", headers=bearer).status_code == 401
        wrong = {**bearer, "x-vendor-authorization": "vk:nope"}
        assert httpx.get(f"{base}{G12}/lineItems", headers=wrong).status_code == 401
        right = {**bearer, "x-vendor-authorization": "vk:vs"}
        assert httpx.get(f"{base}{G12}/lineItems", headers=right).status_code == 200
        # Rostering calls need no vendor header.
        assert httpx.get(f"{base}/ims/oneroster/rostering/v1p2/classes",
                         headers=bearer).status_code == 200
