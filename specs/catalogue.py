"""The operation table both sides agree on, read from the 1.2 OpenAPI documents: each
operation's method, path template, id, service, response envelope key and scopes.

The mock and the checker take their collection and envelope tables from here rather than
from each other's code, so a table can only be wrong in one place: the published documents.
OneRoster 1.1 serves the same rostering paths and envelope keys under its one base path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from . import SERVICES, openapi


@dataclass(frozen=True)
class Operation:
    method: str  # lower case, as in the document
    path: str  # the template, e.g. /classes/{classSourcedId}/students
    operation_id: str
    service: str  # rostering | gradebook | resources
    envelope: str | None  # the 200 answer's one key, e.g. users; None without a JSON body
    single: bool  # the envelope holds one record, not a list
    scopes: frozenset[str]  # any one of them allows the operation

    @property
    def collection(self) -> str:
        """The last literal segment of the path: ``students`` for
        ``/classes/{classSourcedId}/students``, ``users`` for ``/users/{sourcedId}``."""
        return [s for s in self.path.split("/") if s and not s.startswith("{")][-1]


def _envelope(document: dict, operation: dict) -> tuple[str | None, bool]:
    answer = operation.get("responses", {}).get("200") or operation.get("responses", {}).get(
        "201") or {}
    ref = answer.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
    if not ref:
        return None, False
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    keys = list(schema.get("properties", {}))
    if len(keys) != 1:
        return None, False
    return keys[0], schema["properties"][keys[0]].get("type") != "array"


@cache
def operations(service: str | None = None) -> tuple[Operation, ...]:
    """Every 1.2 operation of ``service`` (all three services when None), in document
    order."""
    found: list[Operation] = []
    for name in SERVICES if service is None else (service,):
        document = openapi(name)
        for path, entries in document["paths"].items():
            for method, operation in entries.items():
                if not isinstance(operation, dict) or "operationId" not in operation:
                    continue  # path-level keys such as "parameters"
                scopes = frozenset(s for requirement in operation.get("security", [])
                                   for listed in requirement.values() for s in listed)
                envelope, single = _envelope(document, operation)
                found.append(Operation(method, path, operation["operationId"], name, envelope,
                                       single, scopes))
    return tuple(found)


@cache
def collection_envelopes() -> dict[str, str]:
    """Collection name (a path's last segment) -> the envelope key its lists are served
    under: ``schools`` -> ``orgs``, ``students`` -> ``users``, ``terms`` ->
    ``academicSessions``, ``scoreScales`` -> ``scoreScales``."""
    table: dict[str, str] = {}
    for operation in operations():
        if operation.method == "get" and operation.envelope and not operation.single:
            table.setdefault(operation.collection, operation.envelope)
    return table


@cache
def record_envelopes() -> dict[str, str]:
    """A list envelope key -> the key one of its records is served under (``users`` ->
    ``user``, ``academicSessions`` -> ``academicSession``), from the get-by-id operations."""
    lists = collection_envelopes()
    table: dict[str, str] = {}
    for operation in operations():
        if operation.method == "get" and operation.single and operation.envelope and \
                operation.path.endswith("/{sourcedId}"):
            table.setdefault(lists.get(operation.collection, operation.collection),
                             operation.envelope)
    return table
