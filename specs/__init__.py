"""The OneRoster documents the mock and the harness share, and a loader for them.

* ``openapi(service)``: our derived 1.2 OpenAPI document for one service.
* ``openapi_v11()``: our 1.1 OpenAPI document (all services under the one 1.1 base path).
* ``schema_v12(name)`` / ``schema_v11(name)``: one schema as a self-contained JSON Schema
  (draft 2020-12, everything it references under ``$defs``). 1.1 names are those of
  ``oneroster-1.1.schema.json`` ("User", "users") and the answer schemas of the 1.1 OpenAPI
  document ("UserSet", "SingleUser", "SingleDemographics").
* ``validator(version, name)``: a cached validator for it, with strict format checking.
* ``OVERLAYS``: the changes we made to 1EdTech's documents (see ``specs/README.md``).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator

from .overlays import OVERLAYS, Overlay

HERE = Path(__file__).resolve().parent
SERVICES = ("rostering", "gradebook", "resources")
DRAFT = "https://json-schema.org/draft/2020-12/schema"
_OPENAPI_REF = "#/components/schemas/"


@cache
def _load(filename: str) -> dict:
    return json.loads((HERE / filename).read_text(encoding="utf-8"))


def openapi(service: str) -> dict:
    """Our derived OpenAPI document for "rostering", "gradebook" or "resources" (a fresh copy:
    callers such as the discovery route may localise it)."""
    if service not in SERVICES:
        raise ValueError(f"unknown OneRoster 1.2 service {service!r}; expected one of {SERVICES}")
    return copy.deepcopy(_load(f"oneroster-1.2-{service}.json"))


def openapi_v11() -> dict:
    """Our OneRoster 1.1 OpenAPI document (built by ``specs.derive_v11``; a fresh copy)."""
    return copy.deepcopy(_load("oneroster-1.1.json"))


# --- OpenAPI 3.0 schema objects -> JSON Schema 2020-12 -------------------------------------


def _to_json_schema(node: Any) -> Any:
    """Rewrite component refs to ``$defs`` and the OpenAPI 3.0 keyword dialect to 2020-12."""
    if isinstance(node, list):
        return [_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "$ref" and value.startswith(_OPENAPI_REF):
            out[key] = "#/$defs/" + value.removeprefix(_OPENAPI_REF)
        elif key == "properties":
            out[key] = {name: _to_json_schema(schema) for name, schema in value.items()}
        elif key in ("nullable", "exclusiveMinimum", "exclusiveMaximum") and isinstance(
                value, bool):
            continue  # handled below, from the sibling keywords
        else:
            out[key] = _to_json_schema(value)
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
    return out


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return set().union(*map(_refs, node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found = {node["$ref"].removeprefix("#/$defs/")} if "$ref" in node else set()
    return found.union(*map(_refs, node.values()))


def _bundle(defs: dict[str, dict], name: str) -> dict:
    """``name`` at the root, and every definition it reaches under ``$defs``."""
    if name not in defs:
        raise KeyError(name)
    reached: dict[str, dict] = {}
    todo = [name]
    while todo:
        current = todo.pop()
        if current not in reached:
            reached[current] = defs[current]
            todo.extend(sorted(_refs(defs[current])))
    if not any(name in _refs(schema) for schema in reached.values()):
        del reached[name]  # only a recursive root needs a copy of itself under $defs
    root = {"$schema": DRAFT, **defs[name]}
    if reached:
        root["$defs"] = {key: defs[key] for key in defs if key in reached}
    return root


@cache
def _defs_v12(service: str) -> dict[str, dict]:
    return _to_json_schema(_load(f"oneroster-1.2-{service}.json")["components"]["schemas"])


def _service_of(name: str, service: str | None) -> str:
    if service is not None:
        return service
    for candidate in SERVICES:
        if name in _defs_v12(candidate):
            return candidate
    raise KeyError(f"no OneRoster 1.2 schema named {name!r}")


@cache
def _schema_v12(name: str, service: str) -> dict:
    return _bundle(_defs_v12(service), name)


def schema_v12(name: str, service: str | None = None) -> dict:
    """A 1.2 component schema (e.g. "UserDType", "SingleUserDType") as standalone JSON Schema.

    Names are looked up in rostering, gradebook, then resources. Pass ``service`` where the
    documents differ: ``imsx_StatusInfoDType``'s codeMinor vocabulary is per service."""
    return copy.deepcopy(_schema_v12(name, _service_of(name, service)))


