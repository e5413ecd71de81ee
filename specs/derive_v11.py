"""Build our OneRoster 1.1 OpenAPI document from the 1.1 endpoint table and our 1.1 schema.

    python -m specs.derive_v11 --reference ../shared/reference [--out specs]

1EdTech published OneRoster 1.1 as prose only, so there is no upstream document to derive
from. The operations come from the 1.1 endpoint table in ``spec-notes.md`` (§2.4, itself
generated from the official 1.1 endpoint tables); the payload schemas come from our
``oneroster-1.1.schema.json``. Only the read operations (GET) are written: the grade-book
writes are judged by the grade-book checks, not by generated requests. The choices we made
where the table is silent are recorded in the document under ``x-harness-overlays``. The
output is deterministic, so re-running it must leave git clean.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .derive import RESPONSE_TEXT, default_reference, dump
from .overlays import DEFAULT_BASE_URL, TOKEN_PATH

HERE = Path(__file__).resolve().parent
OUTPUT = "oneroster-1.1.json"
SCHEMA_FILE = "oneroster-1.1.schema.json"
NOTES_FILE = "spec-notes.md"
TABLE_HEADING = "### 2.4 OneRoster 1.1"
BASE_PATH = "/ims/oneroster/v1p1"
SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p1/scope/"
SCOPE_TEXT = {
    "roster-core.readonly": "core rostering reads",
    "roster.readonly": "all rostering reads but demographics",
    "roster-demographics.readonly": "demographics reads",
    "resource.readonly": "resources reads",
    "gradebook.readonly": "grade-book reads",
    "gradebook.createput": "grade-book create/replace by id",
    "gradebook.delete": "grade-book deletes",
}
# Keywords that carry prose or notes in our JSON Schema; OpenAPI 3.0 has no $comment.
DROPPED = frozenset({"$comment", "examples", "description", "title"})
# A parent's path parameter, named as the 1.2 documents name it (the wire never sees it).
PARENT_PARAMETERS = {
    "schools": "schoolSourcedId", "classes": "classSourcedId", "courses": "courseSourcedId",
    "students": "studentSourcedId", "teachers": "teacherSourcedId", "terms": "termSourcedId",
    "users": "userSourcedId", "lineItems": "lineItemSourcedId",
}
ERROR_CODES = ("400", "401", "403", "404", "429", "500")
COLLECTION_ERROR_CODES = ("400", "401", "403", "429", "500")
CORE_SCOPE = "roster-core.readonly"
SUPERSET_SCOPE = "roster.readonly"
STATUS_BODY = "statusInfoSet"

OVERLAYS = [
    {"name": "reads_only",
     "reason": "the table's GET operations; the six grade-book writes are left to the "
               "grade-book checks"},
    {"name": "path_parameter_names",
     "reason": "the table names path parameters {id}, {school_id}...; ours follow the 1.2 "
               "documents ({sourcedId}, {schoolSourcedId}...), which the wire never sees"},
    {"name": "roster_core_superset",
     "reason": "roster.readonly covers every rostering read but demographics, so the core "
               "reads accept it beside roster-core.readonly"},
    {"name": "fields_comma_separated",
     "reason": "OneRoster clients send fields=a,b as one value"},
    {"name": "templated_server",
     "reason": "tools override baseUrl (scheme, host, optional prefix); basePath is the one "
               "1.1 base"},
    {"name": "relative_token_url",
     "reason": "a provider's token URL is its own; the harness is told it"},
    {"name": "oauth1_signing",
     "reason": "1.1 was specified with OAuth 1.0a request signing (HMAC-SHA256); OAuth 2.0 "
               "client credentials came later. Either one authorises an operation"},
    {"name": "open_envelopes",
     "reason": "a 1.1 answer may carry a statusInfoSet of warnings beside its data key"},
]


@dataclass(frozen=True)
class Row:
    """One GET row of the 1.1 endpoint table."""

    service: str
    path: str  # as the table writes it
    operation_id: str
    single: bool  # "fields" only: a get-by-id
    scope: str  # short name, e.g. roster-core.readonly
    envelope: str


def table_rows(notes: str) -> tuple[list[Row], str]:
    """The GET rows of the 1.1 endpoint table, and the table's text (for its hash)."""
    lines = notes.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith(TABLE_HEADING))
    except StopIteration:
        raise ValueError(f"{NOTES_FILE} has no section {TABLE_HEADING!r}") from None
    table = []
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        if line.startswith("|"):
            table.append(line)
    rows = []
    for line in table:
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        if not cells[0].isdigit():
            continue  # the header and its rule
        _, service, method, path, operation_id, query, scope, _, envelope = cells
        if method != "GET":
            continue
        if query not in ("all 6", "fields"):
            raise ValueError(f"{operation_id}: unexpected query column {query!r}")
        rows.append(Row(service, path, operation_id, query == "fields", scope, envelope))
    if not rows:
        raise ValueError(f"no GET rows under {TABLE_HEADING!r}")
    return rows, "\n".join(table) + "\n"


