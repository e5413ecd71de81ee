"""The operation table both sides agree on, read from the OpenAPI documents: each operation's
method, path template, id, service, response envelope key and scopes, for OneRoster 1.2 (the
three 1EdTech-derived documents) or 1.1 (our one v1p1 document, ``specs.derive_v11``).

The mock and the checker take their collection and envelope tables from here rather than
from each other's code, so a table can only be wrong in one place: the documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import SERVICES, openapi, openapi_v11

VERSIONS = ("1.2", "1.1")


@dataclass(frozen=True)
class Operation:
    method: str  # lower case, as in the document
    path: str  # the template, e.g. /classes/{classSourcedId}/students
    operation_id: str
    service: str  # rostering | gradebook | resources
    envelope: str | None  # the 200 answer's one key, e.g. users; None without a JSON body
    single: bool  # the envelope holds one record, not a list
    scopes: frozenset[str]  # any one of them allows the operation (OAuth 2.0)
    schema: str | None = None  # the 200 answer's schema, e.g. UserSetDType (1.2), UserSet (1.1)
    version: str = "1.2"

    @property
    def collection(self) -> str:
        """The last literal segment of the path: ``students`` for
        ``/classes/{classSourcedId}/students``, ``users`` for ``/users/{sourcedId}``."""
        return [s for s in self.path.split("/") if s and not s.startswith("{")][-1]


def _answer_schema(operation: dict) -> str | None:
    answer = operation.get("responses", {}).get("200") or operation.get("responses", {}).get(
        "201") or {}
    ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _envelope(document: dict, name: str | None) -> tuple[str | None, bool]:
    """The answer schema's data key and whether it holds one record. A 1.1 answer may carry
    a ``statusInfoSet`` of warnings beside its data key: that key is not the envelope."""
    if name is None:
        return None, False
    schema = document["components"]["schemas"][name]
    keys = [key for key in schema.get("properties", {}) if key != "statusInfoSet"]
    if len(keys) != 1:
        return None, False
    return keys[0], schema["properties"][keys[0]].get("type") != "array"


def _documents(version: str, service: str | None) -> list[tuple[str | None, dict]]:
    if version == "1.2":
        return [(name, openapi(name)) for name in (SERVICES if service is None else (service,))]
    if version == "1.1":
        return [(None, openapi_v11())]
    raise ValueError(f"unknown OneRoster version {version!r}; expected one of {VERSIONS}")


@cache
def operations(service: str | None = None, version: str = "1.2") -> tuple[Operation, ...]:
    """Every operation of ``service`` (all services when None) in OneRoster ``version``, in
    document order. The 1.1 document holds the read operations of every service under the one
    1.1 base path; each is tagged with its service."""
    found: list[Operation] = []
    for name, document in _documents(version, service):
        for path, entries in document["paths"].items():
            for method, operation in entries.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue  # path-level keys such as "parameters"
                owner = name or operation["tags"][0]
                if service is not None and owner != service:
                    continue
                scopes = frozenset(s for requirement in operation.get("security", [])
                                   for listed in requirement.values() for s in listed)
                schema = _answer_schema(operation)
                envelope, single = _envelope(document, schema)
                found.append(Operation(method, path, operation["operationId"], owner, envelope,
                                       single, scopes, schema, version))
    return tuple(found)


@cache
def collection_envelopes(version: str = "1.2") -> dict[str, str]:
    """Collection name (a path's last segment) -> the envelope key its lists are served
    under: ``schools`` -> ``orgs``, ``students`` -> ``users``, ``terms`` ->
    ``academicSessions``, ``scoreScales`` -> ``scoreScales`` (1.2)."""
    table: dict[str, str] = {}
    for operation in operations(version=version):
        if operation.method == "get" and operation.envelope and not operation.single:
            table.setdefault(operation.collection, operation.envelope)
    return table


@cache
def record_envelopes(version: str = "1.2") -> dict[str, str]:
    """A list envelope key -> the key one of its records is served under (``users`` ->
    ``user``, ``academicSessions`` -> ``academicSession``, ``demographics`` ->
    ``demographics``), from the get-by-id operations."""
    lists = collection_envelopes(version)
    table: dict[str, str] = {}
    for operation in operations(version=version):
        if operation.method == "get" and operation.single and operation.envelope and \
                operation.path.endswith("/{sourcedId}"):
            table.setdefault(lists.get(operation.collection, operation.collection),
                             operation.envelope)
    return table
