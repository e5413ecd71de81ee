"""The simulated clock: admin routes over real HTTP, and what a tick changes in the district.

Ticks mutate their district file, so this module builds its own tiny districts: ``main`` gets
exactly one 7-day tick (the ``ticked`` fixture) and is then only read; ``scratch`` takes every
other tick (bad input, body forms, concurrency, a failing tick).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.district import tick as tick_module
from mock_provider.district.quirks import QUIRKS
from mock_provider.district.tick import TickError, advance, check_days
from mock_provider.record_forms import doc_sql, texts_sql
from mock_provider.store import Store
from mock_provider.writer import in_transaction, open_writer
from specs import validator

from .conftest import make_district
from .live_server import live_server

V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
ADMIN = "admin-secret-for-tests"
SCHEMAS = {"users": ("UserDType", "User"), "enrollments": ("EnrollmentDType", "Enrollment"),
           "demographics": ("DemographicsDType", "Demographics")}
COLLECTIONS = {"users": "users", "enrollments": "enrollments", "demographics": "demographics"}


def build(path: Path) -> Path:
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    return path


def epoch(clock: str) -> int:
    return calendar.timegm(time.strptime(clock, "%Y-%m-%dT%H:%M:%SZ"))


def content_hash(path: Path) -> str:
    with Store(path) as store:
        return store.content_hash()


def meta(path: Path) -> dict[str, str]:
    with Store(path) as store:
        return dict(store.meta)


@dataclass
class Server:
    url: str
    path: Path
    store: Store

    def admin(self, token: str | None = ADMIN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=30, headers=headers)


def _serve(path: Path, admin_token: str | None) -> Iterator[Server]:
    store = Store(path)
    full = Connection(name="full", client_id="full", client_secret="full-secret",
                      scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    try:
        with live_server(create_app(store, [full], admin_token=admin_token)) as url:
            yield Server(url, path, store)
    finally:
        store.close()


@pytest.fixture(scope="module")
def districts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tick-districts")


@pytest.fixture(scope="module")
def main(districts: Path) -> Iterator[Server]:
    yield from _serve(build(districts / "main.sqlite"), ADMIN)


@pytest.fixture(scope="module")
def scratch(districts: Path) -> Iterator[Server]:
    yield from _serve(build(districts / "scratch.sqlite"), ADMIN)


@pytest.fixture(scope="module")
def disabled(main: Server) -> Iterator[Server]:
    """The main district served without an admin token (it never writes)."""
    yield from _serve(main.path, None)


@pytest.fixture(scope="module")
def api(main: Server) -> Iterator[httpx.Client]:
    response = httpx.post(f"{main.url}/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=("full", "full-secret"))
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    with httpx.Client(base_url=main.url, timeout=30, headers=headers) as client:
        yield client


@dataclass
class Ticked:
    old_clock: str
    report: dict
    hash_after: str


@pytest.fixture(scope="module")
def ticked(main: Server) -> Ticked:
    """The one tick of the main district: 7 days, through POST /admin/tick."""
    old_clock = meta(main.path)["clock"]
    with main.admin() as admin:
        response = admin.post("/admin/tick", json={"days": 7})
    assert response.status_code == 200, response.text
    return Ticked(old_clock, response.json(), content_hash(main.path))


def _error(response: httpx.Response, status: int, code_minor: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert not list(validator("1.2", "imsx_StatusInfoDType").iter_errors(body))
    field = body["imsx_CodeMinor"]["imsx_codeMinorField"][0]
    assert field["imsx_codeMinorFieldValue"] == code_minor
    return body["imsx_description"]


def _all(api: httpx.Client, path: str, envelope: str, **params: str) -> list[dict]:
    response = api.get(path, params={"limit": "10000", **params})
    assert response.status_code == 200, response.text
    body = response.json()[envelope]
    assert int(response.headers["X-Total-Count"]) == len(body)
    return body


# --- switched off, authentication, bad input ----------------------------------------------


@pytest.mark.parametrize("method,path", [("POST", "/admin/tick"), ("GET", "/admin/clock"),
                                         ("GET", "/admin/tick"), ("DELETE", "/admin/clock"),
                                         ("GET", "/admin/nothing")])
@pytest.mark.parametrize("token", [None, ADMIN])
def test_admin_routes_are_absent_when_admin_is_off(disabled: Server, method: str, path: str,
                                                   token: str | None) -> None:
    before = meta(disabled.path)["clock"]
    with disabled.admin(token) as client:
        description = _error(client.request(method, path, params={"days": "3"}), 404,
                             "unknownobject")
    assert path in description
    assert meta(disabled.path)["clock"] == before


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Bearer {ADMIN}x", f"Basic {ADMIN}",
                                    "Bearer", f"bearer  {ADMIN[:-1]}"])
@pytest.mark.parametrize("method,path", [("POST", "/admin/tick"), ("GET", "/admin/clock")])
def test_admin_routes_need_the_admin_token(scratch: Server, header: str | None, method: str,
                                           path: str) -> None:
    before = meta(scratch.path)["clock"]
    headers = {"Authorization": header} if header else {}
    response = httpx.request(method, f"{scratch.url}{path}", headers=headers)
    _error(response, 401, "unauthorisedrequest")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert meta(scratch.path)["clock"] == before


def test_a_oneroster_access_token_is_not_an_admin_token(scratch: Server) -> None:
    response = httpx.post(f"{scratch.url}/oauth2/token", auth=("full", "full-secret"),
                          data={"grant_type": "client_credentials"})
    oauth = response.json()["access_token"]
    with scratch.admin(oauth) as client:
        _error(client.post("/admin/tick"), 401, "unauthorisedrequest")
    # ... and the admin token is no OneRoster token.
    with scratch.admin() as client:
        _error(client.get(f"{V12}/users"), 401, "unauthorisedrequest")


@pytest.mark.parametrize("query,named", [
    ("days=0", "'0'"), ("days=-1", "'-1'"), ("days=abc", "'abc'"), ("days=1000", "'1000'"),
    ("days=1e3", "'1e3'"), ("days=2.5", "'2.5'"), ("days=367", "'367'"), ("days=", "''"),
    ("days=%207", "' 7'"), ("days=7&days=8", "'8'"), ("dayz=3", "'dayz'"),
    ("days=99999999999999999999", "'99999999999999999999'"),
])
def test_bad_days_in_the_query_are_400_naming_the_value(scratch: Server, query: str,
                                                        named: str) -> None:
    before = meta(scratch.path)["clock"]
    with scratch.admin() as client:
        description = _error(client.post(f"/admin/tick?{query}"), 400, "invaliddata")
    assert named in description
    assert meta(scratch.path)["clock"] == before


@pytest.mark.parametrize("body,named", [
    ({"days": 0}, "0"), ({"days": -1}, "-1"), ({"days": 1000}, "1000"), ({"days": 1.5}, "1.5"),
    ({"days": 1e3}, "1000.0"), ({"days": True}, "true"), ({"days": None}, "null"),
    ({"days": "1e3"}, "'1e3'"), ({"days": [7]}, "[7]"), ({"days": 7, "extra": 1}, "'extra'"),
    ([7], "[7]"), ("7 days", "7 days"),
])
def test_bad_days_in_a_json_body_are_400_naming_the_value(scratch: Server, body: object,
                                                          named: str) -> None:
    before = meta(scratch.path)["clock"]
    content = body if isinstance(body, str) else json.dumps(body)
    with scratch.admin() as client:
        response = client.post("/admin/tick", content=content,
                               headers={"Content-Type": "application/json"})
    assert named in _error(response, 400, "invaliddata")
    assert meta(scratch.path)["clock"] == before


def test_days_both_in_the_query_and_the_body_is_400(scratch: Server) -> None:
    with scratch.admin() as client:
        _error(client.post("/admin/tick?days=2", json={"days": 2}), 400, "invaliddata")
        _error(client.post("/admin/tick", content=b"days=1&days=2",
                           headers={"Content-Type": "application/x-www-form-urlencoded"}),
               400, "invaliddata")


def test_other_methods_are_405_once_authenticated(scratch: Server) -> None:
    with scratch.admin() as client:
        response = client.get("/admin/tick")
        _error(response, 405, "invaliddata")
        assert response.headers["Allow"] == "POST"
        _error(client.post("/admin/clock"), 405, "invaliddata")


def test_check_days_refuses_what_the_route_refuses() -> None:
    assert check_days(1) == 1 and check_days(366) == 366
    for bad in (0, -1, 367, 1.0, "7", True, None):
        with pytest.raises(TickError):
            check_days(bad)


# --- one 7-day tick of the main district ---------------------------------------------------


def test_a_tick_moves_the_clock_by_the_days_asked(main: Server, ticked: Ticked) -> None:
    report = ticked.report
    assert report["oldClock"] == ticked.old_clock == "2026-11-02T07:00:00Z"
    assert report["newClock"] == "2026-11-09T07:00:00Z"
    assert epoch(report["newClock"]) - epoch(report["oldClock"]) == 7 * 86400
    assert meta(main.path)["clock"] == report["newClock"]
    with main.admin() as client:
        assert client.get("/admin/clock").json() == {"clock": report["newClock"]}
    # Every kind of change happens at least once, even in a 60-student district.
    for kind in ("newStudents", "newGuardians", "withdrawals", "scheduleChanges",
                 "nameChanges", "newTeachers"):
        assert report["counts"][kind] >= 1, kind
    assert report["counts"]["newTeachers"] == 1
    assert report["counts"]["newStudents"] == len(report["newStudents"])


@pytest.mark.parametrize("table", ["users", "enrollments", "demographics"])
@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_a_delta_read_returns_exactly_what_the_tick_changed(api: httpx.Client, ticked: Ticked,
                                                            table: str, version: str) -> None:
    base = V12 if version == "1.2" else V11
    changed = _all(api, f"{base}/{COLLECTIONS[table]}", table,
                   filter=f"dateLastModified>'{ticked.old_clock}'")
    assert {r["sourcedId"] for r in changed} == set(ticked.report["records"][table])
    assert len(changed) == len(ticked.report["records"][table])


def test_the_report_lists_every_change_in_its_records(ticked: Ticked) -> None:
    report, records = ticked.report, ticked.report["records"]
    users = {s["student"] for s in report["newStudents"]}
    users |= {g for s in report["newStudents"] for g in s["guardians"]}
    users |= {w["student"] for w in report["withdrawals"]}
    users |= {n["user"] for n in report["nameChanges"]}
    users |= {t["teacher"] for t in report["newTeachers"]}
    assert users == set(records["users"])
    enrollments = {e for s in report["newStudents"] for e in s["enrollments"]}
    enrollments |= {e for w in report["withdrawals"] for e in w["enrollments"]}
    enrollments |= {c[k] for c in report["scheduleChanges"]
                    for k in ("droppedEnrollment", "addedEnrollment")}
    enrollments |= {t["enrollment"] for t in report["newTeachers"]}
    assert enrollments == set(records["enrollments"])
    demographics = {s["student"] for s in report["newStudents"]}
    demographics |= {w["student"] for w in report["withdrawals"]}
    assert demographics == set(records["demographics"])


def test_withdrawn_students_and_their_enrollments_are_tobedeleted(api: httpx.Client,
                                                                  ticked: Ticked) -> None:
    for withdrawal in ticked.report["withdrawals"]:
        sid = withdrawal["student"]
        student = api.get(f"{V12}/students/{sid}").json()["user"]
        assert (student["status"], student["enabledUser"]) == ("tobedeleted", "false")
        assert sid in {u["sourcedId"] for u in _all(api, f"{V12}/students", "users",
                                                    filter="status='tobedeleted'")}
        assert api.get(f"{V11}/users/{sid}").json()["user"]["status"] == "tobedeleted"
        assert api.get(f"{V12}/demographics/{sid}").json()["demographics"]["status"] == (
            "tobedeleted")
        enrollments = _all(api, f"{V12}/enrollments", "enrollments",
                           filter=f"user.sourcedId='{sid}'")
        assert enrollments and {e["status"] for e in enrollments} == {"tobedeleted"}
        assert {e["sourcedId"] for e in enrollments} >= set(withdrawal["enrollments"])


def test_new_students_are_enrolled_in_classes_of_their_grade(api: httpx.Client,
                                                             ticked: Ticked) -> None:
    new_clock = ticked.report["newClock"]
    for new in ticked.report["newStudents"]:
        sid = new["student"]
        student = api.get(f"{V12}/students/{sid}").json()["user"]
        assert student["status"] == "active" and student["grades"] == [new["grade"]]
        assert student["roles"][0]["org"]["sourcedId"] == new["school"]
        assert api.get(f"{V12}/demographics/{sid}").status_code == 200
        assert new["classes"], "a new student mid-semester has a schedule"
        courses = set()
        for class_id in new["classes"]:
            klass = api.get(f"{V12}/classes/{class_id}").json()["class"]
            assert new["grade"] in klass["grades"]
            assert klass["school"]["sourcedId"] == new["school"]
            courses.add(klass["course"]["sourcedId"])
            roster = _all(api, f"{V12}/classes/{class_id}/students", "users")
            assert sid in {u["sourcedId"] for u in roster}
        assert len(courses) == len(new["classes"]), "one section per course"
        for eid in new["enrollments"]:
            enrollment = api.get(f"{V12}/enrollments/{eid}").json()["enrollment"]
            assert enrollment["user"]["sourcedId"] == sid and enrollment["role"] == "student"
            assert enrollment["beginDate"] >= new_clock[:10]
        # Families: new parents or guardians, linked both ways.
        assert set(new["guardians"]) == {a["sourcedId"] for a in student["agents"]}
        for gid in new["guardians"]:
            adult = api.get(f"{V12}/users/{gid}").json()["user"]
            assert adult["roles"][0]["role"] in ("parent", "guardian")
            assert [a["sourcedId"] for a in adult["agents"]] == [sid]
        assert sid in {u["sourcedId"] for u in _all(api, f"{V12}/schools/{new['school']}"
                                                         "/students", "users")}


def test_schedule_changes_move_a_student_to_another_section(api: httpx.Client,
                                                            ticked: Ticked) -> None:
    new_day = ticked.report["newClock"][:10]
    for change in ticked.report["scheduleChanges"]:
        dropped = api.get(f"{V12}/enrollments/{change['droppedEnrollment']}").json()
        added = api.get(f"{V12}/enrollments/{change['addedEnrollment']}").json()
        dropped, added = dropped["enrollment"], added["enrollment"]
        assert dropped["status"] == "tobedeleted" and added["status"] == "active"
        assert dropped["class"]["sourcedId"] == change["fromClass"]
        assert added["class"]["sourcedId"] == change["toClass"] != change["fromClass"]
        assert dropped["user"]["sourcedId"] == added["user"]["sourcedId"] == change["student"]
        assert added["beginDate"] >= new_day and added["endDate"] > new_day
        old, new = (api.get(f"{V12}/classes/{change[k]}").json()["class"]
                    for k in ("fromClass", "toClass"))
        assert old["course"]["sourcedId"] == new["course"]["sourcedId"]
        assert old["school"]["sourcedId"] == new["school"]["sourcedId"]
        roster = _all(api, f"{V12}/classes/{change['toClass']}/students", "users")
        assert change["student"] in {u["sourcedId"] for u in roster}
        student = api.get(f"{V12}/students/{change['student']}").json()["user"]
        assert student["status"] == "active"


def test_name_changes_keep_the_username_and_move_the_email(api: httpx.Client, main: Server,
                                                           ticked: Ticked) -> None:
    for change in ticked.report["nameChanges"]:
        user = api.get(f"{V12}/users/{change['user']}").json()["user"]
        assert user["familyName"] == change["newFamilyName"] != change["oldFamilyName"]
        assert user.get("email") == change["newEmail"]
        assert change["oldEmail"] != change["newEmail"], "derived addresses follow the name"
        found = _all(api, f"{V12}/users", "users", filter=f"email='{change['newEmail']}'")
        assert [u["sourcedId"] for u in found] == [change["user"]]
        assert not _all(api, f"{V12}/users", "users", filter=f"email='{change['oldEmail']}'")
        v11 = api.get(f"{V11}/users/{change['user']}").json()["user"]
        assert (v11["familyName"], v11["username"]) == (change["newFamilyName"],
                                                        user["username"])


def test_the_new_teacher_co_teaches_an_existing_class(api: httpx.Client,
                                                      ticked: Ticked) -> None:
    (new,) = ticked.report["newTeachers"]
    teachers = _all(api, f"{V12}/classes/{new['class']}/teachers", "users")
    assert new["teacher"] in {t["sourcedId"] for t in teachers}
    assert len(teachers) >= 2, "a co-teacher joins the class's own teacher"
    enrollment = api.get(f"{V12}/enrollments/{new['enrollment']}").json()["enrollment"]
    assert (enrollment["role"], enrollment["primary"]) == ("teacher", "false")
    teacher = api.get(f"{V12}/teachers/{new['teacher']}").json()["user"]
    assert teacher["roles"][0]["org"]["sourcedId"] == new["school"]
    classes = _all(api, f"{V12}/teachers/{new['teacher']}/classes", "classes")
    assert [c["sourcedId"] for c in classes] == [new["class"]]


def test_every_touched_record_is_modified_between_the_two_clocks(main: Server,
                                                                 ticked: Ticked) -> None:
    old, new = ticked.report["oldClock"], ticked.report["newClock"]
    with Store(main.path) as store:
        stamps = []
        for table, ids in ticked.report["records"].items():
            for sid in ids:
                row = store.conn.execute(
                    f"SELECT dateLastModified, {doc_sql(table, '1.2')}, "
                    f"{doc_sql(table, '1.1')} FROM {table} "
                    "WHERE sourcedId = ?", (sid,)).fetchone()
                assert old < row[0] < new, (table, sid)
                assert json.loads(row[1])["dateLastModified"] == row[0]
                assert json.loads(row[2])["dateLastModified"] == row[0]
                stamps.append(row[0])
        assert len(set(stamps)) == len(stamps), "each record has its own modification time"
        # Nothing else moved past the old clock.
        for table in ("orgs", "academicSessions", "courses", "classes", "users", "enrollments",
                      "demographics", "categories", "scoreScales", "lineItems", "results"):
            later = store.conn.execute(f"SELECT count(*) FROM {table} WHERE dateLastModified > ?",
                                       (old,)).fetchone()[0]
            assert later == len(ticked.report["records"].get(table, [])), table


def test_columns_and_both_json_forms_agree(main: Server, ticked: Ticked) -> None:
    with Store(main.path) as store:
        conn = store.conn
        for sid in ticked.report["records"]["users"]:
            status, family, email, username, school, j12, j11 = conn.execute(
                "SELECT status, familyName, email, username, school_id, json12, json11 "
                "FROM users WHERE sourcedId = ?", (sid,)).fetchone()
            for doc in (json.loads(j12), json.loads(j11)):
                assert (doc["status"], doc["familyName"], doc.get("email"),
                        doc.get("username")) == (status, family, email, username)
            assert json.loads(j12)["primaryOrg"]["@o"] == school
        for sid in ticked.report["records"]["enrollments"]:
            row = conn.execute("SELECT status, role, class_id, user_id, school_id, primary_, "
                               f"beginDate, endDate, {texts_sql('enrollments')} FROM enrollments "
                               "WHERE sourcedId = ?", (sid,)).fetchone()
            doc = json.loads(row[8])
            assert row[9] is None
            assert row[:8] == (doc["status"], doc["role"], doc["class"]["@c"], doc["user"]["@u"],
                               doc["school"]["@o"], doc.get("primary"), doc["beginDate"],
                               doc["endDate"])
        for sid in ticked.report["records"]["demographics"]:
            status, birth, sex, j12 = conn.execute(
                f"SELECT status, birthDate, sex, {doc_sql('demographics', '1.2')} "
                "FROM demographics WHERE sourcedId = ?",
                (sid,)).fetchone()
            doc = json.loads(j12)
            assert (doc["status"], doc["birthDate"], doc["sex"]) == (status, birth, sex)
        # New records follow all older ones in store order, in the order they were written.
        report = ticked.report
        created = {
            "users": [*(s["student"] for s in report["newStudents"]),
                      *(g for s in report["newStudents"] for g in s["guardians"]),
                      *(t["teacher"] for t in report["newTeachers"])],
            "enrollments": [*(e for s in report["newStudents"] for e in s["enrollments"]),
                            *(c["addedEnrollment"] for c in report["scheduleChanges"]),
                            *(t["enrollment"] for t in report["newTeachers"])],
            "demographics": [s["student"] for s in report["newStudents"]],
        }
        for table, new_ids in created.items():
            order = [i for i in report["records"][table] if i in set(new_ids)]
            assert sorted(order) == sorted(new_ids)
            seqs = [conn.execute(f"SELECT seq FROM {table} WHERE sourcedId = ?",
                                 (i,)).fetchone()[0] for i in order]
            assert seqs == sorted(seqs)
            older = conn.execute(
                f"SELECT max(seq) FROM {table} WHERE sourcedId NOT IN "
                f"({', '.join('?' * len(new_ids))})", new_ids).fetchone()[0]
            assert seqs[0] == older + 1 and seqs[-1] == older + len(seqs)


@pytest.mark.parametrize("table", ["users", "enrollments", "demographics"])
def test_changed_records_still_validate_against_the_official_schemas(
        api: httpx.Client, ticked: Ticked, table: str) -> None:
    v12_schema, v11_schema = SCHEMAS[table]
    for version, base, schema in (("1.2", V12, v12_schema), ("1.1", V11, v11_schema)):
        records = _all(api, f"{base}/{COLLECTIONS[table]}", table,
                       filter=f"dateLastModified>'{ticked.old_clock}'")
        assert records
        for record in records:
            errors = [e.message for e in validator(version, schema).iter_errors(record)]
            assert not errors, (version, record["sourcedId"], errors[:3])


def test_usernames_emails_and_identifiers_stay_unique(main: Server, ticked: Ticked) -> None:
    with Store(main.path) as store:
        for column in ("username", "email", "identifier"):
            dupes = store.conn.execute(
                f"SELECT {column}, count(*) FROM users WHERE {column} IS NOT NULL "
                f"GROUP BY {column} HAVING count(*) > 1").fetchall()
            assert not dupes, (column, dupes[:3])
        assert store.conn.execute(
            "SELECT count(*) FROM user_orgs WHERE user_id NOT IN (SELECT sourcedId FROM users)"
        ).fetchone()[0] == 0


def test_the_same_ticks_give_the_same_district(tmp_path: Path, ticked: Ticked) -> None:
    reports, hashes = [], []
    for name in ("a", "b"):
        path = build(tmp_path / f"{name}.sqlite")
        conn = open_writer(path)
        try:
            first = advance(conn, 7)
            hashes.append(content_hash(path))
            second = advance(conn, 30)
        finally:
            conn.close()
        reports.append((first.to_dict(), second.to_dict()))
        hashes.append(content_hash(path))
    assert reports[0] == reports[1]
    assert hashes[0] == hashes[2] and hashes[1] == hashes[3]
    # The served district ticked over HTTP holds exactly what a direct tick writes.
    assert hashes[0] == ticked.hash_after
    assert reports[0][0] == ticked.report
    # A longer tick brings more changes (the rates are per week, capped at four).
    assert reports[0][1]["newClock"] == "2026-12-09T07:00:00Z"


# --- more ticks of the scratch district -----------------------------------------------------


def test_days_come_from_the_query_a_json_body_or_a_form_and_default_to_one(
        scratch: Server) -> None:
    with scratch.admin() as client:
        clock = epoch(client.get("/admin/clock").json()["clock"])
        for request, days in (
            (lambda: client.post("/admin/tick"), 1),
            (lambda: client.post("/admin/tick?days=3"), 3),
            (lambda: client.post("/admin/tick", json={"days": 2}), 2),
            (lambda: client.post("/admin/tick", json={}), 1),
            (lambda: client.post("/admin/tick", json={"days": "4"}), 4),
            (lambda: client.post("/admin/tick", data={"days": "5"}), 5),
        ):
            response = request()
            assert response.status_code == 200, response.text
            report = response.json()
            assert report["days"] == days
            assert epoch(report["oldClock"]) == clock
            clock += days * 86400
            assert epoch(report["newClock"]) == clock
            assert client.get("/admin/clock").json()["clock"] == report["newClock"]


def test_a_failing_tick_changes_nothing(scratch: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    before_hash, before_meta = content_hash(scratch.path), meta(scratch.path)

    written: list[int] = []

    def broken(self, schools):  # runs after every other kind of change was written
        written.append(sum(len(ids) for ids in self.out.changed.values()))
        raise RuntimeError("simulated failure in the middle of a tick")

    monkeypatch.setattr(tick_module._Tick, "add_teacher", broken)
    with scratch.admin() as client:
        description = _error(client.post("/admin/tick?days=7"), 500, "internal_server_error")
        assert "rolled back" in description and "simulated failure" in description
        assert client.get("/admin/clock").json()["clock"] == before_meta["clock"]
    assert written and written[0] > 0, "the tick had written records before it failed"
    assert content_hash(scratch.path) == before_hash
    assert meta(scratch.path) == before_meta
    # The same through the Python API: the writer connection is left usable, outside any
    # transaction, and the next tick works.
    conn = open_writer(scratch.path)
    try:
        with pytest.raises(RuntimeError, match="simulated"):
            advance(conn, 7)
        assert not conn.in_transaction
        assert content_hash(scratch.path) == before_hash
        monkeypatch.undo()
        report = advance(conn, 7)
    finally:
        conn.close()
    assert meta(scratch.path)["clock"] == report.new_clock != before_meta["clock"]


def test_in_transaction_rolls_back_everything(tmp_path: Path) -> None:
    path = build(tmp_path / "t.sqlite")
    conn = open_writer(path)
    try:
        def half(c):
            c.execute("UPDATE meta SET value = 'x' WHERE key = 'clock'")
            c.execute("DELETE FROM users")
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            in_transaction(conn, half)
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] > 0
        assert in_transaction(conn, lambda c: c.execute(
            "SELECT value FROM meta WHERE key = 'clock'").fetchone()[0]) != "x"
    finally:
        conn.close()


def test_concurrent_ticks_run_one_after_the_other(scratch: Server) -> None:
    with scratch.admin() as client:
        start = epoch(client.get("/admin/clock").json()["clock"])
    results: list[httpx.Response] = []

    def tick() -> None:
        with scratch.admin() as client:
            results.append(client.post("/admin/tick?days=1"))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [200] * 4
    pairs = sorted((epoch(r.json()["oldClock"]), epoch(r.json()["newClock"])) for r in results)
    assert pairs == [(start + i * 86400, start + (i + 1) * 86400) for i in range(4)]
    with Store(scratch.path) as store:
        assert store.meta["clock"] == time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 4 * 86400))
        dupes = store.conn.execute("SELECT username FROM users GROUP BY username "
                                   "HAVING count(*) > 1").fetchall()
        assert not dupes


def test_a_tick_past_the_school_year_still_works(tmp_path: Path) -> None:
    path = build(tmp_path / "late.sqlite")
    conn = open_writer(path)
    try:
        report = advance(conn, 366)
    finally:
        conn.close()
    assert report.new_clock == "2027-11-03T07:00:00Z"
    # No class runs any more: students still arrive and leave, but nobody is scheduled.
    assert report.new_students and all(not s.classes for s in report.new_students)
    assert not report.schedule_changes and not report.new_teachers
    assert dt.date.fromisoformat(report.new_clock[:10]) > dt.date(2027, 6, 4)


def test_a_district_with_every_quirk_ticks_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "quirks.sqlite"
    build_district(DistrictSpec(seed=3, students=300, size="custom",
                                quirks=frozenset(QUIRKS)), path)
    old = meta(path)["clock"]
    conn = open_writer(path)
    try:
        reports = [advance(conn, days) for days in (7, 30)]
    finally:
        conn.close()
    assert all(r.counts["newStudents"] and r.counts["withdrawals"] for r in reports)
    new_users = [s.student for r in reports for s in r.new_students]
    new_users += [g for r in reports for g in r.new_guardians]
    new_users += [t.teacher for r in reports for t in r.new_teachers]
    with Store(path) as store:
        for table, (v12_schema, v11_schema) in SCHEMAS.items():
            for version, schema in (("1.2", v12_schema), ("1.1", v11_schema)):
                for record in store.iter_records(table, version, "http://x", since=old):
                    errors = [e.message for e in validator(version, schema).iter_errors(record)]
                    assert not errors, (table, version, record["sourcedId"], errors[:3])
        for column in ("username", "email", "identifier"):
            for sid in new_users:
                (value,) = store.conn.execute(f"SELECT {column} FROM users WHERE sourcedId = ?",
                                              (sid,)).fetchone()
                assert store.conn.execute(f"SELECT count(*) FROM users WHERE {column} = ?",
                                          (value,)).fetchone()[0] == 1, (column, value)


def test_totals_follow_a_tick_although_pages_remember_them(scratch: Server) -> None:
    token = httpx.post(f"{scratch.url}/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("full", "full-secret")).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{scratch.url}/ims/oneroster/rostering/v1p2/students"

    def total() -> int:
        return int(httpx.get(url, headers=headers, params={"limit": 1}).headers["X-Total-Count"])

    before = total()
    assert total() == before  # asked twice: the second answer comes from the remembered count
    with scratch.admin() as admin:
        report = admin.post("/admin/tick", json={"days": 7}).json()
    assert total() == before + report["counts"]["newStudents"] > before


def test_a_tick_stores_each_side_table_row_once(tmp_path: Path, districts_dir: Path) -> None:
    path = tmp_path / "d.sqlite"
    shutil.copy(make_district(districts_dir, 42, 60), path)
    conn = open_writer(path)
    try:
        advance(conn, 7)
        total, distinct = conn.execute(
            "SELECT count(*), (SELECT count(*) FROM (SELECT DISTINCT * FROM user_orgs)) "
            "FROM user_orgs").fetchone()
    finally:
        conn.close()
    assert total == distinct
