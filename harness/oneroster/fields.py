"""The fields a filter may name on each OneRoster collection, derived from the schemas in
``specs/``.

A collection is named by the last segment of its URL (``users``, ``schools``, ``lineItems``)
and serves records of one schema per version:

* 1.2: the array in the envelope of the ``GET /<collection>`` 200 response of our OpenAPI
  documents (``/schools`` serves ``OrgSetDType.orgs``, so ``OrgDType`` records);
* 1.1: the envelope definition of ``oneroster-1.1.schema.json`` with the collection's name;
  the collections 1.1 serves under another envelope (``schools``, ``students``, ``terms``...)
  use the envelope 1.2 gives them, as the spec's envelopes are the same in both versions.

A field is a dotted path from the record to a scalar property:

* a top-level scalar: ``givenName``, ``score``, ``beginDate``;
* a scalar inside a nested object: ``user.sourcedId``, ``primaryOrg.type``;
* through one array, with one value per element: an array of scalars is a field of its own
  (``grades``), an array of objects gives a field per scalar inside (``roles.role``,
  ``roles.org.sourcedId``, 1.1 ``orgs.sourcedId``, ``userIds.identifier``).

Two arrays deep (``userProfiles.credentials.type``) and ``metadata`` (no declared properties)
give no field. A field's kind comes from its schema: ``date`` and ``date-time`` formats, numbers,
enumerations (the string booleans ``"true"``/``"false"`` and extensible ``ext:`` enumerations
included), the ``sourcedId`` of a reference (a GUIDRef: an object with ``href`` and
``sourcedId``), and any other string as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

import specs

VERSIONS = ("1.2", "1.1")


class Kind(StrEnum):
    """What a field's values are, which decides how they compare and which operators apply."""

    TEXT = "text"
    ENUM = "enum"
    REFERENCE = "reference"  # a GUIDRef's sourcedId
    NUMBER = "number"
    DATE = "date"
    DATETIME = "date-time"

    @property
    def is_time(self) -> bool:
        return self in (Kind.DATE, Kind.DATETIME)


_NOTHING = object()


def _dig(node: object, keys: tuple[str, ...]) -> object:
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return _NOTHING
        node = node[key]
    return node


@dataclass(frozen=True)
class Field:
    """One filterable field: its dotted name, the path to its values and their kind.
    ``array_at`` is the index in ``path`` of the array the field goes through (None for a
    single-valued field)."""

    name: str
    path: tuple[str, ...]
    kind: Kind
    array_at: int | None = None

    @property
    def many(self) -> bool:
        """Whether the field holds one value per array element."""
        return self.array_at is not None

    def served(self, record: dict) -> list | None:
        """The field's JSON values in a served record as they are, not yet checked for type:
        None when the field is missing (absent, null, or its array is not an array), else one
        value, or one per array element that has it (an empty array gives [])."""
        if self.array_at is None:
            value = _dig(record, self.path)
            return None if value is _NOTHING or value is None else [value]
        array = _dig(record, self.path[:self.array_at + 1])
        if not isinstance(array, list):
            return None
        rest = self.path[self.array_at + 1:]
        values = (_dig(element, rest) for element in array)
        return [v for v in values if v is not _NOTHING and v is not None]


@dataclass(frozen=True)
class Catalogue:
    """The filterable fields of one collection in one version."""

    collection: str
    version: str
    schema: str  # the record schema the fields come from (UserDType, User...)
    fields: Mapping[str, Field]

    def __contains__(self, name: object) -> bool:
        return name in self.fields

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields.values())


class UnknownCollection(KeyError):
    """A collection the version does not serve (the message names the known ones)."""

    def __str__(self) -> str:
        return str(self.args[0])


# --- collections -> record schemas ---------------------------------------------------------


