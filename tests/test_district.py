"""The generated district: determinism, integrity, dates, roles, identities."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_provider.district.sizes import SIZES, plan_district
from mock_provider.query.fields import SCHEMAS
from mock_provider.store import Store
from mock_provider.tables import NOT_IN_V11, RECORD_TABLES

from .conftest import make_district

TYPE_TABLE = {
    "org": "orgs", "user": "users", "class": "classes", "course": "courses",
    "academicSession": "academicSessions", "category": "categories", "lineItem": "lineItems",
    "scoreScale": "scoreScales", "resource": "resources",
}
SERVICE = {"categories": "gradebook", "lineItems": "gradebook", "scoreScales": "gradebook",
           "resources": "resources"}
BASE = "http://127.0.0.1:8000"


def refs(value: object) -> Iterator[dict]:
    """Every GUIDRef inside a record, however deeply nested."""
    if isinstance(value, dict):
        if set(value) == {"href", "sourcedId", "type"}:
            yield value
            return
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def _hash(path: Path) -> str:
    with Store(path) as store:
        return store.content_hash()


def all_records(store: Store, version: str = "1.2") -> dict[str, dict[str, dict]]:
    return {table: {r["sourcedId"]: r for r in store.iter_records(table, version, BASE,
                                                                  include_hidden=True)}
            for table in RECORD_TABLES if not (version == "1.1" and table in NOT_IN_V11)}


@pytest.fixture(scope="module")
def zoned(zoned_store: Store) -> dict[str, dict[str, dict]]:
    return all_records(zoned_store)


def test_same_seed_and_size_give_the_same_district_byte_for_byte(tmp_path: Path) -> None:
    first = _hash(make_district(tmp_path / "a", 7, 60))
    second = _hash(make_district(tmp_path / "b", 7, 60))
    other_seed = _hash(make_district(tmp_path / "c", 8, 60))
    assert first == second
    assert first != other_seed


@pytest.mark.slow
def test_parallel_and_serial_builds_are_identical(tmp_path: Path) -> None:
    serial = make_district(tmp_path / "serial", 5, 7_500, workers=1)
    parallel = make_district(tmp_path / "parallel", 5, 7_500, workers=2)
    assert len(plan_district(7_500).zones) == 2
    assert _hash(serial) == _hash(parallel)
    # Identities stay unique across zones, which are generated independently.
    with Store(serial) as store:
        for column in ("username", "email", "identifier"):
            duplicates = store.conn.execute(f"SELECT {column} FROM users GROUP BY {column} "
                                            "HAVING count(*) > 1").fetchall()
            assert duplicates == [], column


def test_quirks_do_not_reshuffle_the_conformant_records(tmp_path: Path) -> None:
    with Store(make_district(tmp_path, 9, 60)) as plain, \
            Store(make_district(tmp_path, 9, 60, frozenset({"long-codes"}))) as quirky:
        touched = set(quirky.quirk_manifest()["long-codes"]["sourcedIds"])
        plain_classes = {r["sourcedId"]: r for r in plain.iter_records("classes")}
        for record in quirky.iter_records("classes"):
            if record["sourcedId"] not in touched:
                assert record == plain_classes[record["sourcedId"]]
        assert plain.count("users") == quirky.count("users")


@pytest.mark.parametrize("size", ["tiny", "small", "medium", "large", "xl"])
def test_size_plans_have_the_advertised_students_and_schools(size: str) -> None:
    plan = plan_district(SIZES[size])
    assert sum(s.students for s in plan.schools) == SIZES[size]
    schools = len(plan.schools)
    expected = {"tiny": (1, 1), "small": (1, 1), "medium": (15, 25), "large": (150, 220),
                "xl": (1500, 2200)}[size]
    assert expected[0] <= schools <= expected[1]


def test_the_tiny_district_has_one_school_and_sixty_students(tiny_store: Store) -> None:
    orgs = list(tiny_store.iter_records("orgs"))
    assert [o["type"] for o in orgs] == ["district", "school"]
    students = [u for u in tiny_store.iter_records("users") if u["roles"][0]["role"] == "student"]
    assert len(students) == 60
    assert tiny_store.count("demographics") == 60


def test_every_reference_resolves_to_a_record_of_its_type(zoned: dict) -> None:
    checked = 0
    for table, records in zoned.items():
        for record in records.values():
            for ref in refs(record):
                target = TYPE_TABLE[ref["type"]]
                assert ref["sourcedId"] in zoned[target], (table, record["sourcedId"], ref)
                service = SERVICE.get(target, "rostering")
                assert ref["href"] == (f"{BASE}/ims/oneroster/{service}/v1p2/{target}/"
                                       f"{ref['sourcedId']}")
                checked += 1
    assert checked > 10_000


def test_1_1_references_resolve_and_use_the_1_1_base(zoned_store: Store) -> None:
    records = all_records(zoned_store, "1.1")
    for table_records in records.values():
        for record in table_records.values():
            for ref in refs(record):
                assert ref["sourcedId"] in records[TYPE_TABLE[ref["type"]]]
                assert ref["href"].startswith(f"{BASE}/ims/oneroster/v1p1/")


def test_sourced_ids_are_unique_across_the_whole_district(zoned: dict) -> None:
    ids = [sid for records in zoned.values() for sid in records
           if records is not zoned["demographics"]]
    assert len(ids) == len(set(ids))
    assert set(zoned["demographics"]) <= set(zoned["users"])


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text[:10])


def test_academic_sessions_nest_and_mirror_their_parents(zoned: dict) -> None:
    sessions = zoned["academicSessions"]
    for session in sessions.values():
        assert _date(session["startDate"]) < _date(session["endDate"])
        parent_ref = session.get("parent")
        if session["type"] == "schoolYear":
            # schoolYear names the calendar year in which the school year ends.
            assert session["schoolYear"] == session["endDate"][:4]
            assert parent_ref is None
            continue
        parent = sessions[parent_ref["sourcedId"]]
        assert parent["startDate"] <= session["startDate"]
        assert session["endDate"] <= parent["endDate"]
        assert session["sourcedId"] in {c["sourcedId"] for c in parent["children"]}
        assert {"term": "schoolYear", "gradingPeriod": "term"}[session["type"]] == parent["type"]
        assert session["schoolYear"] == parent["schoolYear"]


def test_classes_terms_belong_to_their_course_school_year(zoned: dict) -> None:
    sessions, courses = zoned["academicSessions"], zoned["courses"]
    for klass in zoned["classes"].values():
        year = courses[klass["course"]["sourcedId"]]["schoolYear"]["sourcedId"]
        assert klass["terms"]
        for term in klass["terms"]:
            assert sessions[term["sourcedId"]]["parent"]["sourcedId"] == year
        assert isinstance(klass["periods"], list)


def test_enrollment_dates_fall_inside_the_class_terms(zoned: dict) -> None:
    sessions, classes = zoned["academicSessions"], zoned["classes"]
    for enrollment in zoned["enrollments"].values():
        klass = classes[enrollment["class"]["sourcedId"]]
        terms = [sessions[t["sourcedId"]] for t in klass["terms"]]
        start = min(t["startDate"] for t in terms)
        end = max(t["endDate"] for t in terms)
        assert start <= enrollment["beginDate"] < enrollment["endDate"] <= end


def test_line_items_are_dated_inside_the_class_terms_and_results_follow(zoned: dict,
                                                                        zoned_store: Store) -> None:
    sessions, classes = zoned["academicSessions"], zoned["classes"]
    clock = zoned_store.meta["clock"]
    for item in zoned["lineItems"].values():
        terms = [sessions[t["sourcedId"]] for t in classes[item["class"]["sourcedId"]]["terms"]]
        assert item["assignDate"] <= item["dueDate"]
        assert any(t["startDate"] <= item["dueDate"][:10] < t["endDate"] for t in terms)
        period = sessions[item["gradingPeriod"]["sourcedId"]]
        assert period["startDate"] <= item["dueDate"][:10] < period["endDate"]
    enrolled = {(e["class"]["sourcedId"], e["user"]["sourcedId"])
                for e in zoned["enrollments"].values() if e["role"] == "student"}
    for result in zoned["results"].values():
        item = zoned["lineItems"][result["lineItem"]["sourcedId"]]
        assert (item["class"]["sourcedId"], result["student"]["sourcedId"]) in enrolled
        assert item["dueDate"][:10] <= result["scoreDate"] <= clock[:10]
        assert result["scoreStatus"] in ("exempt", "fully graded", "not submitted",
                                         "partially graded", "submitted")
    assert zoned["results"]


def test_every_person_has_exactly_one_primary_role_for_each_org(zoned: dict) -> None:
    """RoleDType: "one, and only one, primary role for each org"; the first is the primary
    org's."""
    several = 0
    for user in zoned["users"].values():
        primaries = Counter(r["org"]["sourcedId"] for r in user["roles"]
                            if r["roleType"] == "primary")
        orgs = {r["org"]["sourcedId"] for r in user["roles"]}
        assert primaries == Counter(orgs), user["sourcedId"]
        assert user["roles"][0]["roleType"] == "primary"
        assert user["primaryOrg"] == user["roles"][0]["org"]
        several += len(orgs) > 1
    assert several  # teachers shared between schools: a primary role at each


