"""The CSV binding export: headers, manifest, counts, round trips, delta and determinism."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mock_provider.csv_export import CsvExport, export_csv, normalise_since, read_csv_export
from mock_provider.district import DistrictSpec, build_district
from mock_provider.store import Store

# Written out from spec-notes §9 rather than imported, so a slip in the module's own lists
# cannot make the header tests pass.
COMMON = "sourcedId,status,dateLastModified,"
SPEC_HEADERS = {
    "1.1": {
        "academicSessions": "title,type,startDate,endDate,parentSourcedId,schoolYear",
        "orgs": "name,type,identifier,parentSourcedId",
        "courses": "schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,"
                   "subjectCodes",
        "classes": "title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,"
                   "termSourcedIds,subjects,subjectCodes,periods",
        "users": "enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,"
                 "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
        "enrollments": "classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,"
                       "endDate",
        "demographics": "birthDate,sex,americanIndianOrAlaskaNative,asian,"
                        "blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,"
                        "demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,"
                        "countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,"
                        "publicSchoolResidenceStatus",
        "categories": "title",
        "lineItems": "title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
                     "gradingPeriodSourcedId,resultValueMin,resultValueMax",
        "results": "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment",
        "resources": "vendorResourceId,title,roles,importance,vendorId,applicationId",
        "classResources": "title,classSourcedId,resourceSourcedId",
        "courseResources": "title,courseSourcedId,resourceSourcedId",
    },
}
SPEC_HEADERS["1.2"] = {
    **{k: v for k, v in SPEC_HEADERS["1.1"].items()
       if k not in {"users", "categories", "lineItems", "results", "resources"}},
    "users": "enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,"
             "sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,"
             "preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,"
             "pronouns",
    "roles": "userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
    "categories": "title,weight",
    "lineItems": "title,description,assignDate,dueDate,classSourcedId,categorySourcedId,"
                 "academicSessionSourcedId,resultValueMin,resultValueMax,schoolSourcedId",
    "results": "lineItemSourcedId,studentSourcedId,scoreStatus,score,scoreDate,comment,"
               "textScore,classSourcedId,inProgress,incomplete,late,missing",
    "scoreScales": "title,type,orgSourcedId,courseSourcedId,classSourcedId,scoreScaleValue",
    "resources": "vendorResourceId,title,roles,vendorId,applicationId",
    "userResources": "userSourcedId,orgSourcedId,classSourcedId,resourceSourcedId",
}
# Files cut out of other tables' records, one row per element: not one row per store record.
CUT_OUT = {"roles", "classResources", "courseResources", "userResources"}

MANIFEST_12 = [
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
    "demographics", "enrollments", "lineItemLearningObjectiveIds", "lineItems",
    "lineItemScoreScales", "orgs", "resources", "resultLearningObjectiveIds", "results",
    "resultScoreScales", "roles", "scoreScales", "userProfiles", "userResources", "users",
]
MANIFEST_11 = [
    "academicSessions", "categories", "classes", "classResources", "courses", "courseResources",
    "demographics", "enrollments", "lineItems", "orgs", "resources", "results", "users",
]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("d") / "tiny.sqlite"
    build_district(DistrictSpec(seed=7, students=60, size="tiny"), path)
    with Store(path) as opened:
        yield opened


@pytest.fixture(scope="module")
def exports(store: Store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, CsvExport]:
    root = tmp_path_factory.mktemp("csv")
    return {
        "1.2": export_csv(store, root / "v12"),
        "1.2zip": export_csv(store, root / "v12.zip"),
        "1.1": export_csv(store, root / "v11", version="1.1"),
        "1.1zip": export_csv(store, root / "v11.zip", version="1.1"),
    }


@pytest.fixture(scope="module")
def data(exports: dict[str, CsvExport]) -> dict[str, dict[str, list[dict[str, str]]]]:
    return {key: read_csv_export(export.path) for key, export in exports.items()}


def manifest(rows: list[dict[str, str]]) -> dict[str, str]:
    return {row["propertyName"]: row["value"] for row in rows}


def by_id(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["sourcedId"]: row for row in rows}


def file_bytes(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())}
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def dates(store: Store, table: str) -> list[str]:
    return [r["dateLastModified"] for r in store.iter_records(table)]


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_headers_match_the_binding_column_lists(exports, version):
    folder = exports[version].path
    written = sorted(p.stem for p in folder.glob("*.csv") if p.stem != "manifest")
    assert written == sorted(SPEC_HEADERS[version])
    for name, columns in SPEC_HEADERS[version].items():
        first_line = (folder / f"{name}.csv").read_bytes().split(b"\r\n", 1)[0]
        assert first_line.decode() == COMMON + columns, name
    first_line = (folder / "manifest.csv").read_bytes().split(b"\r\n", 1)[0]
    assert first_line == b"propertyName,value"


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_manifest_lists_every_known_file(data, version):
    rows = data[version]["manifest"]
    known = MANIFEST_12 if version == "1.2" else MANIFEST_11
    assert [r["propertyName"] for r in rows] == (
        ["manifest.version", "oneroster.version"] + [f"file.{n}" for n in known]
        + ["source.systemName"])
    values = manifest(rows)
    assert values["manifest.version"] == "1.0"
    assert values["oneroster.version"] == version
    assert values["source.systemName"] == "oneroster-harness"
    for name in known:
        expected = "bulk" if name in SPEC_HEADERS[version] else "absent"
        assert values[f"file.{name}"] == expected, name


def test_row_counts_equal_the_store(store, exports, data):
    rows = data["1.2"]
    for name in SPEC_HEADERS["1.2"]:
        if name in CUT_OUT:
            continue
        assert len(rows[name]) == store.count(name), name
        assert exports["1.2"].files[name] == store.count(name), name
    roles = sum(len(u["roles"]) for u in store.iter_records("users"))
    assert len(rows["roles"]) == exports["1.2"].files["roles"] == roles
    for name in set(SPEC_HEADERS["1.1"]) - CUT_OUT:
        assert len(data["1.1"][name]) == store.count(name), name
    assert exports["1.2"].mode == "bulk"


def test_users_round_trip(store, data):
    users = by_id(data["1.2"]["users"])
    records = list(store.iter_records("users"))
    assert set(users) == {u["sourcedId"] for u in records}
    for user in records:
        row = users[user["sourcedId"]]
        for key in ("status", "dateLastModified", "username", "givenName", "familyName",
                    "email", "enabledUser", "identifier"):
            assert row[key] == user.get(key, ""), key
        assert row["preferredGivenName"] == user.get("preferredFirstName", "")
        assert row["primaryOrgSourcedId"] == user.get("primaryOrg", {}).get("sourcedId", "")
        assert row["agentSourcedIds"] == ",".join(a["sourcedId"] for a in user.get("agents", []))
        assert row["grades"] == ",".join(user.get("grades", []))
        assert row["userIds"] == ",".join(
            f"{{{i['type']}:{i['identifier']}}}" for i in user["userIds"])


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_resources_and_every_link_to_them_are_exported(store, data, version):
    """The district's catalogue and who it is attached to, as REST serves them."""
    rows = data[version]
    resources = {r["sourcedId"]: r for r in store.iter_records("resources")}
    assert by_id(rows["resources"]).keys() == resources.keys()
    for row in rows["resources"]:
        resource = resources[row["sourcedId"]]
        assert (row["title"], row["vendorResourceId"], row["roles"]) == (
            resource["title"], resource["vendorResourceId"], ",".join(resource["roles"]))
        assert row.get("importance", resource["importance"]) == resource["importance"]
    owners = {"classResources": ("classes", "classSourcedId"),
              "courseResources": ("courses", "courseSourcedId")}
    if version == "1.2":
        owners["userResources"] = ("users", "userSourcedId")
    else:
        assert "userResources" not in rows
    for name, (table, column) in owners.items():
        expected = {(o["sourcedId"], r["sourcedId"]) for o in store.iter_records(table, version)
                    for r in o.get("resources", [])}
        assert expected, name  # the district attaches resources to each kind
        assert {(row[column], row["resourceSourcedId"]) for row in rows[name]} == expected
        assert all(row["title"] == resources[row["resourceSourcedId"]]["title"]
                   for row in rows.get(name, []) if "title" in row)
        assert len(by_id(rows[name])) == len(rows[name])  # link ids are unique


