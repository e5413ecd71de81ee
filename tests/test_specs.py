"""The derived OpenAPI documents, the 1.1 schema, and the loader in ``specs``."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import specs
from specs import derive

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
EXPECTED_OPERATIONS = {"rostering": 41, "gradebook": 35, "resources": 5}
HOST = "https://sis.example.org/ims/oneroster/rostering/v1p2"


def org_ref(sourced_id: str = "org-1") -> dict:
    return {"href": f"{HOST}/orgs/{sourced_id}", "sourcedId": sourced_id, "type": "org"}


def user_v12() -> dict:
    return {
        "sourcedId": "user-1",
        "status": "active",
        "dateLastModified": "2024-08-01T12:00:00.000Z",
        "username": "ada.lovelace",
        "enabledUser": "true",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "roles": [{"roleType": "primary", "role": "student", "org": org_ref(),
                   "beginDate": "2024-08-15"}],
        "primaryOrg": org_ref(),
        "metadata": {"ext:house": "Babbage"},
    }


def user_v11() -> dict:
    user = {key: value for key, value in user_v12().items() if key not in ("roles", "primaryOrg")}
    return {**user, "role": "student", "orgs": [org_ref()]}


def errors(version: str, name: str, instance: object) -> list[str]:
    return [e.message for e in specs.validator(version, name).iter_errors(instance)]


def operations(doc: dict) -> list[tuple[str, str]]:
    return [(path, method) for path, item in doc["paths"].items() for method in item
            if method in METHODS]


def prose(node: object, where: str = "") -> Iterator[str]:
    """Paths of prose keywords, skipping property *names* (LineItem has a description field)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from prose(item, f"{where}/{i}")
    elif isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "example", "examples"):
                yield f"{where}/{key}"
            if key == "properties" and isinstance(value, dict):
                for name, schema in value.items():
                    yield from prose(schema, f"{where}/properties/{name}")
            else:
                yield from prose(value, f"{where}/{key}")


@pytest.fixture(scope="module", params=derive.SERVICES)
def service(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def doc(service: str) -> dict:
    return specs.openapi(service)


# --- derived documents ----------------------------------------------------------------------


def test_operation_counts(doc: dict, service: str) -> None:
    ops = operations(doc)
    assert len(ops) == len(set(ops)) == EXPECTED_OPERATIONS[service]
    assert all("operationId" in doc["paths"][p][m] for p, m in ops)


def test_no_upstream_prose(doc: dict) -> None:
    # OpenAPI requires a response description; ours is the bare HTTP reason phrase.
    allowed = set(derive.RESPONSE_TEXT.values())
    left = [path for path in prose(doc)
            if not (path.split("/")[-3] == "responses" and path.endswith("/description"))]
    assert left == []
    for path, method in operations(doc):
        for response in doc["paths"][path][method]["responses"].values():
            assert response["description"] in allowed
    assert set(doc["info"]) == {"title", "version"}


def test_overlays_recorded(doc: dict) -> None:
    recorded = doc["x-harness-overlays"]
    assert recorded == [{"name": o.name, "reason": o.reason} for o in specs.OVERLAYS]
    assert {"fields_comma_separated", "templated_server", "relative_token_url"} <= {
        o["name"] for o in recorded}


def test_fields_is_comma_separated(doc: dict) -> None:
    params = [param for path, method in operations(doc)
              for param in doc["paths"][path][method].get("parameters", [])
              if param["name"] == "fields"]
    assert params
    assert all(p["style"] == "form" and p["explode"] is False for p in params)


def test_server_and_token_url(doc: dict) -> None:
    (server,) = doc["servers"]
    assert server["url"] == "{baseUrl}{basePath}"
    assert server["variables"]["baseUrl"]["default"] == "http://127.0.0.1:8000"
    assert server["variables"]["basePath"]["default"].startswith("/ims/oneroster/")
    flows = doc["components"]["securitySchemes"]["OAuth2CC"]["flows"]
    assert flows["clientCredentials"]["tokenUrl"] == "/oauth2/token"
    assert all(scope.startswith("https://purl.imsglobal.org/spec/or/v1p2/scope/")
               for scope in flows["clientCredentials"]["scopes"])


def test_schemas_stay_strict(doc: dict) -> None:
    open_by_design = {"MetadataDType", "CredentialDType"}
    for name, schema in doc["components"]["schemas"].items():
        expected = name in open_by_design
        assert schema.get("additionalProperties") is expected, name


def test_openapi_returns_a_fresh_copy() -> None:
    specs.openapi("resources")["servers"].clear()
    assert specs.openapi("resources")["servers"]
    with pytest.raises(ValueError):
        specs.openapi("v1p1")


def test_schemathesis_loads_every_operation(doc: dict, service: str) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    schema = schemathesis.openapi.from_dict(doc)
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) == EXPECTED_OPERATIONS[service]
    schema.as_state_machine()  # the upstream paging links used to break this


# --- 1.2 validation -------------------------------------------------------------------------


