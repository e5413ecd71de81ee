"""Schemas (OR-SCHEMA): core pages validate against the answer schemas of the run's
version's document (1.2: 1EdTech's OpenAPI; 1.1: ours, built from our 1.1 JSON Schema)."""

from __future__ import annotations

from specs import is_uri

from ..engine import Outcome, passed
from .context import Context, answered, member
from .support import Offenders, check, core_envelopes, document_operation, schema_problems

HREF_COLLECTIONS = ("academicSessions", "classes", "courses", "enrollments", "orgs", "users")


@check("OR-SCHEMA-001", "Core collection pages are valid against the official schemas",
       "OneRoster 1.2 OpenAPI components.schemas (*SetDType); 1.1: the information model's "
       "objects, as our v1p1 OpenAPI document (specs/oneroster-1.1.json) writes them")
def core_pages_match_schemas(ctx: Context) -> Outcome:
    """Each core collection's first page must validate against its getAll operation's answer
    schema in the version's document: the envelope key, required fields, enums, string booleans
    ("true"/"false"), dates (1.2 also: no nulls and no keys outside ``metadata``; 1.1 objects
    are open, and a user needs ``username``, ``role`` and ``orgs``); hrefs may be relative
    here, OR-SCHEMA-002 warns of those. Every error is listed with its collection and JSON
    path. Fix: emit exactly
    the spec's fields and types."""
    version = ctx.version
    offenders = Offenders()
    broken: set[str] = set()
    for collection in core_envelopes(version):
        exchange = ctx.first_page(collection)
        if exchange.status != 200:
            offenders.add(f"/{collection} {answered(exchange)}", exchange)
            broken.add(collection)
            continue
        operation = document_operation(version, f"/{collection}")
        for error in schema_problems(operation, exchange.json()):
            offenders.add(f"/{collection} ({operation.schema}) {error}", exchange)
            broken.add(collection)
    offenders.raise_if_any(lambda n: f"{n} schema error(s) in {len(broken)} core collection(s) "
                                     f"against the OneRoster {version} schemas")
    return passed(f"every core first page is valid against the OneRoster {version} schemas")


def _hrefs(node: object, path: str) -> list[tuple[str, str]]:
    """(JSON path, href) of every ``href`` in a record, nested references included."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "href" and isinstance(value, str):
                found.append((f"{path}/href", value))
            else:
                found += _hrefs(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _hrefs(value, f"{path}/{index}")
    return found


@check("OR-SCHEMA-002", "References carry absolute hrefs",
       "OneRoster 1.2 OpenAPI: GUIDRef href is format uri (absolute); 1.1: GUIDRef href, a "
       "URI; the bindings' prose does not say, so a warning", severity="warning")
def hrefs_are_absolute(ctx: Context) -> Outcome:
    """A reference's ``href`` is where a client reads the record it points at. The 1.2 OpenAPI
    types it as an absolute URI, while the REST binding's prose does not say, and some
    certified providers write paths such as ``/academicSessions/123``: a client must then
    guess the base to resolve it. Every relative href on the core first pages is listed.
    Warning only (the other schema checks accept relative hrefs). Fix: write
    ``https://host/.../ims/oneroster/rostering/v1p2/academicSessions/123``."""
    offenders = Offenders()
    seen = 0
    for collection in HREF_COLLECTIONS:
        exchange = ctx.first_page(collection)
        records = member(exchange.json(), collection)
        if exchange.status != 200 or not isinstance(records, list):
            continue  # OR-CORE-001's business
        for index, record in enumerate(records):
            for path, href in _hrefs(record, f"{collection}/{index}"):
                seen += 1
                if not is_uri(href):
                    offenders.add(f"{path}: {href!r}", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {seen} hrefs are not absolute URIs")
    return passed(f"{seen} hrefs on the core first pages, all absolute")