def test_roles_round_trip(store, data):
    roles = data["1.2"]["roles"]
    expected = [
        (f"{u['sourcedId']}-{i}", u["sourcedId"], r["roleType"], r["role"], r["org"]["sourcedId"],
         u["status"], u["dateLastModified"])
        for u in store.iter_records("users") for i, r in enumerate(u["roles"])
    ]
    got = [(r["sourcedId"], r["userSourcedId"], r["roleType"], r["role"], r["orgSourcedId"],
            r["status"], r["dateLastModified"]) for r in roles]
    assert got == expected
    assert len({r["sourcedId"] for r in roles}) == len(roles)


def test_classes_and_enrollments_round_trip(store, data):
    classes = by_id(data["1.2"]["classes"])
    for cls in store.iter_records("classes"):
        row = classes[cls["sourcedId"]]
        assert set(row["termSourcedIds"].split(",")) == {t["sourcedId"] for t in cls["terms"]}
        assert row["courseSourcedId"] == cls["course"]["sourcedId"]
        assert row["schoolSourcedId"] == cls["school"]["sourcedId"]
        assert row["periods"] == ",".join(cls.get("periods", []))
    enrollments = by_id(data["1.2"]["enrollments"])
    for enr in store.iter_records("enrollments"):
        row = enrollments[enr["sourcedId"]]
        assert (row["classSourcedId"], row["userSourcedId"], row["schoolSourcedId"]) == (
            enr["class"]["sourcedId"], enr["user"]["sourcedId"], enr["school"]["sourcedId"])
        assert (row["role"], row["primary"], row["beginDate"], row["endDate"]) == (
            enr["role"], enr.get("primary", ""), enr.get("beginDate", ""),
            enr.get("endDate", ""))


