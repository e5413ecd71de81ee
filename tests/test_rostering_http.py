"""The mock provider's rostering service over real HTTP (uvicorn on 127.0.0.1), both versions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.routes.operations import ROSTERING
from mock_provider.store import Store
from specs import validator

from .conftest import make_district
from .live_server import live_server

V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
PREFIX12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ENVELOPE_SCHEMA_V12 = {
    "academicSessions": "AcademicSessionSetDType", "academicSession": "SingleAcademicSessionDType",
    "classes": "ClassSetDType", "class": "SingleClassDType", "courses": "CourseSetDType",
    "course": "SingleCourseDType", "demographics": None, "enrollments": "EnrollmentSetDType",
    "enrollment": "SingleEnrollmentDType", "orgs": "OrgSetDType", "org": "SingleOrgDType",
    "users": "UserSetDType", "user": "SingleUserDType",
}


def _connection(name: str, scopes: frozenset[str]) -> Connection:
    return Connection(name=name, client_id=name, client_secret=f"{name}-secret", scopes=scopes)


@pytest.fixture(scope="module")
def server(districts_dir: Path) -> Iterator[tuple[str, Store]]:
    store = Store(make_district(districts_dir, 42, 60))
    connections = [
        _connection("full", ALL_SCOPES_V12 | ALL_SCOPES_V11),
        _connection("core", frozenset({PREFIX12 + "roster-core.readonly"})),
        Connection(name="signer", client_id="signer", client_secret="signer-secret",
                   scopes=ALL_SCOPES_V11, version="1.1", oauth1=True),
    ]
    with live_server(create_app(store, connections, close_store=True)) as url:
        yield url, store


def token(url: str, client: str, scope: str | None = None) -> str:
    data = {"grant_type": "client_credentials"}
    if scope:
        data["scope"] = scope
    response = httpx.post(f"{url}/oauth2/token", data=data, auth=(client, f"{client}-secret"))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def api(server: tuple[str, Store]) -> Iterator[httpx.Client]:
    url, _ = server
    with httpx.Client(base_url=url, timeout=10,
                      headers={"Authorization": f"Bearer {token(url, 'full')}"}) as client:
        yield client


@pytest.fixture(scope="module")
def ids(server: tuple[str, Store]) -> dict[str, str]:
    """One real id for every path parameter the operations use."""
    _, store = server
    first = {}
    conn = store.conn
    school = conn.execute("SELECT sourcedId FROM orgs WHERE type='school'").fetchone()[0]
    klass, course = conn.execute("SELECT sourcedId, course_id FROM classes WHERE hidden=0 "
                                 "AND school_id=?", (school,)).fetchone()
    student = conn.execute("SELECT user_id FROM enrollments WHERE class_id=? AND role='student'",
                           (klass,)).fetchone()[0]
    teacher = conn.execute("SELECT user_id FROM enrollments WHERE class_id=? AND role='teacher'",
                           (klass,)).fetchone()[0]
    term = conn.execute("SELECT term_id FROM class_terms WHERE class_id=?", (klass,)).fetchone()[0]
    first.update(schoolSourcedId=school, classSourcedId=klass, courseSourcedId=course,
                 studentSourcedId=student, teacherSourcedId=teacher, termSourcedId=term,
                 userSourcedId=student)
    return first


def _single_id(store: Store, op_table: str, op_where: str) -> str:
    where = f"hidden = 0 AND {op_where}" if op_where else "hidden = 0"
    return store.conn.execute(f"SELECT sourcedId FROM {op_table} WHERE {where}").fetchone()[0]


def _path(op, ids: dict[str, str], store: Store) -> str:
    if op.single:
        return op.path.replace("{sourcedId}", _single_id(store, op.table, op.where))
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], op.path)


def _error(response: httpx.Response, status: int, code_minor: str, version: str = "1.2") -> str:
    assert response.status_code == status, response.text
    body = response.json()
    if version == "1.2":
        assert not list(validator("1.2", "imsx_StatusInfoDType").iter_errors(body))
        field = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]
        assert field["imsx_codeMinorFieldValue"] == code_minor
        return body["imsx_description"]
    status_info = body["statusInfoSet"][0]
    assert status_info["imsx_codeMinor"] == code_minor
    return status_info["imsx_description"]


@pytest.mark.parametrize("op", ROSTERING, ids=lambda op: op.operation_id)
def test_every_1_2_operation_answers_with_a_valid_envelope(api: httpx.Client, ids, server,
                                                           op) -> None:
    _, store = server
    response = api.get(V12 + _path(op, ids, store))
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [op.envelope]
    schema = ENVELOPE_SCHEMA_V12[op.envelope]
    if schema:
        errors = [e.message for e in validator("1.2", schema).iter_errors(body)]
        assert not errors, errors[:3]
    if not op.single:
        assert int(response.headers["X-Total-Count"]) >= len(body[op.envelope]) > 0


@pytest.mark.parametrize("op", ROSTERING, ids=lambda op: op.operation_id)
def test_every_1_1_operation_answers_with_a_valid_envelope(api: httpx.Client, ids, server,
                                                           op) -> None:
    _, store = server
    response = api.get(V11 + _path(op, ids, store))
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == [op.envelope]
    errors = [e.message for e in validator("1.1", op.envelope).iter_errors(body)]
    assert not errors, errors[:3]


def test_hrefs_are_absolute_urls_of_this_server(api: httpx.Client, server) -> None:
    url, _ = server
    enrollment = api.get(f"{V12}/enrollments", params={"limit": 1}).json()["enrollments"][0]
    assert enrollment["class"]["href"] == f"{url}{V12}/classes/{enrollment['class']['sourcedId']}"
    v11 = api.get(f"{V11}/enrollments", params={"limit": 1}).json()["enrollments"][0]
    assert v11["user"]["href"].startswith(f"{url}{V11}/users/")


def test_hrefs_follow_the_host_each_request_names(api: httpx.Client) -> None:
    # The origin is remembered per Host header: one caller's host never leaks into another's.
    for host in ("roster.example:8443", "other.example", "roster.example:8443"):
        users = api.get(f"{V12}/users", params={"limit": 1},
                        headers={"Host": host}).json()["users"]
        assert users[0]["roles"][0]["org"]["href"].startswith(f"http://{host}{V12}/orgs/")


def test_a_paging_walk_by_link_covers_everything_once(api: httpx.Client) -> None:
    seen: list[str] = []
    response = api.get(f"{V12}/users", params={"limit": 17})
    total = int(response.headers["X-Total-Count"])
    for _ in range(100):
        seen += [u["sourcedId"] for u in response.json()["users"]]
        links = dict((rel, link) for link, rel in
                     re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"]))
        assert "first" in links and "last" in links
        if "next" not in links:
            break
        response = api.get(links["next"])
    assert len(seen) == len(set(seen)) == total


def test_past_the_end_is_an_empty_page(api: httpx.Client) -> None:
    response = api.get(f"{V12}/classes", params={"offset": 100_000})
    assert response.status_code == 200
    assert response.json() == {"classes": []}
    assert int(response.headers["X-Total-Count"]) > 0


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=abc", "limit=1e3", "limit=2.5", "offset=-1", "offset=x",
    "limit=5&limit=6", "limit=999999999999", "orderBy=sideways&sort=familyName",
])
def test_bad_paging_and_ordering_values_are_400_invaliddata(api: httpx.Client,
                                                            query: str) -> None:
    description = _error(api.get(f"{V12}/users?{query}"), 400, "invaliddata")
    assert description


def test_unknown_filter_field_is_400_and_names_it(api: httpx.Client) -> None:
    description = _error(api.get(f"{V12}/users", params={"filter": "shoeSize='9'"}), 400,
                         "invalid_filter_field")
    assert "shoeSize" in description
    _error(api.get(f"{V11}/users", params={"filter": "shoeSize='9'"}), 400,
           "invalid_filter_field", "1.1")


@pytest.mark.parametrize("text", ["familyName", "familyName=Smith", "a='1' AND b='2' AND c='3'",
                                  "familyName=='x'", "familyName='x' XOR givenName='y'"])
def test_malformed_filters_are_400(api: httpx.Client, text: str) -> None:
    _error(api.get(f"{V12}/users", params={"filter": text}), 400, "invaliddata")


def test_field_selection_and_its_errors(api: httpx.Client) -> None:
    users = api.get(f"{V12}/users", params={"fields": "sourcedId,givenName", "limit": 3})
    assert all(set(u) == {"sourcedId", "givenName"} for u in users.json()["users"])
    _error(api.get(f"{V12}/users", params={"fields": ""}), 400, "invalid_selection_field")
    _error(api.get(f"{V12}/users", params={"fields": "givenName,shoeSize"}), 400,
           "invalid_selection_field")
    v11 = api.get(f"{V11}/users", params={"fields": "givenName,shoeSize", "limit": 2})
    assert v11.status_code == 200
    assert v11.json()["statusInfoSet"][0]["imsx_codeMinor"] == "invalid_selection_field"
    _error(api.get(f"{V11}/users", params={"fields": ""}), 400, "invalid_blank_selection_field",
           "1.1")


def test_an_email_lookup_with_an_unencoded_filter_finds_exactly_one(api: httpx.Client,
                                                                    server) -> None:
    _, store = server
    email = store.conn.execute("SELECT email FROM users WHERE role='teacher'").fetchone()[0]
    # Google's partner notebook sends the quotes and the @ unencoded.
    response = api.get(f"{V12}/users?filter=email='{email}'")
    assert response.status_code == 200
    assert [u["email"] for u in response.json()["users"]] == [email]


def test_a_filter_value_is_never_sql(api: httpx.Client) -> None:
    sneaky = quote("familyName='x'' OR ''1''=''1'")
    response = api.get(f"{V12}/users?filter={sneaky}")
    assert response.status_code == 200
    assert response.json()["users"] == []


def test_sorting_orders_the_whole_collection(api: httpx.Client) -> None:
    names = [u["familyName"] for u in api.get(
        f"{V12}/users", params={"sort": "familyName", "orderBy": "desc", "limit": 500}
    ).json()["users"]]
    assert names == sorted(names, reverse=True)


def test_unknown_ids_routes_and_parents_are_404_unknownobject(api: httpx.Client) -> None:
    _error(api.get(f"{V12}/users/no-such-user"), 404, "unknownobject")
    _error(api.get(f"{V12}/classes/no-such-class/students"), 404, "unknownobject")
    _error(api.get(f"{V12}/frobs"), 404, "unknownobject")
    _error(api.get(f"{V11}/users/no-such-user"), 404, "unknown object", "1.1")


def test_a_student_is_not_a_teacher(api: httpx.Client, ids) -> None:
    _error(api.get(f"{V12}/teachers/{ids['studentSourcedId']}"), 404, "unknownobject")
    students = api.get(f"{V12}/classes/{ids['classSourcedId']}/students").json()["users"]
    assert students and all(u["roles"][0]["role"] == "student" for u in students)
    assert ids["teacherSourcedId"] not in {u["sourcedId"] for u in students}


def test_requests_without_a_valid_token_are_401(server) -> None:
    url, _ = server
    missing = httpx.get(f"{url}{V12}/users")
    _error(missing, 401, "unauthorisedrequest")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    bogus = httpx.get(f"{url}{V12}/users", headers={"Authorization": "Bearer nope"})
    _error(bogus, 401, "unauthorisedrequest")


def test_a_token_without_the_scope_is_403(server) -> None:
    url, _ = server
    core = {"Authorization": f"Bearer {token(url, 'core')}"}
    assert httpx.get(f"{url}{V12}/users", headers=core).status_code == 200
    _error(httpx.get(f"{url}{V12}/demographics", headers=core), 403, "forbidden")
    school = httpx.get(f"{url}{V12}/schools", headers=core).json()["orgs"][0]["sourcedId"]
    _error(httpx.get(f"{url}{V12}/schools/{school}/students", headers=core), 403, "forbidden")


def test_discovery_documents_are_public_and_localised(server) -> None:
    url, _ = server
    doc = httpx.get(f"{url}{V12}/discovery/imsorv1p2_rostering_openapi3_v1p0.json").json()
    assert doc["servers"] == [{"url": f"{url}{V12}"}]
    flows = doc["components"]["securitySchemes"]["OAuth2CC"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == f"{url}/oauth2/token"


def test_deep_pages_in_store_order_match_a_plain_walk(api: httpx.Client,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_provider.query import page

    # Anchors every 50 records so the tiny district has pages far past several anchors.
    monkeypatch.setattr(page, "ANCHOR_EVERY", 50)
    everything = [e["sourcedId"] for e in api.get(
        f"{V12}/enrollments", params={"limit": 5000}).json()["enrollments"]]
    assert len(everything) > 400
    step = 37
    for offset in range(0, len(everything), step):
        # Pages past the anchor spacing start from remembered anchors; all must agree.
        got = [e["sourcedId"] for e in api.get(
            f"{V12}/enrollments", params={"limit": step, "offset": offset}).json()["enrollments"]]
        assert got == everything[offset:offset + step]


def test_1_1_accepts_oauth_1_signed_requests_and_refuses_replays(server) -> None:
    from mock_provider.oauth1 import sign_oauth1

    url, _ = server
    target = f"{url}{V11}/users?limit=2&filter=" + quote("familyName~'a'")
    header = sign_oauth1("GET", target, "signer", "signer-secret")
    signed = httpx.get(target, headers={"Authorization": header})
    assert signed.status_code == 200, signed.text
    assert len(signed.json()["users"]) == 2
    replay = httpx.get(target, headers={"Authorization": header})
    _error(replay, 401, "unauthorized", "1.1")
    wrong = sign_oauth1("GET", target, "signer", "not-the-secret")
    _error(httpx.get(target, headers={"Authorization": wrong}), 401, "unauthorized", "1.1")
    v12 = f"{url}{V12}/users?limit=2"
    _error(httpx.get(v12, headers={"Authorization": sign_oauth1("GET", v12, "signer",
                                                                "signer-secret")}),
           401, "unauthorisedrequest")
