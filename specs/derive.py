"""Derive our OneRoster 1.2 OpenAPI documents from 1EdTech's published ones.

    python -m specs.derive --reference ../shared/reference [--out specs]

Keeps the machine facts (paths, operationIds, tags, parameters, schemas, enums, required
lists, patterns, formats, security and scopes), drops the upstream prose, puts a few words of
our own where OpenAPI demands text, then applies the overlays in ``specs.overlays``.
The output is deterministic, so re-running it must leave git clean.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from .overlays import OVERLAYS

SERVICES = ("rostering", "gradebook", "resources")
HERE = Path(__file__).resolve().parent
UPSTREAM = "https://purl.imsglobal.org/spec/or/v1p2/schema/openapi/"
UPSTREAM_FILES = {
    "rostering": "onerosterv1p2rostersservice_openapi3_v1p0.json",
    "gradebook": "onerosterv1p2gradebookservice_openapi3_v1p0.json",
    "resources": "onerosterv1p2resourcesservice_openapi3_v1p0.json",
}
PROSE = frozenset({"description", "summary", "example", "examples"})

# OpenAPI 3.0 requires a description on every response; a fixed table (not http.HTTPStatus,
# whose phrases change between Python versions) keeps the output byte-stable.
RESPONSE_TEXT = {
    "200": "OK", "201": "Created", "204": "No Content", "400": "Bad Request",
    "401": "Unauthorized", "403": "Forbidden", "404": "Not Found",
    "422": "Unprocessable Content", "429": "Too Many Requests", "500": "Internal Server Error",
    "default": "Error",
}
SCOPE_PREFIX = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
SCOPE_TEXT = {
    "roster-core.readonly": "core rostering reads",
    "roster.readonly": "all rostering reads but demographics",
    "roster-demographics.readonly": "demographics reads",
    "gradebook-core.readonly": "core gradebook reads",
    "gradebook.readonly": "all gradebook reads",
    "gradebook.createput": "gradebook create/replace by id",
    "gradebook.createpost": "gradebook bulk create",
    "gradebook.delete": "gradebook deletes",
    "assessment.readonly": "assessment reads",
    "assessment.createput": "assessment create/replace by id",
    "assessment.delete": "assessment deletes",
    "resource-core.readonly": "core resources reads",
    "resource.readonly": "all resources reads",
}


def strip_prose(node: Any) -> Any:
    """A copy of ``node`` without prose keywords, leaving property *names* alone
    (LineItemDType has a real ``description`` property)."""
    if isinstance(node, list):
        return [strip_prose(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in PROSE:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: strip_prose(schema) for name, schema in value.items()}
        else:
            out[key] = strip_prose(value)
    return out


def own_words(doc: dict, service: str) -> None:
    """Fill the few places where OpenAPI requires text."""
    doc["info"] = {"title": f"OneRoster 1.2 {service.title()} (oneroster-harness)",
                   "version": doc["info"]["version"]}
    for item in doc["paths"].values():
        for op in item.values():
            for code, response in op["responses"].items():
                doc_response = {"description": RESPONSE_TEXT[code]}
                doc_response.update(response)
                op["responses"][code] = doc_response
    for scheme in doc["components"]["securitySchemes"].values():
        for flow in scheme["flows"].values():
            flow["scopes"] = {scope: SCOPE_TEXT[scope.removeprefix(SCOPE_PREFIX)]
                              for scope in flow["scopes"]}


def derive(upstream: dict, service: str, raw: bytes) -> dict:
    doc = strip_prose(upstream)
    own_words(doc, service)
    for overlay in OVERLAYS:
        overlay.apply(doc)
    doc["x-harness-source"] = {
        "publisher": "1EdTech",
        "document": UPSTREAM + UPSTREAM_FILES[service],
        "sha256": hashlib.sha256(raw).hexdigest(),
        "license": copy.deepcopy(upstream["info"].get("license")),
    }
    doc["x-harness-overlays"] = [{"name": o.name, "reason": o.reason} for o in OVERLAYS]
    return doc


def dump(doc: dict) -> str:
    return json.dumps(doc, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def default_reference() -> Path:
    env = os.environ.get("ONEROSTER_REFERENCE")
    return Path(env) if env else HERE.parents[1] / "shared" / "reference"


def run(reference: Path, out: Path) -> list[Path]:
    written = []
    for service in SERVICES:
        raw = (reference / f"oneroster-1.2-{service}.openapi.json").read_bytes()
        doc = derive(json.loads(raw), service, raw)
        target = out / f"oneroster-1.2-{service}.json"
        target.write_text(dump(doc), encoding="utf-8", newline="\n")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m specs.derive",
                                     description="Derive specs/*.json from 1EdTech's OpenAPI.")
    parser.add_argument("--reference", type=Path, default=default_reference(),
                        help="folder with 1EdTech's oneroster-1.2-*.openapi.json")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: specs/)")
    args = parser.parse_args(argv)
    if not args.reference.is_dir():
        parser.error(f"no reference folder at {args.reference}")
    for path in run(args.reference, args.out):
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
