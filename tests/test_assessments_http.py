"""Assessment line items and results (OneRoster 1.2 grade-book service) over real HTTP: PUT,
read back, list, rules, DELETE, scopes and school scoping. The module gets its own district,
because these tests change it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, SCOPE_PREFIX_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.routes.school_scope import _CONDITIONS
from mock_provider.state import mock_state
from mock_provider.store import Store
from specs import validator

from .live_server import live_server

G12 = "/ims/oneroster/gradebook/v1p2"
GRADEBOOK_ONLY = frozenset(SCOPE_PREFIX_V12 + s for s in (
    "gradebook.readonly", "gradebook.createput", "gradebook.delete"))


@dataclass
class Env:
    url: str
    api: httpx.Client
    ids: dict[str, str]
    path: Path

    def ref(self, collection: str, sid: str, kind: str, service: str = "rostering") -> dict:
        return {"href": f"{self.url}/ims/oneroster/{service}/v1p2/{collection}/{sid}",
                "sourcedId": sid, "type": kind}

    def line_item(self, sid: str, **changes: object) -> dict:
        body = {"sourcedId": sid, "status": "active",
                "dateLastModified": "2026-01-01T00:00:00Z", "title": f"Benchmark {sid}",
                "class": self.ref("classes", self.ids["class"], "class"),
                "resultValueMin": 0.0, "resultValueMax": 100.0}
        body.update(changes)
        return {"assessmentLineItem": {k: v for k, v in body.items() if v is not None}}

    def result(self, sid: str, line_item: str, **changes: object) -> dict:
        body = {"sourcedId": sid, "status": "active",
                "dateLastModified": "2026-01-01T00:00:00Z",
                "assessmentLineItem": self.ref("assessmentLineItems", line_item,
                                               "assessmentLineItem", "gradebook"),
                "student": self.ref("users", self.ids["student"], "user"),
                "score": 92.0, "scoreDate": "2026-10-01", "scoreStatus": "fully graded"}
        body.update(changes)
        return {"assessmentResult": {k: v for k, v in body.items() if v is not None}}


def _token(url: str, client: str) -> str:
    return httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=(client, f"{client}-secret")).json()["access_token"]


def _pick_ids(conn: sqlite3.Connection) -> dict[str, str]:
    klass, school = conn.execute(
        "SELECT c.sourcedId, c.school_id FROM classes c WHERE c.hidden = 0 AND EXISTS "
        "(SELECT 1 FROM enrollments e WHERE e.class_id = c.sourcedId AND e.role = 'student' "
        "AND e.status = 'active' AND e.hidden = 0) ORDER BY c.seq LIMIT 1").fetchone()
    student = conn.execute(
        "SELECT user_id FROM enrollments WHERE class_id = ? AND role = 'student' AND "
        "status = 'active' AND hidden = 0 ORDER BY seq", (klass,)).fetchone()[0]
    stranger = conn.execute(
        "SELECT sourcedId FROM users WHERE role = 'student' AND hidden = 0 AND sourcedId NOT IN "
        "(SELECT user_id FROM enrollments WHERE class_id = ?) ORDER BY seq",
        (klass,)).fetchone()[0]
    return {"class": klass, "school": school, "student": student, "stranger": stranger}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path: Path = tmp_path_factory.mktemp("assessments") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    store = Store(path)
    ids = _pick_ids(store.conn)
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=ALL_SCOPES_V12),
        Connection(name="grades", client_id="grades", client_secret="grades-secret",
                   scopes=GRADEBOOK_ONLY, version="1.2"),
        Connection(name="school", client_id="school", client_secret="school-secret",
                   scopes=ALL_SCOPES_V12, schools=frozenset({ids["school"]})),
    ]
    app = create_app(store, connections)
    with live_server(app) as url:
        headers = {"Authorization": f"Bearer {_token(url, 'lms')}"}
        with httpx.Client(base_url=url, headers=headers, timeout=20) as api:
            yield Env(url, api, ids, path)
    mock_state(app).close()
    store.close()


def _errors(name: str, body: dict) -> list[str]:
    return [e.message for e in validator("1.2", name).iter_errors(body)]


def _rule(response: httpx.Response) -> str:
    return response.json()["imsx_description"].split(":", 1)[0]


def test_put_read_back_and_list_assessments(env: Env) -> None:
    api = env.api
    created = api.put(f"{G12}/assessmentLineItems/ali-1", json=env.line_item("ali-1"))
    assert created.status_code == 201, created.text
    item = api.get(f"{G12}/assessmentLineItems/ali-1")
    assert item.status_code == 200
    body = item.json()
    assert not _errors("SingleAssessmentLineItemDType", body)
    assert body["assessmentLineItem"]["class"]["sourcedId"] == env.ids["class"]
    assert body["assessmentLineItem"]["status"] == "active"

    # A score above resultValueMax is kept as sent.
    result = api.put(f"{G12}/assessmentResults/ar-1",
                     json=env.result("ar-1", "ali-1", score=104.5))
    assert result.status_code == 201, result.text
    read = api.get(f"{G12}/assessmentResults/ar-1").json()
    assert not _errors("SingleAssessmentResultDType", read)
    assert read["assessmentResult"]["score"] == 104.5
    assert read["assessmentResult"]["assessmentLineItem"]["href"].endswith(
        f"{G12}/assessmentLineItems/ali-1")

    items = api.get(f"{G12}/assessmentLineItems")
    assert items.status_code == 200
    assert not _errors("AssessmentLineItemSetDType", items.json())
    assert "ali-1" in {i["sourcedId"] for i in items.json()["assessmentLineItems"]}
    results = api.get(f"{G12}/assessmentResults",
                      params={"filter": "assessmentLineItem.sourcedId='ali-1'"})
    assert results.status_code == 200
    assert not _errors("AssessmentResultSetDType", results.json())
    assert [r["sourcedId"] for r in results.json()["assessmentResults"]] == ["ar-1"]

    replaced = api.put(f"{G12}/assessmentLineItems/ali-1",
                       json=env.line_item("ali-1", title="Renamed"))
    assert replaced.status_code == 200
    assert api.get(f"{G12}/assessmentLineItems/ali-1").json()[
        "assessmentLineItem"]["title"] == "Renamed"


def test_a_child_assessment_line_item_without_a_class(env: Env) -> None:
    api = env.api
    assert api.put(f"{G12}/assessmentLineItems/ali-parent",
                   json=env.line_item("ali-parent", **{"class": None})).status_code == 201
    parent = env.ref("assessmentLineItems", "ali-parent", "assessmentLineItem", "gradebook")
    child = env.line_item("ali-child", parentAssessmentLineItem=parent)
    assert api.put(f"{G12}/assessmentLineItems/ali-child", json=child).status_code == 201
    # No class: no enrollment to check, any student may have a result.
    stranger = env.ref("users", env.ids["stranger"], "user")
    assert api.put(f"{G12}/assessmentResults/ar-free",
                   json=env.result("ar-free", "ali-parent", student=stranger)).status_code == 201
    found = api.get(f"{G12}/assessmentLineItems",
                    params={"filter": "parentAssessmentLineItem.sourcedId='ali-parent'"})
    assert [i["sourcedId"] for i in found.json()["assessmentLineItems"]] == ["ali-child"]
    own = env.line_item("ali-parent", parentAssessmentLineItem=parent, **{"class": None})
    refused = api.put(f"{G12}/assessmentLineItems/ali-parent", json=own)
    assert refused.status_code == 422
    assert _rule(refused) == "reference_exists"


def test_write_rules(env: Env) -> None:
    api = env.api
    assert api.put(f"{G12}/assessmentLineItems/ali-rules",
                   json=env.line_item("ali-rules")).status_code == 201
    unknown = api.put(f"{G12}/assessmentResults/ar-x", json=env.result(
        "ar-x", "ali-rules", student=env.ref("users", "no-such-student", "user")))
    assert unknown.status_code == 422
    assert _rule(unknown) == "reference_exists"
    stranger = api.put(f"{G12}/assessmentResults/ar-x", json=env.result(
        "ar-x", "ali-rules", student=env.ref("users", env.ids["stranger"], "user")))
    assert stranger.status_code == 422
    assert _rule(stranger) == "result_student_enrolled"
    no_item = api.put(f"{G12}/assessmentResults/ar-x", json=env.result("ar-x", "nope"))
    assert no_item.status_code == 422
    assert _rule(no_item) == "reference_exists"
    no_class = api.put(f"{G12}/assessmentLineItems/ali-x", json=env.line_item(
        "ali-x", **{"class": env.ref("classes", "no-such-class", "class")}))
    assert no_class.status_code == 422
    no_parent = api.put(f"{G12}/assessmentLineItems/ali-x", json=env.line_item(
        "ali-x", parentAssessmentLineItem=env.ref("assessmentLineItems", "nope",
                                                  "assessmentLineItem", "gradebook")))
    assert no_parent.status_code == 422
    bad = api.put(f"{G12}/assessmentResults/ar-x",
                  json=env.result("ar-x", "ali-rules", scoreStatus="great"))
    assert bad.status_code == 400
    assert _rule(bad) == "schema"
    wrong_envelope = api.put(f"{G12}/assessmentResults/ar-x", json={"result": {}})
    assert wrong_envelope.status_code == 400
    assert api.get(f"{G12}/assessmentResults/ar-x").status_code == 404
    assert api.get(f"{G12}/assessmentLineItems/ali-x").status_code == 404


def test_delete_then_404(env: Env) -> None:
    api = env.api
    assert api.put(f"{G12}/assessmentLineItems/ali-del",
                   json=env.line_item("ali-del")).status_code == 201
    assert api.put(f"{G12}/assessmentResults/ar-del",
                   json=env.result("ar-del", "ali-del")).status_code == 201
    assert api.delete(f"{G12}/assessmentResults/ar-del").status_code == 204
    assert api.get(f"{G12}/assessmentResults/ar-del").status_code == 404
    assert api.delete(f"{G12}/assessmentResults/ar-del").status_code == 404
    assert api.delete(f"{G12}/assessmentLineItems/ali-del").status_code == 204
    assert api.get(f"{G12}/assessmentLineItems/ali-del").status_code == 404


def test_assessments_need_assessment_scopes(env: Env) -> None:
    headers = {"Authorization": f"Bearer {_token(env.url, 'grades')}"}
    with httpx.Client(base_url=env.url, headers=headers, timeout=20) as grades:
        assert grades.get(f"{G12}/lineItems").status_code == 200
        assert grades.get(f"{G12}/assessmentLineItems").status_code == 403
        assert grades.get(f"{G12}/assessmentResults").status_code == 403
        put = grades.put(f"{G12}/assessmentLineItems/ali-scope",
                         json=env.line_item("ali-scope"))
        assert put.status_code == 403
        assert grades.delete(f"{G12}/assessmentLineItems/ali-1").status_code == 403
    assert env.api.get(f"{G12}/assessmentLineItems/ali-scope").status_code == 404


def test_a_school_connection_sees_its_schools_and_district_wide_assessments(env: Env) -> None:
    api = env.api
    assert api.put(f"{G12}/assessmentLineItems/ali-school",
                   json=env.line_item("ali-school")).status_code == 201
    assert api.put(f"{G12}/assessmentLineItems/ali-district",
                   json=env.line_item("ali-district", **{"class": None})).status_code == 201
    headers = {"Authorization": f"Bearer {_token(env.url, 'school')}"}
    with httpx.Client(base_url=env.url, headers=headers, timeout=20) as school:
        seen = {i["sourcedId"] for i in school.get(
            f"{G12}/assessmentLineItems", params={"limit": 1000}).json()["assessmentLineItems"]}
        assert {"ali-school", "ali-district"} <= seen
        assert school.get(f"{G12}/assessmentResults").status_code == 200


def test_school_scoping_goes_by_the_class_school(env: Env) -> None:
    """Another school's connection: classless assessments and their results only."""
    api = env.api
    for sid, klass in (("ali-in-class", env.ids["class"]), ("ali-no-class", None)):
        klass_ref = env.ref("classes", klass, "class") if klass else None
        assert api.put(f"{G12}/assessmentLineItems/{sid}",
                       json=env.line_item(sid, **{"class": klass_ref})).status_code == 201
        assert api.put(f"{G12}/assessmentResults/r-{sid}",
                       json=env.result(f"r-{sid}", sid)).status_code == 201
    conn = sqlite3.connect(env.path)
    try:
        def visible(table: str, school: str) -> set[str]:
            where = _CONDITIONS[table].format(schools="?")
            return {r[0] for r in conn.execute(
                f"SELECT sourcedId FROM {table} WHERE {where}", (school,))}

        mine = env.ids["school"]
        assert {"ali-in-class", "ali-no-class"} <= visible("assessmentLineItems", mine)
        assert {"r-ali-in-class", "r-ali-no-class"} <= visible("assessmentResults", mine)
        assert "ali-in-class" not in visible("assessmentLineItems", "elsewhere")
        assert "ali-no-class" in visible("assessmentLineItems", "elsewhere")
        assert "r-ali-in-class" not in visible("assessmentResults", "elsewhere")
        assert "r-ali-no-class" in visible("assessmentResults", "elsewhere")
    finally:
        conn.close()