def test_gradebook_round_trip(store, data):
    line_items = by_id(data["1.2"]["lineItems"])
    for item in store.iter_records("lineItems"):
        row = line_items[item["sourcedId"]]
        session = item.get("academicSession") or item["gradingPeriod"]
        assert row["academicSessionSourcedId"] == session["sourcedId"]
        assert row["schoolSourcedId"] == item["school"]["sourcedId"]
        assert row["categorySourcedId"] == item["category"]["sourcedId"]
        assert float(row["resultValueMax"]) == item["resultValueMax"]
    results = by_id(data["1.2"]["results"])
    for result in store.iter_records("results"):
        row = results[result["sourcedId"]]
        assert row["lineItemSourcedId"] == result["lineItem"]["sourcedId"]
        assert row["studentSourcedId"] == result["student"]["sourcedId"]
        assert row["scoreStatus"] == result["scoreStatus"]
        assert row["score"] == ("" if "score" not in result else str(result["score"]))
    scales = by_id(data["1.2"]["scoreScales"])
    for scale in store.iter_records("scoreScales"):
        row = scales[scale["sourcedId"]]
        assert row["classSourcedId"] == scale["class"]["sourcedId"]
        assert row["scoreScaleValue"] == ",".join(
            f"{{{v['itemValueLHS']}:{v['itemValueRHS']}}}" for v in scale["scoreScaleValue"])
    categories = by_id(data["1.2"]["categories"])
    for category in store.iter_records("categories"):
        assert categories[category["sourcedId"]]["weight"] == str(category.get("weight", ""))


def test_v11_users_and_line_items(store, data):
    users = by_id(data["1.1"]["users"])
    for user in store.iter_records("users", version="1.1"):
        row = users[user["sourcedId"]]
        assert row["role"] == user["role"]
        assert row["orgSourcedIds"].split(",") == [o["sourcedId"] for o in user["orgs"]]
    items = by_id(data["1.1"]["lineItems"])
    for item in store.iter_records("lineItems", version="1.1"):
        assert items[item["sourcedId"]]["gradingPeriodSourcedId"] == (
            item["gradingPeriod"]["sourcedId"])


@pytest.mark.parametrize("version", ["1.1", "1.2"])
def test_zip_and_directory_hold_the_same_bytes(exports, version):
    directory, archive = exports[version].path, exports[f"{version}zip"].path
    assert file_bytes(directory) == file_bytes(archive)
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_output_is_deterministic(store, exports, tmp_path):
    again = export_csv(store, tmp_path / "again.zip")
    assert again.path.read_bytes() == exports["1.2zip"].path.read_bytes()
    again_dir = export_csv(store, tmp_path / "again")
    assert file_bytes(again_dir.path) == file_bytes(exports["1.2"].path)
    assert again_dir.files == exports["1.2"].files


def test_rows_end_with_crlf(exports):
    raw = (exports["1.2"].path / "orgs.csv").read_bytes()
    assert raw.endswith(b"\r\n")
    assert raw.count(b"\n") == raw.count(b"\r\n")


