"""The school-year rollover: POST /admin/rollover over real HTTP, and what it does to a district.

Two districts are built once for the module and rolled over once each through the route: the
tiny one (60 students, one high school with grades 09-12) and a zoned one (4000 students:
elementary, middle and high schools in one feeder zone). What happened before is read from
the file first. Rolling over again, refusals and failures use their own copies.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.district import rollover as rollover_module
from mock_provider.district.rollover import RolloverConflict, advance_year
from mock_provider.query.fields import SCHEMAS
from mock_provider.record_forms import doc_sql
from mock_provider.store import Store
from mock_provider.writer import open_writer
from specs import validator

from .live_server import live_server

V12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
ADMIN = "admin-secret-for-rollover-tests"
BASE = "http://example.test"
# table -> record schema name, per version (the catalogue the query layer uses too).
V12_SCHEMA = {table: names[0] for table, names in SCHEMAS.items()}
V11_SCHEMA = {table: names[1] for table, names in SCHEMAS.items() if names[1]}


def build(path: Path, students: int) -> Path:
    build_district(DistrictSpec(seed=42, students=students, size="custom"), path)
    return path


def backup(source: Path, target: Path) -> Path:
    """A consistent copy of a district file, even while it is served (WAL)."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return target


def content_hash(path: Path) -> str:
    with Store(path) as store:
        return store.content_hash()


def meta(path: Path) -> dict[str, str]:
    with Store(path) as store:
        return dict(store.meta)


def roll(path: Path):
    conn = open_writer(path)
    try:
        return advance_year(conn)
    finally:
        conn.close()


@dataclass
class Server:
    url: str
    path: Path

    def admin(self, token: str | None = ADMIN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)

    def api(self) -> httpx.Client:
        response = httpx.post(f"{self.url}/oauth2/token", auth=("full", "full-secret"),
                              data={"grant_type": "client_credentials"})
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        return httpx.Client(base_url=self.url, timeout=60,
                            headers={"Authorization": f"Bearer {token}"})