def test_the_district_has_every_kind_of_person(zoned: dict) -> None:
    roles = Counter(u["roles"][0]["role"] for u in zoned["users"].values())
    for role in ("student", "teacher", "aide", "principal", "counselor", "parent", "guardian",
                 "relative", "districtAdministrator", "systemAdministrator"):
        assert roles[role] > 0, role
    two_buildings = [u for u in zoned["users"].values()
                     if u["roles"][0]["role"] == "teacher" and len(u["roles"]) > 1]
    assert two_buildings
    co_taught = Counter(e["class"]["sourcedId"] for e in zoned["enrollments"].values()
                        if e["role"] == "teacher")
    assert any(n > 1 for n in co_taught.values())


def test_guardians_and_students_point_at_each_other(zoned: dict) -> None:
    users = zoned["users"]
    for user in users.values():
        role = user["roles"][0]["role"]
        for agent in user.get("agents", []):
            other = users[agent["sourcedId"]]
            assert user["sourcedId"] in {a["sourcedId"] for a in other["agents"]}
            assert other["roles"][0]["role"] != "teacher"
            if role == "student":
                assert other["roles"][0]["role"] in ("parent", "guardian", "relative")
    students = [u for u in users.values() if u["roles"][0]["role"] == "student"]
    assert all(u.get("agents") for u in students)
    shared = Counter(a["sourcedId"] for u in students for a in u["agents"])
    assert any(n > 1 for n in shared.values()), "siblings share guardians"


