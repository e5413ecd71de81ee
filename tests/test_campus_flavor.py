"""The Infinite Campus flavor: Campus URL layout, ?appName= token URL, guardian visibility."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.connections import Connection, allowed_scopes
from mock_provider.flavors import profile_for
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
    with live_server(create_app(store, connections, settings, close_store=True)) as url:
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


@pytest.mark.parametrize("base", [V12, V11])
def test_a_rostering_only_connection_is_handed_no_guardian_it_cannot_read(
        campus: str, base: str) -> None:
    # Its students' agents are guardians it is not shared: their ids must not reach it either
    # (each would answer 404), while the grade-book connection, which reads guardians, keeps
    # every agent.
    everything = _get(campus, f"{base}/users", limit=10_000).json()["users"]
    assert sum(len(u.get("agents", [])) for u in everything) > 0
    bearer = _token(campus, "ro").json()["access_token"]
    with httpx.Client(base_url=campus, headers={"Authorization": f"Bearer {bearer}"}) as ro:
        users = ro.get(f"{base}/users", params={"limit": 10_000}).json()["users"]
        agents = {a["sourcedId"] for u in users for a in u.get("agents", [])}
        unreadable = [sid for sid in agents if ro.get(f"{base}/users/{sid}").status_code != 200]
    assert users and not unreadable


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


# --- 1.1 filters on user ids take the Campus ids ------------------------------------------


@pytest.fixture(scope="module")
def lms(campus: str) -> Iterator[httpx.Client]:
    bearer = _token(campus, "lms").json()["access_token"]
    with httpx.Client(base_url=campus, headers={"Authorization": f"Bearer {bearer}"},
                      timeout=60) as client:
        yield client


def _records(client: httpx.Client, path: str, envelope: str, **params: str) -> list[dict]:
    response = client.get(path, params={"limit": "50000", **params})
    assert response.status_code == 200, response.text
    return response.json()[envelope]


@pytest.fixture(scope="module")
def people(lms: httpx.Client) -> dict[str, str]:
    """Served ids to fill the filter templates with: a student (with agents) and one of its
    parents or guardians, a teacher, and the student's GUID from 1.2."""
    students = _records(lms, f"{V11}/students", "users")
    student = next(s for s in students if s.get("agents"))
    (v12,) = _records(lms, f"{V12}/students", "users",
                      filter=f"identifier='{student['identifier']}'")
    teacher = _records(lms, f"{V11}/teachers", "users")[0]
    return {"student": student["sourcedId"], "guid": v12["sourcedId"],
            "agent": student["agents"][0]["sourcedId"], "teacher": teacher["sourcedId"],
            "digits": student["sourcedId"][1:5]}


def test_a_1_1_filter_on_sourcedid_takes_the_campus_id(lms: httpx.Client,
                                                       people: dict[str, str]) -> None:
    student, guid = people["student"], people["guid"]
    for path in ("users", "students"):
        found = _records(lms, f"{V11}/{path}", "users", filter=f"sourcedId='{student}'")
        assert [u["sourcedId"] for u in found] == [student], path
        # The stored GUID is not a Campus 1.1 id: it finds nothing, as on Campus.
        assert _records(lms, f"{V11}/{path}", "users", filter=f"sourcedId='{guid}'") == []
    # A teacher's id is no student's; an unknown legacy id is nobody's.
    assert _records(lms, f"{V11}/students", "users",
                    filter=f"sourcedId='{people['teacher']}'") == []
    assert _records(lms, f"{V11}/users", "users", filter="sourcedId='s999999999'") == []
    # References and demographics (which share the user's id) take it too.
    enrollments = _records(lms, f"{V11}/enrollments", "enrollments",
                           filter=f"user.sourcedId='{student}'")
    assert enrollments and {e["user"]["sourcedId"] for e in enrollments} == {student}
    classes = _records(lms, f"{V11}/students/{student}/classes", "classes")
    assert {e["class"]["sourcedId"] for e in enrollments} == {c["sourcedId"] for c in classes}
    (demographics,) = _records(lms, f"{V11}/demographics", "demographics",
                               filter=f"sourcedId='{student}'")
    assert demographics["sourcedId"] == student
    # Inside a nested collection too.
    klass = classes[0]["sourcedId"]
    roster = _records(lms, f"{V11}/classes/{klass}/students", "users",
                      filter=f"sourcedId='{student}'")
    assert [u["sourcedId"] for u in roster] == [student]


# (collection, envelope, filter template): each must select exactly the served records that
# the reference semantics (filter.matches over the served records) select.
CONSISTENCY = [
    ("users", "users", "sourcedId='{student}'"),
    ("users", "users", "sourcedId!='{student}'"),
    ("users", "users", "sourcedId='{guid}'"),
    ("users", "users", "sourcedId!='{guid}'"),
    ("users", "users", "sourcedId~'S{digits}'"),
    ("users", "users", "sourcedId~'{digits}'"),
    ("users", "users", "sourcedId~'{guid}'"),
    ("users", "users", "sourcedId>='t'"),
    ("users", "users", "sourcedId<'{student}'"),
    ("users", "users", "sourcedId='{student}' OR sourcedId='{teacher}'"),
    ("users", "users", "sourcedId='{student}' AND sourcedId='{teacher}'"),
    ("users", "users", "sourcedId~'s' AND givenName~'a'"),
    ("users", "users", "sourcedId!='{student}' AND sourcedId~'{digits}'"),
    ("users", "users", "sourcedId='{agent}' OR role='teacher'"),
    ("users", "users", "agents.sourcedId='{student}'"),
    ("users", "users", "agents.sourcedId!='{student}'"),
    ("users", "users", "agents.sourcedId~'s'"),
    ("users", "users", "agents.sourcedId='{guid}'"),
    ("students", "users", "sourcedId='{student}' OR sourcedId='{agent}'"),
    ("students", "users", "sourcedId~'{digits}' OR sourcedId='{teacher}'"),
    ("teachers", "users", "sourcedId='{teacher}' OR sourcedId='{student}'"),
    ("enrollments", "enrollments", "user.sourcedId='{student}'"),
    ("enrollments", "enrollments", "user.sourcedId!='{student}' AND role='student'"),
    ("enrollments", "enrollments", "user.sourcedId~'t'"),
    ("enrollments", "enrollments", "user.sourcedId='{guid}'"),
    ("demographics", "demographics", "sourcedId='{student}'"),
    ("demographics", "demographics", "sourcedId!='{student}'"),
    ("results", "results", "student.sourcedId='{student}'"),
    ("results", "results", "student.sourcedId~'{digits}' OR scoreStatus='exempt'"),
]


