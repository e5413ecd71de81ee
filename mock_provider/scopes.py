"""Which OAuth 2 scopes each OneRoster operation needs.

1.2: read from the operations' ``security`` in our three OpenAPI documents. Each operation has
one requirement listing several scopes; spec-notes §10.6 reads that as any-of (roster-core vs
roster), and so do we.

1.1: spec-notes §6.2 and the 61 operations of §2.4 (core rostering reads accept roster-core or
its superset roster; nested rostering needs roster; demographics, resources and the grade book
have their own scopes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from specs import SERVICES, openapi

from .connections import SCOPE_PREFIX_V11


@cache
def _v12_table() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for service in SERVICES:
        for operations in openapi(service)["paths"].values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue  # path-level keys such as "parameters"
                scopes: set[str] = set()
                for requirement in operation.get("security", []):
                    for listed in requirement.values():
                        scopes.update(listed)
                table[operation["operationId"]] = frozenset(scopes)
    return table


def required_scopes_v12(operation_id: str) -> frozenset[str]:
    """The scopes of which any one allows the 1.2 operation (e.g. "getAllUsers")."""
    try:
        return _v12_table()[operation_id]
    except KeyError:
        raise KeyError(f"no OneRoster 1.2 operation {operation_id!r}") from None


# --- 1.1 ---------------------------------------------------------------------------------

def _v11(*shorts: str) -> frozenset[str]:
    return frozenset(SCOPE_PREFIX_V11 + short for short in shorts)


_CORE_V11 = ("academicSessions", "classes", "courses", "enrollments", "gradingPeriods", "orgs",
             "schools", "students", "teachers", "terms", "users")
_NESTED_ROSTER_V11 = (
    "/schools/{}/courses", "/schools/{}/classes", "/schools/{}/classes/{}/enrollments",
    "/schools/{}/classes/{}/students", "/schools/{}/classes/{}/teachers",
    "/schools/{}/enrollments", "/schools/{}/students", "/schools/{}/teachers",
    "/schools/{}/terms", "/terms/{}/classes", "/terms/{}/gradingPeriods", "/courses/{}/classes",
    "/students/{}/classes", "/teachers/{}/classes", "/users/{}/classes", "/classes/{}/students",
    "/classes/{}/teachers",
)
_RESOURCES_V11 = ("/resources", "/resources/{}", "/courses/{}/resources", "/classes/{}/resources")
_GRADEBOOK_V11 = ("categories", "lineItems", "results")
_GRADEBOOK_NESTED_V11 = ("/classes/{}/results", "/classes/{}/lineItems",
                         "/classes/{}/lineItems/{}/results", "/classes/{}/students/{}/results")


@cache
def _v11_table() -> dict[tuple[str, str], frozenset[str]]:
    table: dict[tuple[str, str], frozenset[str]] = {}
    for name in _CORE_V11:
        # roster.readonly is a superset of roster-core.readonly, so it must open these too.
        for path in (f"/{name}", f"/{name}/{{}}"):
            table["GET", path] = _v11("roster-core.readonly", "roster.readonly")
    for path in ("/demographics", "/demographics/{}"):
        table["GET", path] = _v11("roster-demographics.readonly")
    for path in _NESTED_ROSTER_V11:
        table["GET", path] = _v11("roster.readonly")
    for path in _RESOURCES_V11:
        table["GET", path] = _v11("resource.readonly")
    for name in _GRADEBOOK_V11:
        table["GET", f"/{name}"] = _v11("gradebook.readonly")
        table["GET", f"/{name}/{{}}"] = _v11("gradebook.readonly")
        table["PUT", f"/{name}/{{}}"] = _v11("gradebook.createput")
        table["DELETE", f"/{name}/{{}}"] = _v11("gradebook.delete")
    for path in _GRADEBOOK_NESTED_V11:
        table["GET", path] = _v11("gradebook.readonly")
    return table


_PARAM = re.compile(r"\{[^}]*\}")


def required_scopes_v11(method: str, path_template: str) -> frozenset[str]:
    """The scopes of which any one allows a 1.1 operation.

    ``path_template`` is relative to ``/ims/oneroster/v1p1``; parameter names do not matter
    ("/classes/{classSourcedId}/students" and "/classes/{class_id}/students" are the same)."""
    key = (method.upper(), _PARAM.sub("{}", path_template).rstrip("/") or "/")
    try:
        return _v11_table()[key]
    except KeyError:
        raise KeyError(f"no OneRoster 1.1 operation {method.upper()} {path_template}") from None


def granted(grant_scopes: Iterable[str], required: frozenset[str]) -> bool:
    """Whether a grant holds any one of ``required`` (an empty requirement needs nothing)."""
    return not required or not required.isdisjoint(grant_scopes)


__all__ = ["granted", "required_scopes_v11", "required_scopes_v12"]
