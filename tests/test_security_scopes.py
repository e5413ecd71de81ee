"""Which scopes each operation needs, in 1.2 (from the OpenAPI documents) and 1.1."""

from __future__ import annotations

import pytest

from mock_provider.scopes import granted, required_scopes_v11, required_scopes_v12

V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"


@pytest.mark.parametrize(("operation_id", "shorts"), [
    ("getAllUsers", {"roster.readonly", "roster-core.readonly"}),
    ("getStudentsForClass", {"roster.readonly"}),
    ("getAllDemographics", {"roster-demographics.readonly"}),
    ("getAllLineItems", {"gradebook.readonly", "gradebook-core.readonly"}),
    ("postLineItemsForClass", {"gradebook.createpost"}),
    ("deleteResult", {"gradebook.delete"}),
    ("putAssessmentResult", {"assessment.createput"}),
    ("getResourcesForUser", {"resource.readonly"}),
    ("getResource", {"resource.readonly", "resource-core.readonly"}),
])
def test_v12_scopes_come_from_the_openapi(operation_id: str, shorts: set[str]) -> None:
    assert required_scopes_v12(operation_id) == {V12 + s for s in shorts}


def test_v12_unknown_operation() -> None:
    with pytest.raises(KeyError, match="getEverything"):
        required_scopes_v12("getEverything")


@pytest.mark.parametrize(("method", "path", "shorts"), [
    ("GET", "/users", {"roster-core.readonly", "roster.readonly"}),
    ("get", "/users/{sourcedId}", {"roster-core.readonly", "roster.readonly"}),
    ("GET", "/classes/{classSourcedId}/students", {"roster.readonly"}),
    ("GET", "/schools/{school_id}/classes/{class_id}/enrollments", {"roster.readonly"}),
    ("GET", "/demographics/{id}", {"roster-demographics.readonly"}),
    ("GET", "/courses/{id}/resources", {"resource.readonly"}),
    ("GET", "/classes/{id}/students/{sid}/results", {"gradebook.readonly"}),
    ("PUT", "/lineItems/{sourcedId}", {"gradebook.createput"}),
    ("DELETE", "/results/{sourcedId}", {"gradebook.delete"}),
])
def test_v11_scopes(method: str, path: str, shorts: set[str]) -> None:
    assert required_scopes_v11(method, path) == {V11 + s for s in shorts}


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/classes/{id}/lineItems"),  # bulk create is 1.2 only
    ("GET", "/scoreScales"),
    ("DELETE", "/users/{id}"),
])
def test_v11_unknown_operations(method: str, path: str) -> None:
    with pytest.raises(KeyError, match=r"no OneRoster 1\.1 operation"):
        required_scopes_v11(method, path)


def test_granted_is_any_of() -> None:
    need = frozenset({V12 + "roster.readonly", V12 + "roster-core.readonly"})
    assert granted({V12 + "roster-core.readonly"}, need)
    assert not granted({V12 + "roster-demographics.readonly"}, need)
    assert not granted(set(), need)
    assert granted(set(), frozenset())