_PARAM = re.compile(r"\{[^}]+\}")


def our_path(path: str) -> str:
    """The table's path with our parameter names: the last one is the record's own id, the
    others name their parent collection."""
    segments = path.strip("/").split("/")
    out = []
    for i, segment in enumerate(segments):
        if not _PARAM.fullmatch(segment):
            out.append(segment)
        elif i == len(segments) - 1:
            out.append("{sourcedId}")
        else:
            out.append("{" + PARENT_PARAMETERS[segments[i - 1]] + "}")
    return "/" + "/".join(out)


def openapi_schema(node: Any) -> Any:
    """A JSON Schema node in the OpenAPI 3.0 dialect: component refs, no notes."""
    if isinstance(node, list):
        return [openapi_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and set(node) - DROPPED - {"$ref"}:
        # OpenAPI 3.0 ignores a $ref's siblings; our schema must not rely on them.
        raise ValueError(f"a $ref with siblings cannot be written for OpenAPI 3.0: {node}")
    out = {}
    for key, value in node.items():
        if key in DROPPED:
            continue
        if key == "$ref":
            out[key] = value.replace("#/$defs/", "#/components/schemas/")
        elif key == "properties":
            out[key] = {name: openapi_schema(schema) for name, schema in value.items()}
        else:
            out[key] = openapi_schema(value)
    return out


def _record_of(defs: dict, envelope: str, single: bool) -> str:
    """The record schema an envelope key holds, read from the schema's envelope definition
    (which must offer the shape the table asks for: a list, or one record)."""
    if envelope not in defs:
        raise ValueError(f"our 1.1 schema has no envelope {envelope!r}")
    held = defs[envelope]["properties"][envelope]
    for shape in held.get("anyOf", [held]):
        if single and "$ref" in shape:
            return shape["$ref"].rsplit("/", 1)[-1]
        if not single and shape.get("type") == "array":
            return shape["items"]["$ref"].rsplit("/", 1)[-1]
    raise ValueError(f"the 1.1 envelope {envelope!r} holds no "
                     f"{'single record' if single else 'list'}")


def envelope_schema(defs: dict, envelope: str, record: str, single: bool) -> dict:
    """An answer's schema: the one data key (required), warnings beside it allowed."""
    held = {"$ref": f"#/components/schemas/{record}"}
    return {
        "type": "object",
        "properties": {
            envelope: held if single else {"type": "array", "items": held},
            STATUS_BODY: openapi_schema(defs[STATUS_BODY]["properties"][STATUS_BODY]),
        },
        "required": [envelope],
        "additionalProperties": True,
    }


def _parameters(path: str, single: bool) -> list[dict]:
    def query(name: str, schema: dict, **extra: Any) -> dict:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "style": "form", "allowEmptyValue": False, **extra}

    params = [{"name": name.strip("{}"), "in": "path", "required": True,
               "schema": {"type": "string"}, "style": "simple"}
              for name in _PARAM.findall(path)]
    if not single:
        params += [
            query("limit", {"type": "integer", "format": "int32", "default": 100,
                            "minimum": 1}),
            query("offset", {"type": "integer", "format": "int32", "default": 0,
                             "minimum": 0}),
            query("sort", {"type": "string"}),
            query("orderBy", {"type": "string", "enum": ["asc", "desc"]}),
            query("filter", {"type": "string"}),
        ]
    params.append(query("fields", {"type": "array", "items": {"type": "string"}},
                        explode=False))
    return params


