"""Our OneRoster 1.1 OpenAPI document (``specs/oneroster-1.1.json``, built by
``specs.derive_v11``): its operations, envelopes, parameters, errors and security, the
catalogue read from it, and that the mock serves what it says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import specs
from mock_provider.routes.operations import GRADEBOOK_V11, RESOURCES_V11, ROSTERING
from mock_provider.scopes import required_scopes_v11
from specs import catalogue, derive_v11

from .test_specs import prose, reference_dir

V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
COLLECTION_PARAMETERS = ["limit", "offset", "sort", "orderBy", "filter", "fields"]


@pytest.fixture(scope="module")
def doc() -> dict:
    return specs.openapi_v11()


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, op) for path, item in doc["paths"].items()
            for method, op in item.items()]


def test_every_read_operation_of_the_table_is_in_the_document(doc: dict) -> None:
    ops = _operations(doc)
    assert len(ops) == 55 and {method for _, method, _ in ops} == {"get"}
    assert len({op["operationId"] for _, _, op in ops}) == 55
    services = [op["tags"][0] for _, _, op in ops]
    assert (services.count("rostering"), services.count("resources"),
            services.count("gradebook")) == (41, 4, 10)
    assert doc["servers"][0]["variables"]["basePath"]["default"] == "/ims/oneroster/v1p1"
    assert doc["openapi"] == "3.0.0" and doc["info"]["version"] == "1.1"


def test_the_1_1_rostering_operations_are_the_1_2_ones() -> None:
    v12 = {(o.path, o.operation_id, o.envelope, o.single)
           for o in catalogue.operations("rostering")}
    v11 = {(o.path, o.operation_id, o.envelope, o.single)
           for o in catalogue.operations("rostering", version="1.1")}
    assert v11 == v12


@pytest.mark.parametrize(("path", "envelope", "single", "schema"), [
    ("/schools", "orgs", False, "OrgSet"),
    ("/schools/{sourcedId}", "org", True, "SingleOrg"),
    ("/terms", "academicSessions", False, "AcademicSessionSet"),
    ("/terms/{termSourcedId}/gradingPeriods", "academicSessions", False, "AcademicSessionSet"),
    ("/students/{studentSourcedId}/classes", "classes", False, "ClassSet"),
    ("/demographics", "demographics", False, "DemographicsSet"),
    ("/demographics/{sourcedId}", "demographics", True, "SingleDemographics"),
    ("/classes/{classSourcedId}/lineItems/{lineItemSourcedId}/results", "results", False,
     "ResultSet"),
    ("/courses/{courseSourcedId}/resources", "resources", False, "ResourceSet"),
])
def test_envelopes_come_from_the_document(path: str, envelope: str, single: bool,
                                          schema: str) -> None:
    [op] = [o for o in catalogue.operations(version="1.1") if o.path == path]
    assert (op.envelope, op.single, op.schema, op.version) == (envelope, single, schema, "1.1")


def test_answer_schemas_hold_the_1_1_records() -> None:
    user = {"sourcedId": "u1", "status": "active", "dateLastModified": "2026-01-05T08:00:00Z",
            "username": "ada", "enabledUser": "true", "givenName": "Ada",
            "familyName": "Lovelace", "role": "student",
            "orgs": [{"href": "https://sis.example.org/orgs/o1", "sourcedId": "o1",
                      "type": "org"}]}
    warning = {"imsx_codeMajor": "success", "imsx_severity": "warning",
               "imsx_codeMinor": "invalid_selection_field"}

    def errors(name: str, body: object) -> list[str]:
        return [e.message for e in specs.validator("1.1", name).iter_errors(body)]

    assert errors("UserSet", {"users": [user], "statusInfoSet": [warning]}) == []
    assert errors("SingleUser", {"user": user}) == []
    assert errors("UserSet", {"students": [user]}) == ["'users' is a required property"]
    assert errors("SingleUser", {"users": [user]}) == ["'user' is a required property"]
    assert errors("SingleUser", {"user": [user]})  # a list where one record belongs
    no_username = {k: v for k, v in user.items() if k != "username"}
    assert errors("UserSet", {"users": [no_username]}) == ["'username' is a required property"]
    demographics = {"sourcedId": "u1", "status": "active",
                    "dateLastModified": "2026-01-05T08:00:00Z", "sex": "female"}
    assert errors("SingleDemographics", {"demographics": demographics}) == []
    assert errors("SingleDemographics", {"demographics": [demographics]})
    assert errors("SingleDemographics", {"demographic": demographics}) == [
        "'demographics' is a required property"]


def test_object_schemas_are_our_1_1_schema(doc: dict) -> None:
    defs = json.loads((Path(specs.__file__).parent / "oneroster-1.1.schema.json").read_text(
        encoding="utf-8"))["$defs"]
    for name, schema in doc["components"]["schemas"].items():
        if name in defs:
            assert schema == derive_v11.openapi_schema(defs[name]), name
    assert "#/$defs/" not in json.dumps(doc)


def test_parameters(doc: dict) -> None:
    for path, _, op in _operations(doc):
        params = op["parameters"]
        in_path = [p["name"] for p in params if p["in"] == "path"]
        assert [f"{{{name}}}" for name in in_path] == [
            s for s in path.split("/") if s.startswith("{")]
        query = [p["name"] for p in params if p["in"] == "query"]
        single = path.endswith("{sourcedId}")
        assert query == (["fields"] if single else COLLECTION_PARAMETERS), path
        fields = next(p for p in params if p["name"] == "fields")
        assert fields["style"] == "form" and fields["explode"] is False


def test_errors_are_status_info_sets(doc: dict) -> None:
    for path, _, op in _operations(doc):
        codes = set(op["responses"])
        assert {"default", "200", "400", "401", "403", "429", "500"} <= codes, path
        assert ("404" in codes) == (path.count("/") > 1), path  # an id or a parent to miss
        for code, answer in op["responses"].items():
            ref = answer["content"]["application/json"]["schema"]["$ref"]
            assert (ref == "#/components/schemas/statusInfoSet") == (code != "200"), path
        assert ("headers" in op["responses"]["200"]) != path.endswith("{sourcedId}")


def test_security_is_oauth2_with_1_1_scopes_or_oauth1(doc: dict) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["OAuth1"] == {"type": "http", "scheme": "OAuth",
                                 "x-harness-signature-methods": ["HMAC-SHA256", "HMAC-SHA1"]}
    flow = schemes["OAuth2CC"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth2/token"
    assert all(scope.startswith(V11) for scope in flow["scopes"])
    for _, _, op in _operations(doc):
        [oauth2, oauth1] = op["security"]
        assert oauth1 == {"OAuth1": []}
        assert set(oauth2["OAuth2CC"]) <= set(flow["scopes"])
    by_id = {o.operation_id: o.scopes for o in catalogue.operations(version="1.1")}
    assert by_id["getAllUsers"] == {V11 + "roster-core.readonly", V11 + "roster.readonly"}
    assert by_id["getClassesForUser"] == {V11 + "roster.readonly"}
    assert by_id["getDemographics"] == {V11 + "roster-demographics.readonly"}
    assert by_id["getResourcesForClass"] == {V11 + "resource.readonly"}
    assert by_id["getResultsForClass"] == {V11 + "gradebook.readonly"}


def test_no_prose_but_response_reasons(doc: dict) -> None:
    left = [path for path in prose(doc)
            if not (path.split("/")[-3] == "responses" and path.endswith("/description"))]
    assert left == []
    assert [o["name"] for o in doc["x-harness-overlays"]] == [
        o["name"] for o in derive_v11.OVERLAYS]


def test_schemathesis_loads_every_operation(doc: dict) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(doc)
    assert len([result.ok() for result in schema.get_all_operations()]) == 55
    schema.as_state_machine()


def test_the_mock_serves_the_document_s_operations_with_its_scopes() -> None:
    """The mock's 1.1 routes and scope table agree with the document, operation by
    operation (the mock's envelopes come from the same catalogue)."""
    served = {op.operation_id: op.path for op in (*ROSTERING, *GRADEBOOK_V11, *RESOURCES_V11)}
    documented = {op.operation_id: op for op in catalogue.operations(version="1.1")}
    assert set(served) == set(documented)
    for operation_id, op in documented.items():
        assert served[operation_id] == op.path, operation_id
        assert required_scopes_v11("GET", op.path) == op.scopes, operation_id


def test_the_catalogue_refuses_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="unknown OneRoster version"):
        catalogue.operations(version="1.0")


def test_derive_v11_is_reproducible(tmp_path: Path) -> None:
    reference = reference_dir()
    if reference is None:
        pytest.skip("reference notes not found (set ONEROSTER_REFERENCE)")
    written = derive_v11.run(reference, tmp_path)
    checked_in = Path(specs.__file__).parent / written.name
    assert written.read_bytes() == checked_in.read_bytes()


def test_derive_v11_refuses_notes_without_the_table(tmp_path: Path) -> None:
    (tmp_path / "spec-notes.md").write_text("# nothing here\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        derive_v11.main(["--reference", str(tmp_path), "--out", str(tmp_path)])
    assert exited.value.code == 2