def test_delta_exports_only_newer_records(store, tmp_path):
    stamps = sorted(dates(store, "users") + dates(store, "enrollments"))
    since = stamps[len(stamps) // 2]
    export = export_csv(store, tmp_path / "delta.zip", delta_since=since)
    assert export.mode == "delta"
    rows = read_csv_export(export.path)
    values = manifest(rows.pop("manifest"))
    owner = {"roles": ("users", "userSourcedId"), "userResources": ("users", "userSourcedId"),
             "classResources": ("classes", "classSourcedId"),
             "courseResources": ("courses", "courseSourcedId")}
    for name in SPEC_HEADERS["1.2"]:
        table, column = owner.get(name, (name, "sourcedId"))
        newer = {r["sourcedId"] for r in store.iter_records(table) if r["dateLastModified"] > since
                 and (name not in CUT_OUT or r.get("roles" if name == "roles" else "resources"))}
        got = {r[column] for r in rows.get(name, [])}
        assert got == newer, name
        assert values[f"file.{name}"] == ("delta" if newer else "absent"), name
        assert (name in rows) == bool(newer), name
        for row in rows.get(name, []):
            assert row["status"] and row["dateLastModified"] > since
    assert 0 < len(rows["users"]) < store.count("users")


def test_delta_accepts_a_bare_date(store, tmp_path):
    stamps = sorted(dates(store, "enrollments"))
    day = stamps[len(stamps) // 2][:10]
    rows = read_csv_export(export_csv(store, tmp_path / "d", delta_since=day).path)
    newer = {r["sourcedId"] for r in store.iter_records("enrollments")
             if r["dateLastModified"] > f"{day}T00:00:00Z"}
    assert {r["sourcedId"] for r in rows["enrollments"]} == newer


def test_delta_after_everything_is_manifest_only(store, tmp_path):
    export = export_csv(store, tmp_path / "empty.zip", delta_since="2999-01-01")
    assert export.files == {}
    with zipfile.ZipFile(export.path) as zf:
        assert zf.namelist() == ["manifest.csv"]
    values = manifest(read_csv_export(export.path)["manifest"])
    assert {v for k, v in values.items() if k.startswith("file.")} == {"absent"}


def test_reused_directory_drops_files_now_absent(store, tmp_path):
    folder = tmp_path / "reuse"
    export_csv(store, folder)
    export_csv(store, folder, delta_since="2999-01-01T00:00:00Z")
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.csv"]


def test_normalise_since():
    assert normalise_since("2026-09-12") == "2026-09-12T00:00:00Z"
    assert normalise_since("2026-09-12T08:00:00Z") == "2026-09-12T08:00:00Z"
    assert normalise_since("2026-09-12T10:00:00.250+02:00") == "2026-09-12T08:00:00Z"
    assert normalise_since("2026-09-12T08:00:00") == "2026-09-12T08:00:00Z"
    with pytest.raises(ValueError):
        normalise_since("last tuesday")


def test_rejects_unknown_version(store, tmp_path):
    with pytest.raises(ValueError):
        export_csv(store, tmp_path / "x", version="1.0")


def test_quirky_values_survive_the_round_trip(tmp_path):
    # Commas, quotes and backslashes in titles, missing usernames and users with no roles are
    # where hand-rolled CSV goes wrong.
    path = tmp_path / "quirks.sqlite"
    quirks = frozenset({"odd-characters", "missing-username", "tobedeleted-no-roles"})
    build_district(DistrictSpec(seed=7, students=60, size="tiny", quirks=quirks), path)
    with Store(path) as quirky:
        rows = read_csv_export(export_csv(quirky, tmp_path / "q.zip").path)
        hits = quirky.quirk_manifest()
        classes = by_id(rows["classes"])
        for cls in quirky.iter_records("classes"):
            assert classes[cls["sourcedId"]]["title"] == cls["title"]
            assert classes[cls["sourcedId"]]["classCode"] == cls["classCode"]
        users = by_id(rows["users"])
        for sourced_id in hits["missing-username"]["sourcedIds"]:
            assert users[sourced_id]["username"] == ""
        with_roles = {r["userSourcedId"] for r in rows["roles"]}
        for sourced_id in hits["tobedeleted-no-roles"]["sourcedIds"]:
            assert users[sourced_id]["status"] == "tobedeleted"
            assert sourced_id not in with_roles


class _OneOrgStore:
    """Just enough of Store for export_csv, to feed it values the generator never makes."""

    def __init__(self, org: dict) -> None:
        self.org = org

    def iter_records(self, table: str, version: str = "1.2", base_url: str = "",
                     include_hidden: bool = False, since: str | None = None):
        if table == "orgs":
            yield self.org


def test_delimiters_quotes_and_newlines_are_quoted(tmp_path):
    name = 'St. Mary\'s "Upper", Köln\r\nAnnex'
    org = {"sourcedId": "o1", "status": "active", "dateLastModified": "2026-01-01T00:00:00Z",
           "name": name, "type": "school", "identifier": "0210"}
    export = export_csv(_OneOrgStore(org), tmp_path / "o")  # type: ignore[arg-type]
    assert export.files == {"orgs": 1}
    [row] = read_csv_export(export.path)["orgs"]
    assert row["name"] == name
    assert row["identifier"] == "0210"
    assert row["parentSourcedId"] == ""