def _responses(schema: str, single: bool, nested: bool) -> dict:
    def answer(code: str, ref: str) -> dict:
        return {"description": RESPONSE_TEXT[code],
                "content": {"application/json": {"schema": {
                    "$ref": f"#/components/schemas/{ref}"}}}}

    responses = {"default": answer("default", STATUS_BODY), "200": answer("200", schema)}
    if not single:
        responses["200"]["headers"] = {"X-Total-Count": {"schema": {"type": "integer"}}}
    # An unknown id, or an unknown parent of a nested list, is 404 unknown object.
    for code in ERROR_CODES if single or nested else COLLECTION_ERROR_CODES:
        responses[code] = answer(code, STATUS_BODY)
    return responses


def _scopes(row: Row) -> list[str]:
    shorts = [row.scope] + ([SUPERSET_SCOPE] if row.scope == CORE_SCOPE else [])
    return [SCOPE_PREFIX + short for short in shorts]


def build(rows: list[Row], schema: dict, sources: list[dict]) -> dict:
    defs = schema["$defs"]
    components: dict[str, Any] = {}
    for name, definition in defs.items():
        if name == STATUS_BODY or name[0].isupper():  # objects and the error body
            components[name] = openapi_schema(definition)
    paths: dict[str, dict] = {}
    for row in rows:
        record = _record_of(defs, row.envelope, row.single)
        name = f"Single{record}" if row.single else f"{record}Set"
        components.setdefault(name, envelope_schema(defs, row.envelope, record, row.single))
        path = our_path(row.path)
        if path in paths:
            raise ValueError(f"{path} is listed twice")
        paths[path] = {"get": {
            "operationId": row.operation_id,
            "tags": [row.service],
            "parameters": _parameters(path, row.single),
            "security": [{"OAuth2CC": _scopes(row)}, {"OAuth1": []}],
            "responses": _responses(name, row.single, nested=path.count("/") > 1
                                    and not row.single),
        }}
    scopes = sorted({scope for item in paths.values() for scope in _scopes_of(item)})
    return {
        "openapi": "3.0.0",
        "info": {"title": "OneRoster 1.1 (oneroster-harness)", "version": "1.1"},
        "servers": [{"url": "{baseUrl}{basePath}", "variables": {
            "baseUrl": {"default": DEFAULT_BASE_URL},
            "basePath": {"enum": [BASE_PATH], "default": BASE_PATH}}}],
        "tags": [{"name": tag} for tag in dict.fromkeys(row.service for row in rows)],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "OAuth2CC": {"type": "oauth2", "flows": {"clientCredentials": {
                    "tokenUrl": TOKEN_PATH,
                    "scopes": {scope: SCOPE_TEXT[scope.removeprefix(SCOPE_PREFIX)]
                               for scope in scopes}}}},
                # RFC 5849 registers the "OAuth" HTTP authentication scheme.
                "OAuth1": {"type": "http", "scheme": "OAuth",
                           "x-harness-signature-methods": ["HMAC-SHA256", "HMAC-SHA1"]},
            },
            "schemas": components,
        },
        "x-harness-source": sources,
        "x-harness-overlays": copy.deepcopy(OVERLAYS),
    }


def _scopes_of(item: dict) -> list[str]:
    return [scope for requirement in item["get"]["security"]
            for listed in requirement.values() for scope in listed]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(reference: Path, out: Path, schema_dir: Path = HERE) -> Path:
    notes = (reference / NOTES_FILE).read_text(encoding="utf-8")
    rows, table = table_rows(notes)
    raw_schema = (schema_dir / SCHEMA_FILE).read_bytes()
    sources = [
        {"publisher": "oneroster-harness", "document": f"{NOTES_FILE} ({TABLE_HEADING[4:]})",
         "part": "the endpoint table", "sha256": _sha256(table.encode("utf-8"))},
        {"publisher": "oneroster-harness", "document": f"specs/{SCHEMA_FILE}",
         "sha256": _sha256(raw_schema)},
    ]
    doc = build(rows, json.loads(raw_schema), sources)
    target = out / OUTPUT
    target.write_text(dump(doc), encoding="utf-8", newline="\n")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specs.derive_v11",
                                     description=f"Build specs/{OUTPUT} from the 1.1 endpoint "
                                                 "table and our 1.1 JSON Schema.")
    parser.add_argument("--reference", type=Path, default=default_reference(),
                        help=f"folder with {NOTES_FILE}")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: specs/)")
    args = parser.parse_args(argv)
    if not (args.reference / NOTES_FILE).is_file():
        parser.error(f"no {NOTES_FILE} in {args.reference}")
    try:
        path = run(args.reference, args.out)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