def _serve(path: Path, admin_token: str | None) -> Iterator[Server]:
    store = Store(path)
    full = Connection(name="full", client_id="full", client_secret="full-secret",
                      scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    try:
        with live_server(create_app(store, [full], admin_token=admin_token)) as url:
            yield Server(url, path)
    finally:
        store.close()


def _error(response: httpx.Response, status: int, code_minor: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert not list(validator("1.2", "imsx_StatusInfoDType").iter_errors(body))
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == (
        code_minor)
    return body["imsx_description"]


def _all(api: httpx.Client, path: str, envelope: str, **params: str) -> list[dict]:
    response = api.get(path, params={"limit": "50000", **params})
    assert response.status_code == 200, response.text
    return response.json()[envelope]


@dataclass
class Before:
    """What the district held before its rollover (served records only)."""

    clock: str
    school_year: int
    sessions: set[str]
    courses: set[str]
    classes: set[str]
    schools: list[str]
    students: dict[str, tuple[str, str, int]]  # id -> (grade, school, classes)
    users: set[str]  # every user, served or not


def before(path: Path) -> Before:
    with Store(path) as store:
        conn = store.conn

        def ids(table: str) -> set[str]:
            return {r[0] for r in conn.execute(f"SELECT sourcedId FROM {table} WHERE hidden = 0")}

        counts = dict(conn.execute(
            "SELECT user_id, count(*) FROM enrollments WHERE role = 'student' AND hidden = 0 "
            "AND status = 'active' GROUP BY user_id"))
        students = {}
        for sid, school, text in conn.execute(
                "SELECT sourcedId, school_id, json12 FROM users WHERE role = 'student' "
                "AND status = 'active' ORDER BY seq"):
            students[sid] = (json.loads(text)["grades"][0], school, counts.get(sid, 0))
        schools = [r[0] for r in conn.execute(
            "SELECT sourcedId FROM orgs WHERE type = 'school' ORDER BY seq")]
        users = {r[0] for r in conn.execute("SELECT sourcedId FROM users")}
        return Before(store.meta["clock"], int(store.meta["school_year"]),
                      ids("academicSessions"), ids("courses"), ids("classes"), schools, students,
                      users)


@dataclass
class Rolled:
    server: Server
    before: Before
    report: dict
    hash_after: str


def _rolled(server: Server) -> Rolled:
    state = before(server.path)
    with server.admin() as admin:
        response = admin.post("/admin/rollover")
    assert response.status_code == 200, response.text
    return Rolled(server, state, response.json(), content_hash(server.path))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rollover")


@pytest.fixture(scope="module")
def tiny_server(root: Path) -> Iterator[Server]:
    yield from _serve(build(root / "tiny.sqlite", 60), ADMIN)


@pytest.fixture(scope="module")
def tiny(tiny_server: Server) -> Rolled:
    return _rolled(tiny_server)


@pytest.fixture(scope="module")
def zoned_twin(root: Path) -> Path:
    """The zoned district as built, for rolling over outside the server."""
    build(root / "zoned.sqlite", 4000)
    return backup(root / "zoned.sqlite", root / "zoned-twin.sqlite")


@pytest.fixture(scope="module")
def zoned(root: Path, zoned_twin: Path) -> Iterator[Rolled]:
    for server in _serve(root / "zoned.sqlite", ADMIN):
        yield _rolled(server)


@pytest.fixture(scope="module")
def tiny_api(tiny: Rolled) -> Iterator[httpx.Client]:
    with tiny.server.api() as client:
        yield client


@pytest.fixture(scope="module")
def zoned_api(zoned: Rolled) -> Iterator[httpx.Client]:
    with zoned.server.api() as client:
        yield client


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Server]:
    yield from _serve(build(tmp_path / "scratch.sqlite", 60), ADMIN)


# --- the tiny district ---------------------------------------------------------------------


def test_the_report_and_meta_name_the_new_year(tiny: Rolled) -> None:
    report, state = tiny.report, tiny.before
    assert (report["oldSchoolYear"], report["schoolYear"]) == (2027, 2028)
    assert (report["oldClock"], report["newClock"]) == ("2026-11-02T07:00:00Z",
                                                        "2027-08-18T07:00:00Z")
    seniors = [s for s, (g, _, _) in state.students.items() if g == "12"]
    counts = report["counts"]
    assert counts["graduated"] == len(seniors) > 0
    assert counts["promoted"] == len(state.students) - len(seniors)
    assert counts["movedSchool"] == counts["unplaced"] == 0
    assert counts["kindergarten"] == counts["newGuardians"] == 0, "a high school admits no KG"
    assert counts["sessions"] == 7 * len(state.schools)
    assert (counts["courses"], counts["classes"]) == (len(state.courses), len(state.classes))
    assert counts["enrollments"] == counts["teacherEnrollments"] + counts["studentEnrollments"]
    assert counts["hidden"] == sum(report["hidden"].values())
    assert report["hidden"]["classes"] == len(state.classes)
    assert report["hidden"]["academicSessions"] == len(state.sessions)
    after = meta(tiny.server.path)
    assert (after["school_year"], after["clock"]) == ("2028", report["newClock"])
    with tiny.server.admin() as admin:
        assert admin.get("/admin/clock").json() == {"clock": report["newClock"]}


@pytest.mark.parametrize("base", [V12, V11])
def test_only_the_new_year_sessions_are_served(tiny: Rolled, tiny_api: httpx.Client,
                                               base: str) -> None:
    sessions = _all(tiny_api, f"{base}/academicSessions", "academicSessions")
    assert len(sessions) == 7
    assert {s["schoolYear"] for s in sessions} == {"2028"}
    assert not {s["sourcedId"] for s in sessions} & tiny.before.sessions
    terms = _all(tiny_api, f"{base}/terms", "academicSessions")
    assert [(t["title"], t["startDate"]) for t in terms] == [
        ("2027-28 Semester 1", "2027-08-19"), ("2027-28 Semester 2", "2028-01-05")]
    assert len(_all(tiny_api, f"{base}/gradingPeriods", "academicSessions")) == 4
    for old in list(tiny.before.sessions)[:3]:
        _error(tiny_api.get(f"{V12}/academicSessions/{old}"), 404, "unknownobject")


def test_classes_and_courses_are_new_copies(tiny: Rolled, tiny_api: httpx.Client) -> None:
    classes = _all(tiny_api, f"{V12}/classes", "classes")
    courses = _all(tiny_api, f"{V12}/courses", "courses")
    assert len(classes) == len(tiny.before.classes)
    assert len(courses) == len(tiny.before.courses)
    assert not {c["sourcedId"] for c in classes} & tiny.before.classes
    assert not {c["sourcedId"] for c in courses} & tiny.before.courses
    terms = {t["sourcedId"] for t in _all(tiny_api, f"{V12}/terms", "academicSessions")}
    (year,) = _all(tiny_api, f"{V12}/academicSessions", "academicSessions",
                   filter="type='schoolYear'")
    course_ids = {c["sourcedId"] for c in courses}
    assert {c["schoolYear"]["sourcedId"] for c in courses} == {year["sourcedId"]}
    for klass in classes:
        assert {t["sourcedId"] for t in klass["terms"]} <= terms
        assert klass["course"]["sourcedId"] in course_ids
        teachers = _all(tiny_api, f"{V12}/classes/{klass['sourcedId']}/teachers", "users")
        assert teachers, "every class keeps its teachers"
    # The same sections as last year: titles, codes, periods and rooms.
    with Store(tiny.server.path) as store:
        old = {(c["classCode"], c["title"], tuple(c["periods"]), c["location"], len(c["terms"]))
               for c in store.iter_records("classes", include_hidden=True)
               if c["sourcedId"] in tiny.before.classes}
    assert {(c["classCode"], c["title"], tuple(c["periods"]), c["location"], len(c["terms"]))
            for c in classes} == old


def test_students_are_only_in_new_year_classes(tiny: Rolled, tiny_api: httpx.Client) -> None:
    new_classes = {c["sourcedId"] for c in _all(tiny_api, f"{V12}/classes", "classes")}
    promoted = [s for s, (grade, _, _) in tiny.before.students.items() if grade != "12"]
    for sid in promoted:
        classes = _all(tiny_api, f"{V12}/students/{sid}/classes", "classes")
        assert classes and {c["sourcedId"] for c in classes} <= new_classes, sid
    enrollments = _all(tiny_api, f"{V12}/enrollments", "enrollments")
    assert {e["class"]["sourcedId"] for e in enrollments} <= new_classes
    assert {e["beginDate"][:4] for e in enrollments} <= {"2027", "2028"}


def test_a_ninth_grader_is_now_in_tenth_grade_classes(tiny: Rolled,
                                                      tiny_api: httpx.Client) -> None:
    ninth = [(s, n) for s, (grade, _, n) in tiny.before.students.items() if grade == "09"]
    assert ninth
    for sid, old_count in ninth:
        student = tiny_api.get(f"{V12}/students/{sid}").json()["user"]
        assert (student["grades"], student["status"]) == (["10"], "active")
        assert tiny_api.get(f"{V11}/users/{sid}").json()["user"]["grades"] == ["10"]
        classes = _all(tiny_api, f"{V12}/students/{sid}/classes", "classes")
        assert all("10" in c["grades"] for c in classes)
        assert len({c["course"]["sourcedId"] for c in classes}) == len(classes)
        assert len(classes) == old_count, "a secondary student keeps a full schedule"
        core = {c["title"] for c in classes}
        assert {"English 10", "Geometry", "Chemistry", "World Geography"} <= core


def test_seniors_graduate_without_new_enrollments(tiny: Rolled, tiny_api: httpx.Client) -> None:
    seniors = [s for s, (grade, _, _) in tiny.before.students.items() if grade == "12"]
    for sid in seniors:
        user = tiny_api.get(f"{V12}/users/{sid}").json()["user"]
        assert (user["status"], user["enabledUser"]) == ("tobedeleted", "false")
        assert tiny_api.get(f"{V11}/users/{sid}").json()["user"]["status"] == "tobedeleted"
        assert _all(tiny_api, f"{V12}/students/{sid}/classes", "classes") == []
        assert _all(tiny_api, f"{V12}/enrollments", "enrollments",
                    filter=f"user.sourcedId='{sid}'") == []
        demographics = tiny_api.get(f"{V12}/demographics/{sid}").json()["demographics"]
        assert demographics["status"] == "tobedeleted"
    # Nobody is in grade 12 classes any more but last year's juniors.
    juniors = {s for s, (grade, _, _) in tiny.before.students.items() if grade == "11"}
    (english12,) = _all(tiny_api, f"{V12}/classes", "classes", filter="title='English 12'")[:1]
    roster = _all(tiny_api, f"{V12}/classes/{english12['sourcedId']}/students", "users")
    assert roster and {u["sourcedId"] for u in roster} <= juniors


def test_every_changed_record_is_stamped_between_the_two_clocks(tiny: Rolled) -> None:
    old, new = tiny.report["oldClock"], tiny.report["newClock"]
    with Store(tiny.server.path) as store:
        for table in V12_SCHEMA:
            for dlm, j12, j11 in store.conn.execute(
                    f"SELECT dateLastModified, {doc_sql(table, '1.2')}, "
                    f"{doc_sql(table, '1.1')} FROM {table} "
                    "WHERE dateLastModified > ?", (old,)):
                assert dlm <= new, table
                assert json.loads(j12)["dateLastModified"] == json.loads(j11)[
                    "dateLastModified"] == dlm
        # Every served session, course, class, enrollment and category is new.
        for table in ("academicSessions", "courses", "classes", "enrollments", "categories",
                      "scoreScales"):
            stale = store.conn.execute(f"SELECT count(*) FROM {table} WHERE hidden = 0 "
                                       "AND dateLastModified <= ?", (old,)).fetchone()[0]
            assert stale == 0, table
        assert store.count("lineItems") == store.count("results") == 0
        promoted = store.conn.execute(
            "SELECT count(*) FROM users WHERE role = 'student' AND dateLastModified > ?",
            (old,)).fetchone()[0]
        assert promoted == len(tiny.before.students)


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_every_served_record_still_validates(tiny: Rolled, version: str) -> None:
    names = V12_SCHEMA if version == "1.2" else V11_SCHEMA
    with Store(tiny.server.path) as store:
        for table, name in names.items():
            check = validator(version, name)
            for record in store.iter_records(table, version, BASE):
                errors = [e.message for e in check.iter_errors(record)]
                assert not errors, (table, record["sourcedId"], errors[:3])


# --- the zoned district --------------------------------------------------------------------


def _middle_school(api: httpx.Client) -> dict:
    (middle,) = [s for s in _all(api, f"{V12}/schools", "orgs")
                 if s["name"].endswith("Middle School")]
    return middle


def test_fifth_graders_move_to_the_middle_school(zoned: Rolled, zoned_api: httpx.Client) -> None:
    middle = _middle_school(zoned_api)
    fifth = [s for s, (grade, _, _) in zoned.before.students.items() if grade == "05"]
    eighth = [s for s, (grade, _, _) in zoned.before.students.items() if grade == "08"]
    assert zoned.report["counts"]["movedSchool"] == len(fifth) + len(eighth)
    at_middle = {u["sourcedId"] for u in _all(
        zoned_api, f"{V12}/schools/{middle['sourcedId']}/students", "users")}
    assert set(fifth) <= at_middle and not set(eighth) & at_middle
    for sid in fifth[:5]:
        user = zoned_api.get(f"{V12}/students/{sid}").json()["user"]
        assert user["grades"] == ["06"]
        assert user["primaryOrg"]["sourcedId"] == middle["sourcedId"]
        assert [r["org"]["sourcedId"] for r in user["roles"]] == [middle["sourcedId"]]
        v11 = zoned_api.get(f"{V11}/users/{sid}").json()["user"]
        assert [o["sourcedId"] for o in v11["orgs"]] == [middle["sourcedId"]]
        classes = _all(zoned_api, f"{V12}/students/{sid}/classes", "classes")
        assert len(classes) >= 6, "a middle-school schedule, not a homeroom"
        assert {c["school"]["sourcedId"] for c in classes} == {middle["sourcedId"]}
        assert all("06" in c["grades"] for c in classes)


def test_elementary_students_get_one_homeroom(zoned: Rolled, zoned_api: httpx.Client) -> None:
    second = [(s, school) for s, (grade, school, _) in zoned.before.students.items()
              if grade == "02"]
    for sid, school in second[:10]:
        (homeroom,) = _all(zoned_api, f"{V12}/students/{sid}/classes", "classes")
        assert (homeroom["classType"], homeroom["grades"]) == ("homeroom", ["03"])
        assert homeroom["school"]["sourcedId"] == school
    # Sections are filled evenly.
    sizes = [len(_all(zoned_api, f"{V12}/classes/{c['sourcedId']}/students", "users"))
             for c in _all(zoned_api, f"{V12}/classes", "classes", filter="title='Algebra I'")]
    assert max(sizes) - min(sizes) <= 1


def _kindergarten(api: httpx.Client, school: str) -> list[dict]:
    return _all(api, f"{V12}/schools/{school}/students", "users", filter="grades='KG'")


def test_every_kindergarten_school_admits_a_new_kindergarten(zoned: Rolled,
                                                             zoned_api: httpx.Client) -> None:
    state = zoned.before
    cohorts: dict[str, int] = {}
    for grade, school, _ in state.students.values():
        if grade == "KG":
            cohorts[school] = cohorts.get(school, 0) + 1
    assert len(cohorts) >= 2, "the zoned district has several elementary schools"
    admitted = 0
    for school in state.schools:
        kids = _kindergarten(zoned_api, school)
        if school not in cohorts:
            assert kids == [], "only schools that teach KG admit kindergartners"
            continue
        # About as many as last year's kindergarten, none of them a student from before.
        assert abs(len(kids) - cohorts[school]) <= cohorts[school] * 0.05 + 1, school
        assert not {k["sourcedId"] for k in kids} & state.users
        assert {k["status"] for k in kids} == {"active"}
        admitted += len(kids)
    assert zoned.report["counts"]["kindergarten"] == admitted > 0
    # Last year's kindergartners are first graders now.
    last_year = [s for s, (grade, _, _) in state.students.items() if grade == "KG"]
    user = zoned_api.get(f"{V12}/students/{last_year[0]}").json()["user"]
    assert user["grades"] == ["01"]


def test_kindergartners_look_like_every_other_student(zoned: Rolled,
                                                      zoned_api: httpx.Client) -> None:
    school = next(s for g, s, _ in zoned.before.students.values() if g == "KG")
    kids = _kindergarten(zoned_api, school)
    assert len(kids) > 12
    domain = meta(zoned.server.path)["domain"]
    numbers = set()
    for kid in kids[:12]:
        sid = kid["sourcedId"]
        assert kid["roles"] == [{"roleType": "primary", "role": "student",
                                 "org": kid["primaryOrg"]}]
        assert kid["primaryOrg"]["sourcedId"] == school
        assert kid["enabledUser"] == "true"
        assert kid["username"] and kid["email"] == f"{kid['username']}@students.{domain}"
        ids = {i["type"]: i["identifier"] for i in kid["userIds"]}
        assert ids["studentNumber"] == kid["identifier"] and kid["identifier"].isdigit()
        numbers.add(kid["identifier"])
        v11 = zoned_api.get(f"{V11}/users/{sid}").json()["user"]
        assert (v11["role"], v11["grades"]) == ("student", ["KG"])
        assert [o["sourcedId"] for o in v11["orgs"]] == [school]
        demographics = zoned_api.get(f"{V12}/demographics/{sid}").json()["demographics"]
        # Five years old on September 1 of the new school year's first calendar year.
        born = demographics["birthDate"]
        assert f"{zoned.report['schoolYear'] - 7}-09-01" <= born < (
            f"{zoned.report['schoolYear'] - 6}-09-01"), born
    assert len(numbers) == len(kids[:12])
    with Store(zoned.server.path) as store:
        for column in ("username", "email", "identifier"):
            dupes = store.conn.execute(
                f"SELECT {column}, count(*) FROM users WHERE {column} IS NOT NULL "
                f"GROUP BY {column} HAVING count(*) > 1 LIMIT 3").fetchall()
            assert dupes == [], column
        # The same side-table rows a generated student has: one school role.
        for kid in kids[:12]:
            rows = store.conn.execute("SELECT org_id, role, roleType FROM user_orgs WHERE "
                                      "user_id = ?", (kid["sourcedId"],)).fetchall()
            assert rows == [(school, "student", "primary")]


def test_kindergartners_are_in_new_year_homerooms(zoned: Rolled,
                                                  zoned_api: httpx.Client) -> None:
    new_classes = {c["sourcedId"]: c for c in _all(zoned_api, f"{V12}/classes", "classes")}
    assert not set(new_classes) & zoned.before.classes
    terms = {t["sourcedId"]: t for t in _all(zoned_api, f"{V12}/terms", "academicSessions")}
    for school in {s for g, s, _ in zoned.before.students.values() if g == "KG"}:
        kids = _kindergarten(zoned_api, school)
        homerooms: set[str] = set()
        for kid in kids:
            enrollments = _all(zoned_api, f"{V12}/enrollments", "enrollments",
                               filter=f"user.sourcedId='{kid['sourcedId']}'")
            assert len(enrollments) == 1, "one homeroom, like every elementary student"
            (enrollment,) = enrollments
            klass = new_classes[enrollment["class"]["sourcedId"]]
            assert (klass["classType"], klass["grades"]) == ("homeroom", ["KG"])
            assert klass["school"]["sourcedId"] == enrollment["school"]["sourcedId"] == school
            assert (enrollment["role"], enrollment["status"]) == ("student", "active")
            first_term = min(terms[t["sourcedId"]]["startDate"] for t in klass["terms"])
            assert enrollment["beginDate"] == first_term
            homerooms.add(klass["sourcedId"])
        # Spread over the school's KG homerooms, least filled first.
        sizes = [len(_all(zoned_api, f"{V12}/classes/{c}/students", "users"))
                 for c in homerooms]
        assert max(sizes) - min(sizes) <= 1, sizes


def test_kindergartners_have_new_guardians_as_agents_both_ways(zoned: Rolled,
                                                               zoned_api: httpx.Client) -> None:
    school = next(s for g, s, _ in zoned.before.students.values() if g == "KG")
    kids = _kindergarten(zoned_api, school)
    assert len(kids) > 15
    guardians = 0
    for kid in kids[:15]:
        agents = [a["sourcedId"] for a in kid["agents"]]
        assert 1 <= len(agents) <= 2
        assert not set(agents) & zoned.before.users, "new families"
        for base in (V12, V11):
            assert [a["sourcedId"] for a in zoned_api.get(
                f"{base}/users/{kid['sourcedId']}").json()["user"]["agents"]] == agents
        for agent_id in agents:
            adult = zoned_api.get(f"{V12}/users/{agent_id}").json()["user"]
            assert adult["status"] == "active"
            assert adult["roles"][0]["role"] in ("parent", "guardian")
            assert adult["primaryOrg"]["sourcedId"] == school
            assert [a["sourcedId"] for a in adult["agents"]] == [kid["sourcedId"]]
            v11 = zoned_api.get(f"{V11}/users/{agent_id}").json()["user"]
            assert [a["sourcedId"] for a in v11["agents"]] == [kid["sourcedId"]]
            guardians += 1
    assert guardians >= 15
    with Store(zoned.server.path) as store:
        new_adults = store.conn.execute(
            "SELECT count(*) FROM users WHERE role IN ('parent', 'guardian') AND "
            "dateLastModified > ?", (zoned.report["oldClock"],)).fetchone()[0]
    assert new_adults == zoned.report["counts"]["newGuardians"]


def test_changed_zoned_records_validate(zoned: Rolled) -> None:
    old = zoned.report["oldClock"]
    moved = {s for s, (grade, _, _) in zoned.before.students.items() if grade in ("05", "08")}
    with Store(zoned.server.path) as store:
        # The new kindergartners, their parents or guardians and demographics: all of them.
        moved |= {r[0] for r in store.conn.execute("SELECT sourcedId FROM users")
                  } - zoned.before.users
    with Store(zoned.server.path) as store:
        for version, names in (("1.2", V12_SCHEMA), ("1.1", V11_SCHEMA)):
            for table, name in names.items():
                check = validator(version, name)
                # Every record shape occurs many times over: a sample of each table, and the
                # students who changed school.
                for i, record in enumerate(store.iter_records(table, version, BASE,
                                                              since=old)):
                    if i % 17 == 0 or (table in ("users", "demographics")
                                       and record["sourcedId"] in moved and i % 3 == 0):
                        errors = [e.message for e in check.iter_errors(record)]
                        assert not errors, (table, record["sourcedId"], errors[:3])


def test_the_same_district_rolls_over_to_the_same_content(zoned: Rolled,
                                                          zoned_twin: Path) -> None:
    report = roll(zoned_twin)
    assert report.kindergarten > 0 and report.new_guardians > 0, "the intake is covered"
    assert report.to_dict() == zoned.report
    assert content_hash(zoned_twin) == zoned.hash_after


def test_a_second_rollover_moves_students_again(zoned: Rolled, root: Path) -> None:
    path = backup(zoned.server.path, root / "zoned-second.sqlite")
    fourth = [s for s, (grade, _, _) in zoned.before.students.items() if grade == "04"]
    report = roll(path)
    assert (report.new_school_year, report.new_clock) == (2029, "2028-08-18T07:00:00Z")
    assert report.moved_school > 0 and report.graduated > 0
    with Store(path) as store:
        middle = store.conn.execute("SELECT sourcedId FROM orgs WHERE name LIKE "
                                    "'% Middle School'").fetchone()[0]
        for sid in fourth[:20]:
            user = store.get("users", sid)
            assert user is not None and user["grades"] == ["06"]
            assert user["primaryOrg"]["sourcedId"] == middle
            classes = store.conn.execute(
                "SELECT count(*) FROM enrollments WHERE user_id = ? AND hidden = 0",
                (sid,)).fetchone()[0]
            assert classes >= 6
        assert store.meta["school_year"] == "2029"
        # Last year's intake is in first grade now, and another kindergarten arrived.
        assert report.kindergarten > 0
        intake = [r[0] for r in store.conn.execute(
            "SELECT sourcedId FROM users WHERE role = 'student' AND status = 'active'")
            if r[0] not in zoned.before.users]
        grades = {store.get("users", sid)["grades"][0] for sid in intake}
        assert grades == {"KG", "01"}
        assert sum(store.get("users", sid)["grades"] == ["KG"] for sid in intake) == (
            report.kindergarten)
        years = {r[0] for r in store.conn.execute(
            "SELECT DISTINCT schoolYear FROM academicSessions WHERE hidden = 0")}
        assert years == {"2029"}


# --- the route: rolling twice, refusals, failures -----------------------------------------


def test_rolling_over_twice_over_http(scratch: Server) -> None:
    state = before(scratch.path)
    with scratch.admin() as admin:
        first = admin.post("/admin/rollover", json={})
        second = admin.post("/admin/rollover")
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert [r.json()["schoolYear"] for r in (first, second)] == [2028, 2029]
    assert second.json()["oldClock"] == first.json()["newClock"]
    with scratch.api() as api:
        assert {t["schoolYear"] for t in _all(api, f"{V12}/terms", "academicSessions")} == {
            "2029"}
        for sid, (grade, _, _) in state.students.items():
            user = api.get(f"{V12}/students/{sid}").json()["user"]
            if grade in ("11", "12"):
                assert user["status"] == "tobedeleted"
                continue
            assert user["grades"] == [f"{int(grade) + 2:02d}"]
            classes = _all(api, f"{V12}/students/{sid}/classes", "classes")
            assert classes and all(user["grades"][0] in c["grades"] for c in classes)


def test_a_clock_past_the_rollover_is_409_and_changes_nothing(scratch: Server) -> None:
    with scratch.admin() as admin:
        assert admin.post("/admin/tick", json={"days": 300}).status_code == 200
        before_hash, before_meta = content_hash(scratch.path), meta(scratch.path)
        description = _error(admin.post("/admin/rollover"), 409, "invaliddata")
    assert before_meta["clock"] in description and "2027-08-18T07:00:00Z" in description
    assert content_hash(scratch.path) == before_hash and meta(scratch.path) == before_meta
    with pytest.raises(RolloverConflict):
        roll(scratch.path)


@pytest.mark.parametrize("token", [None, ADMIN])
def test_rollover_is_absent_when_admin_is_off(tiny: Rolled, token: str | None) -> None:
    for server in _serve(tiny.server.path, None):
        before_meta = meta(server.path)
        with server.admin(token) as client:
            assert "/admin/rollover" in _error(client.post("/admin/rollover"), 404,
                                               "unknownobject")
        assert meta(server.path) == before_meta


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Bearer {ADMIN}x", f"Basic {ADMIN}",
                                    "Bearer"])