def _name_of(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


@cache
def _envelopes_v12() -> dict[str, tuple[str, str, str]]:
    """collection -> (envelope key, record schema, service), from the collection GETs."""
    found: dict[str, tuple[str, str, str]] = {}
    for service in specs.SERVICES:
        document = specs.openapi(service)
        schemas = document["components"]["schemas"]
        for path, operations in document["paths"].items():
            if path.count("/") != 1 or "get" not in operations:
                continue
            answer = operations["get"]["responses"]["200"]["content"]["application/json"]
            envelope = schemas[_name_of(answer["schema"]["$ref"])]
            (key, array), = envelope["properties"].items()
            found[path[1:]] = (key, _name_of(array["items"]["$ref"]), service)
    return found


@cache
def _records_v11() -> dict[str, str]:
    """envelope key -> record definition, for the 1.2 envelopes the 1.1 schema also has (an
    envelope holds an array, or for ``demographics`` an array or one record)."""
    found = {}
    for key in sorted({key for key, _, _ in _envelopes_v12().values()}):
        try:
            envelope = specs.schema_v11(key)
        except KeyError:
            continue  # new in 1.2: scoreScales, the assessment profile
        node = envelope["properties"][key]
        array = next(b for b in node.get("anyOf", [node]) if b.get("type") == "array")
        found[key] = _name_of(array["items"]["$ref"])
    return found


def collections(version: str) -> tuple[str, ...]:
    """The collections (URL names) filters can be checked on in ``version``."""
    if version == "1.2":
        return tuple(sorted(_envelopes_v12()))
    if version == "1.1":
        return tuple(sorted(c for c, (key, _, _) in _envelopes_v12().items()
                            if key in _records_v11()))
    raise ValueError(f"unknown OneRoster version {version!r}; expected one of {VERSIONS}")


def _record_schema(collection: str, version: str) -> tuple[str, dict]:
    known = collections(version)
    if collection not in known:
        raise UnknownCollection(f"OneRoster {version} has no collection {collection!r}; "
                                f"known: {', '.join(known)}")
    key, name, service = _envelopes_v12()[collection]
    if version == "1.2":
        return name, specs.schema_v12(name, service)
    name = _records_v11()[key]
    return name, specs.schema_v11(name)


# --- schemas -> fields ---------------------------------------------------------------------


def _resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        node = root["$defs"][_name_of(node["$ref"])]
    return node


def _scalar_kind(node: dict, root: dict) -> Kind | None:
    """The kind of a scalar schema; None for objects and arrays."""
    branches = [_resolve(b, root) for b in node.get("anyOf", [node])]
    types = {b.get("type") for b in branches}
    if types <= {"number", "integer"}:
        return Kind.NUMBER
    if types != {"string"}:
        return None
    if any("enum" in b for b in branches):
        return Kind.ENUM
    formats = {b.get("format") for b in branches}
    if formats == {"date"}:
        return Kind.DATE
    if formats == {"date-time"}:
        return Kind.DATETIME
    return Kind.TEXT


def _is_reference(node: dict) -> bool:
    return {"href", "sourcedId"} <= set(node.get("properties", {}))


def _fields(node: dict, root: dict, path: tuple[str, ...], array_at: int | None,
            in_reference: bool) -> Iterator[Field]:
    node = _resolve(node, root)
    kind = _scalar_kind(node, root)
    if kind is not None:
        if in_reference and path[-1] == "sourcedId":
            kind = Kind.REFERENCE
        yield Field(".".join(path), path, kind, array_at)
    elif node.get("type") == "array" and array_at is None and "items" in node:
        yield from _fields(node["items"], root, path, len(path) - 1, False)
    elif node.get("type") == "object":
        inner = _is_reference(node)
        for name, schema in node.get("properties", {}).items():
            yield from _fields(schema, root, (*path, name), array_at, inner)


@cache
def catalogue(collection: str, version: str) -> Catalogue:
    """The filterable fields of ``collection`` (a URL name such as "users" or "schools") in
    OneRoster ``version`` ("1.2" or "1.1"); UnknownCollection when the version has none."""
    name, schema = _record_schema(collection, version)
    found = {}
    for prop, node in schema.get("properties", {}).items():
        for item in _fields(node, schema, (prop,), None, False):
            found[item.name] = item
    return Catalogue(collection, version, name, found)
