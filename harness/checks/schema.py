"""Schemas (OR-SCHEMA): core pages validate against the answer schemas of the run's
version's document (1.2: 1EdTech's OpenAPI; 1.1: ours, built from our 1.1 JSON Schema)."""

from __future__ import annotations

from ..engine import Outcome, passed
from .context import Context, answered
from .support import Offenders, check, core_envelopes, document_operation, schema_problems

SHOWN_ERRORS = 3  # schema errors named per collection; the rest are counted


@check("OR-SCHEMA-001", "Core collection pages are valid against the official schemas",
       "OneRoster 1.2 OpenAPI components.schemas (*SetDType); 1.1: the information model's "
       "objects, as our v1p1 OpenAPI document (specs/oneroster-1.1.json) writes them")
def core_pages_match_schemas(ctx: Context) -> Outcome:
    """Each core collection's first page must validate against its getAll operation's answer
    schema in the version's document: the envelope key, required fields, enums, string booleans
    ("true"/"false"), dates, absolute hrefs (1.2 also: no nulls and no keys outside
    ``metadata``; 1.1 objects are open, and a user needs ``username``, ``role`` and ``orgs``).
    Every collection that fails is listed with the JSON path of each error. Fix: emit exactly
    the spec's fields and types."""
    version = ctx.version
    offenders = Offenders()
    for collection in core_envelopes(version):
        exchange = ctx.first_page(collection)
        if exchange.status != 200:
            offenders.add(f"/{collection} {answered(exchange)}", exchange)
            continue
        operation = document_operation(version, f"/{collection}")
        errors = schema_problems(operation, exchange.json())
        if errors:
            more = len(errors) - SHOWN_ERRORS
            offenders.add(f"/{collection} against {operation.schema}: "
                          + "; ".join(errors[:SHOWN_ERRORS])
                          + (f" (and {more} more)" if more > 0 else ""), exchange)
    offenders.raise_if_any(lambda n: f"{n} core collection(s) break the OneRoster {version} "
                                     "schemas")
    return passed(f"every core first page is valid against the OneRoster {version} schemas")