@pytest.mark.parametrize(("path", "envelope", "template"), CONSISTENCY)
def test_1_1_user_id_filters_agree_with_the_served_records(
        lms: httpx.Client, people: dict[str, str], path: str, envelope: str,
        template: str) -> None:
    from mock_provider.query import matches, parse_filter
    from mock_provider.query.fields import catalog

    table = {"students": "users", "teachers": "users"}.get(path, path)
    text = template.format(**people)
    served = _records(lms, f"{V11}/{path}", envelope)
    expected = [r["sourcedId"] for r in served
                if matches(parse_filter(text), r, catalog(table, "1.1"))]
    found = [r["sourcedId"] for r in _records(lms, f"{V11}/{path}", envelope, filter=text)]
    assert found == expected, text
    response = lms.get(f"{V11}/{path}", params={"filter": text, "limit": "2"})
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_the_filters_cover_both_outcomes(lms: httpx.Client, people: dict[str, str]) -> None:
    """The consistency cases are not all empty or all everything."""
    def count(path: str, text: str) -> int:
        return len(_records(lms, f"{V11}/{path}", path, filter=text.format(**people)))

    everyone = len(_records(lms, f"{V11}/users", "users"))
    assert count("users", "sourcedId!='{guid}'") == everyone
    assert 1 < count("users", "sourcedId~'S{digits}'") < everyone
    assert 1 < count("users", "sourcedId>='t'") < everyone
    assert count("users", "agents.sourcedId='{student}'") >= 1
    assert count("users", "sourcedId='{student}' OR sourcedId='{teacher}'") == 2
    assert count("results", "student.sourcedId='{student}'") >= 1


def test_1_2_user_id_filters_still_take_guids(lms: httpx.Client, people: dict[str, str]) -> None:
    guid = people["guid"]
    for path in ("users", "students"):
        found = _records(lms, f"{V12}/{path}", "users", filter=f"sourcedId='{guid}'")
        assert [u["sourcedId"] for u in found] == [guid]
        assert _records(lms, f"{V12}/{path}", "users",
                        filter=f"sourcedId='{people['student']}'") == []
    enrollments = _records(lms, f"{V12}/enrollments", "enrollments",
                           filter=f"user.sourcedId='{guid}'")
    assert enrollments and {e["user"]["sourcedId"] for e in enrollments} == {guid}
    assert _records(lms, f"{V12}/enrollments", "enrollments",
                    filter=f"user.sourcedId='{people['student']}'") == []
    # Substrings of the GUID, not of the legacy id.
    found = _records(lms, f"{V12}/users", "users", filter=f"sourcedId~'{guid[:13].upper()}'")
    assert guid in [u["sourcedId"] for u in found]
    assert _records(lms, f"{V12}/users", "users", filter=f"sourcedId~'{people['student']}'") == []


# --- 1.1 grade-book writes take the Campus ids they were served ---------------------------


def test_a_1_1_result_written_with_the_served_student_id_is_stored(
        districts_dir: Path, tmp_path: Path) -> None:
    """A 1.1 client writes back the student id it read (``s200123``); the mock used to refuse
    it (422 reference_exists: unknown student) because it looked the id up as stored."""
    district = tmp_path / "written.sqlite"
    shutil.copy(make_district(districts_dir, 42, 60), district)
    store = Store(district)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=allowed_scopes("any", "supported"))
    settings = Settings(profile=profile_for("infinite-campus", APP))
    with live_server(create_app(store, [lms], settings)) as url:
        bearer = {"Authorization": f"Bearer {_token(url, 'lms').json()['access_token']}"}
        served = httpx.get(f"{url}{V11}/results", params={"limit": 1}, headers=bearer).json()
        result = served["results"][0]
        student = result["student"]["sourcedId"]
        assert re.fullmatch(r"s\d+", student)
        record = {key: result[key] for key in ("lineItem", "student", "scoreStatus", "score",
                                               "scoreDate")}
        put = httpx.put(f"{url}{V11}/results/written-1", json={"result": record},
                        headers=bearer)
        assert put.status_code == 201, put.text
        read = httpx.get(f"{url}{V11}/results/written-1", headers=bearer)
        assert read.json()["result"]["student"]["sourcedId"] == student
        in_class = httpx.get(f"{url}{V11}/results", headers=bearer,
                             params={"filter": f"student.sourcedId='{student}'"}).json()
        assert "written-1" in {r["sourcedId"] for r in in_class["results"]}
    store.close()