@cache
def _defs_v11() -> dict[str, dict]:
    """Our 1.1 JSON Schema's definitions, then the 1.1 OpenAPI document's answer schemas
    (its object schemas are the same definitions, written for OpenAPI)."""
    defs = dict(_load("oneroster-1.1.schema.json")["$defs"])
    for name, schema in _to_json_schema(_load("oneroster-1.1.json")["components"][
            "schemas"]).items():
        defs.setdefault(name, schema)
    return defs


@cache
def _schema_v11(name: str) -> dict:
    defs = _defs_v11()
    if name not in defs:
        raise KeyError(f"no OneRoster 1.1 schema named {name!r}")
    return _bundle(defs, name)


def schema_v11(name: str) -> dict:
    """A 1.1 definition (e.g. "User", "users", "statusInfoSet", "OrgSet", "SingleUser")."""
    return copy.deepcopy(_schema_v11(name))


# --- Formats ----------------------------------------------------------------------------
# jsonschema alone leaves date-time and uri unchecked (they need optional packages), and its
# date check is the only one on. We check the three formats OneRoster uses ourselves.

FORMAT_CHECKER = FormatChecker(formats=())
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URI_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


@FORMAT_CHECKER.checks("date", raises=ValueError)
def is_date(value: object) -> bool:
    """A full date, YYYY-MM-DD, that exists on the calendar."""
    if not isinstance(value, str):
        return True
    return bool(_DATE.fullmatch(value)) and bool(date.fromisoformat(value))


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def is_date_time(value: object) -> bool:
    """RFC 3339: date, T, time, and a zone (Z or an offset) that cannot be left out."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    return bool(datetime.fromisoformat(value.upper().replace("Z", "+00:00")))


@FORMAT_CHECKER.checks("uri", raises=ValueError)
def is_uri(value: object) -> bool:
    """An absolute URI (RFC 3986). http(s) ones also need a host, so "/users/1" and
    "http:/users/1" both fail."""
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not _SCHEME.fullmatch(parts.scheme) or not _URI_CHARS.fullmatch(value):
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname)
    return len(value) > len(parts.scheme) + 1


@FORMAT_CHECKER.checks("uri-reference", raises=ValueError)
def is_uri_reference(value: object) -> bool:
    """An absolute or relative URI reference (RFC 3986 §4.1): "/users/1" passes."""
    return not isinstance(value, str) or (bool(value) and bool(_URI_CHARS.fullmatch(value)))


def relative_hrefs(node: Any) -> Any:
    """A copy of a schema or OpenAPI document whose ``href`` properties accept a relative URI
    reference (``format: uri-reference``) where the published documents ask for an absolute
    ``uri``. OneRoster's prose never says hrefs must be absolute, so the checker judges that
    apart, as a warning, and judges the rest of an answer with this copy."""
    if isinstance(node, list):
        return [relative_hrefs(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: relative_hrefs(value) for key, value in node.items()}
    href = copied.get("properties", {}).get("href") if isinstance(
        copied.get("properties"), dict) else None
    if isinstance(href, dict) and href.get("format") == "uri":
        copied["properties"] = {**copied["properties"],
                                "href": {**href, "format": "uri-reference"}}
    return copied


@cache
def validator(version: str, name: str, service: str | None = None, *,
              relative_href: bool = False) -> Validator:
    """A validator for one 1.1 or 1.2 schema, with date, date-time and uri formats enforced
    (``relative_href``: hrefs may be relative URI references)."""
    if version == "1.2":
        schema = _schema_v12(name, _service_of(name, service))
    elif version == "1.1":
        schema = _schema_v11(name)
    else:
        raise ValueError(f"unknown OneRoster version {version!r}; expected '1.1' or '1.2'")
    if relative_href:
        schema = relative_hrefs(schema)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


__all__ = ["FORMAT_CHECKER", "OVERLAYS", "SERVICES", "Overlay", "is_uri", "openapi", "openapi_v11",
           "relative_hrefs", "schema_v11", "schema_v12", "validator"]