def test_rollover_needs_the_admin_token(tiny: Rolled, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = httpx.post(f"{tiny.server.url}/admin/rollover", headers=headers)
    _error(response, 401, "unauthorisedrequest")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert content_hash(tiny.server.path) == tiny.hash_after


def test_an_oauth_token_or_bad_input_changes_nothing(tiny: Rolled) -> None:
    with tiny.server.api() as api:
        _error(api.post("/admin/rollover"), 401, "unauthorisedrequest")
    with tiny.server.admin() as admin:
        response = admin.get("/admin/rollover")
        _error(response, 405, "invaliddata")
        assert response.headers["Allow"] == "POST"
        assert "'days'" in _error(admin.post("/admin/rollover?days=1"), 400, "invaliddata")
        _error(admin.post("/admin/rollover", json={"year": 2029}), 400, "invaliddata")
        _error(admin.post("/admin/rollover", content=b"year=2029",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}),
               400, "invaliddata")
    assert content_hash(tiny.server.path) == tiny.hash_after


def test_a_failing_rollover_leaves_data_and_meta_unchanged(scratch: Server,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    before_hash, before_meta = content_hash(scratch.path), meta(scratch.path)
    calls = []

    def broken(self, *args: object) -> None:
        calls.append(self.report.counts["enrollments"])
        raise RuntimeError("disk on fire")

    # The last step fails, after every record of the new year was written.
    monkeypatch.setattr(rollover_module._Rollover, "hide_old_year", broken)
    with pytest.raises(RuntimeError):
        roll(scratch.path)
    with scratch.admin() as admin:
        description = _error(admin.post("/admin/rollover"), 500, "internal_server_error")
    assert "rolled back" in description and "disk on fire" in description
    assert len(calls) == 2 and calls[0] > 0
    assert content_hash(scratch.path) == before_hash
    assert meta(scratch.path) == before_meta
    with scratch.admin() as admin:
        assert admin.get("/admin/clock").json() == {"clock": before_meta["clock"]}
    monkeypatch.undo()
    assert roll(scratch.path).new_school_year == 2028