def test_usernames_and_emails_are_unique_and_clean_without_quirks(zoned: dict) -> None:
    users = list(zoned["users"].values())
    names = [u["username"] for u in users]
    emails = [u["email"] for u in users]
    assert len(names) == len(set(names))
    assert len(emails) == len(set(emails))
    assert not any(" " in n for n in names)
    assert all("@" in e and " " not in e for e in emails)
    students = [u for u in users if u["roles"][0]["role"] == "student"]
    assert all({i["type"] for i in u["userIds"]} == {"studentNumber", "stateId"} for u in students)
    assert any("preferredFirstName" in u for u in students)


def test_students_are_enrolled_by_grade_level(zoned: dict) -> None:
    per_student = Counter(e["user"]["sourcedId"] for e in zoned["enrollments"].values()
                          if e["role"] == "student")
    for user in zoned["users"].values():
        if user["roles"][0]["role"] != "student":
            continue
        grade = user["grades"][0]
        count = per_student[user["sourcedId"]]
        if grade in ("KG", "01", "02", "03", "04", "05"):
            assert count == 1
        else:
            assert 6 <= count <= 9, (grade, count)


def test_demographics_birth_dates_fit_the_grade(zoned: dict) -> None:
    users = zoned["users"]
    for demo in zoned["demographics"].values():
        grade = users[demo["sourcedId"]]["grades"][0]
        level = 0 if grade == "KG" else int(grade)
        born = dt.date.fromisoformat(demo["birthDate"])
        age_on_september_1 = 2026 - born.year - ((born.month, born.day) > (9, 1))
        assert age_on_september_1 == 5 + level
        for flag in ("asian", "white", "hispanicOrLatinoEthnicity"):
            assert demo[flag] in ("true", "false")


def test_previous_year_is_stored_but_hidden(zoned_store: Store, zoned: dict) -> None:
    visible = {s["sourcedId"] for s in zoned_store.iter_records("academicSessions")}
    hidden = [s for s in zoned["academicSessions"].values() if s["sourcedId"] not in visible]
    assert hidden and all(s["schoolYear"] == "2026" for s in hidden)
    assert all(s["schoolYear"] == "2027"
               for s in zoned_store.iter_records("academicSessions"))


def test_1_1_users_carry_one_role_and_their_orgs(zoned_store: Store) -> None:
    v11_roles = {"administrator", "aide", "guardian", "parent", "proctor", "relative",
                 "student", "teacher"}
    for user in zoned_store.iter_records("users", "1.1", BASE):
        assert user["role"] in v11_roles
        assert user["orgs"]
        assert "roles" not in user and "primaryOrg" not in user


def test_nothing_is_modified_after_the_district_clock(zoned_store: Store, zoned: dict) -> None:
    clock = zoned_store.meta["clock"]
    for table, records in zoned.items():
        for record in records.values():
            assert record["dateLastModified"] < clock, (table, record["sourcedId"])
            assert record["dateLastModified"].endswith("Z")


# table -> record schema name, per version (the catalogue the query layer uses too).
V12_SCHEMA = {table: names[0] for table, names in SCHEMAS.items()}
V11_SCHEMA = {table: names[1] for table, names in SCHEMAS.items() if names[1]}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_every_record_is_valid_against_the_official_schemas(tiny_store: Store, zoned_store: Store,
                                                            version: str) -> None:
    from specs import validator

    names = V12_SCHEMA if version == "1.2" else V11_SCHEMA
    for table, name in names.items():
        check = validator(version, name)
        # All of the tiny district, and every 7th record of the zoned one (all record shapes
        # occur there many times over; validating every one would only slow the suite).
        records = list(tiny_store.iter_records(table, version, BASE, include_hidden=True))
        records += list(zoned_store.iter_records(table, version, BASE, include_hidden=True))[::7]
        for record in records:
            errors = [e.message for e in check.iter_errors(record)]
            assert not errors, (table, record["sourcedId"], errors[:3])