def test_v12_user_accepted() -> None:
    assert errors("1.2", "UserDType", user_v12()) == []
    assert errors("1.2", "SingleUserDType", {"user": user_v12()}) == []
    assert errors("1.2", "UserSetDType", {"users": [user_v12(), user_v12()]}) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda u: u.update(enabledUser=True), "True is not of type 'string'"),
        (lambda u: u.update(middleName=None), "None is not of type 'string'"),
        (lambda u: u.update(role="student"), "('role' was unexpected)"),
        (lambda u: u.pop("roles"), "'roles' is a required property"),
        (lambda u: u.update(roles=[]), "[] should be non-empty"),
        (lambda u: u["primaryOrg"].update(href="/orgs/org-1"), "'/orgs/org-1' is not a 'uri'"),
        (lambda u: u["roles"][0].update(beginDate="2024-02-30"), "is not a 'date'"),
        (lambda u: u["roles"][0].update(beginDate="15/08/2024"), "is not a 'date'"),
        (lambda u: u.update(dateLastModified="2024-08-01T12:00:00"), "is not a 'date-time'"),
        (lambda u: u["roles"][0].update(role="administrator"), "not valid under any"),
    ],
    ids=["json-boolean", "null", "extra-key", "missing-roles", "empty-roles", "relative-href",
         "impossible-date", "non-iso-date", "date-time-without-zone", "v11-role-value"],
)
def test_v12_user_rejected(change, expected: str) -> None:
    user = user_v12()
    change(user)
    assert any(expected in message for message in errors("1.2", "UserDType", user)), expected


def test_v12_error_body() -> None:
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": "Unknown Object: users/nope",
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem",
             "imsx_codeMinorFieldValue": "unknownobject"}]},
    }
    assert errors("1.2", "imsx_StatusInfoDType", body) == []
    assert errors("1.2", "imsx_StatusInfoDType", {"imsx_StatusInfo": body})
    assert errors("1.2", "imsx_StatusInfoDType", {**body, "imsx_codeMinor": "unknownobject"})
    # The codeMinor vocabulary differs by service.
    deletefailure = copy.deepcopy(body)
    deletefailure["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] = (
        "deletefailure")
    assert errors("1.2", "imsx_StatusInfoDType", deletefailure)
    assert not list(specs.validator("1.2", "imsx_StatusInfoDType", "gradebook")
                    .iter_errors(deletefailure))


def test_v12_schema_is_self_contained() -> None:
    schema = specs.schema_v12("SingleUserDType")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "UserDType" in schema["$defs"]
    assert "#/components/" not in repr(schema)
    assert specs.schema_v12("LineItemDType")["properties"]["description"] == {"type": "string"}
    with pytest.raises(KeyError):
        specs.schema_v12("NoSuchDType")


# --- 1.1 validation -------------------------------------------------------------------------


def test_v11_user() -> None:
    assert errors("1.1", "User", user_v11()) == []
    assert errors("1.1", "users", {"users": [user_v11()]}) == []
    for missing in ("username", "role", "orgs"):
        user = user_v11()
        del user[missing]
        assert errors("1.1", "User", user), missing
    assert errors("1.1", "User", user_v12()), "a 1.2 user is not a 1.1 user"


def test_v11_status_info_set() -> None:
    warning = {"imsx_codeMajor": "success", "imsx_severity": "warning",
               "imsx_codeMinor": "invalid_selection_field",
               "imsx_description": "unknown field: shoeSize"}
    assert errors("1.1", "users", {"users": [], "statusInfoSet": [warning]}) == []
    assert errors("1.1", "statusInfoSet", {"statusInfoSet": [warning]}) == []
    nested = {**warning, "imsx_codeMinor": {"imsx_codeMinorField": []}}
    assert errors("1.1", "statusInfoSet", {"statusInfoSet": [nested]})


def test_v11_demographics_and_results() -> None:
    demo = {"sourcedId": "user-1", "status": "active",
            "dateLastModified": "2024-08-01T12:00:00Z", "sex": "female", "asian": "false"}
    assert errors("1.1", "demographics", {"demographics": demo}) == []
    assert errors("1.1", "demographics", {"demographics": [demo]}) == []
    assert errors("1.1", "Demographics", {**demo, "sex": "other"})
    result = {"sourcedId": "r-1", "status": "active", "dateLastModified": "2024-08-01T12:00:00Z",
              "lineItem": {**org_ref("li-1"), "type": "lineItem"},
              "student": {**org_ref("user-1"), "type": "student"},
              "scoreStatus": "fully graded", "score": 9.5, "scoreDate": "2024-09-01"}
    assert errors("1.1", "Result", result) == []
    assert errors("1.1", "Result", {k: v for k, v in result.items() if k != "score"})


# --- formats --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "value", "ok"),
    [
        ("date", "2024-02-29", True),
        ("date", "2023-02-29", False),
        ("date", "2024-2-09", False),
        ("date", "2024-02-09\n", False),
        ("date-time", "2024-08-01T12:00:00Z", True),
        ("date-time", "2024-08-01T12:00:00.123+02:00", True),
        ("date-time", "2024-08-01 12:00:00Z", False),
        ("date-time", "2024-08-01T25:00:00Z", False),
        ("date-time", "2024-08-01", False),
        ("uri", "https://sis.example.org/users/1", True),
        ("uri", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", True),
        ("uri", "/users/1", False),
        ("uri", "http:/users/1", False),
        ("uri", "https://sis.example.org/users/a b", False),
    ],
)
def test_format_checker(fmt: str, value: str, ok: bool) -> None:
    assert specs.FORMAT_CHECKER.conforms(value, fmt) is ok


# --- reproducibility ------------------------------------------------------------------------


def reference_dir() -> Path | None:
    candidates = [os.environ.get("ONEROSTER_REFERENCE"), "/work/shared/reference",
                  Path(__file__).resolve().parents[2] / "shared" / "reference"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "oneroster-1.2-rostering.openapi.json").is_file():
            return Path(candidate)
    return None


def test_derive_is_reproducible(tmp_path: Path) -> None:
    reference = reference_dir()
    if reference is None:
        pytest.skip("1EdTech reference documents not found (set ONEROSTER_REFERENCE)")
    for written in derive.run(reference, tmp_path):
        checked_in = Path(specs.__file__).parent / written.name
        assert written.read_bytes() == checked_in.read_bytes(), written.name
