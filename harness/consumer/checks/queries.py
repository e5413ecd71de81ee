"""Queries (OR-CON-QUERY): valid filters, sorts and field lists, to known endpoints."""

from __future__ import annotations

from ...engine import Outcome, passed
from ..judge import Judgement, consumer_check
from .support import listed

QUERY_ERRORS = frozenset({"invalid_filter_field", "invalid_selection_field",
                          "invalid_blank_selection_field", "invalid_sort_field", "invaliddata",
                          "invalid data"})


@consumer_check("OR-CON-QUERY-001", "Filters, sorts and field selections were valid",
                "OneRoster 1.2 REST binding §3.5-3.7 filter, sort, fields")
def valid_queries(j: Judgement) -> Outcome:
    """Every ``filter``, ``sort``/``orderBy`` and ``fields`` must use the spec's syntax and
    fields the collection has. A 400 answer to a query means the consumer's sync silently
    read nothing."""
    refused = [e for e in j.data if e.method == "GET" and e.status == 400 and not e.fault
               and (e.code_minor or "") in QUERY_ERRORS]
    if refused:
        first = refused[0]
        raise j.finding(f"{len(refused)} query(ies) refused: {first.description}", *refused)
    return passed("no query was refused")


@consumer_check("OR-CON-QUERY-002", "Only endpoints the provider has were requested",
                "OneRoster 1.2 REST binding §2 endpoints")
def known_endpoints(j: Judgement) -> Outcome:
    """Paths must be the spec's (``/ims/oneroster/rostering/v1p2/...`` in 1.2); a 404 for an
    unknown endpoint or a 405 for a method means the consumer is built for another layout."""
    wrong = [e for e in j.data if e.status == 405 or (
        e.status == 404 and "no endpoint" in (e.description or ""))]
    if wrong:
        raise j.finding(f"{len(wrong)} request(s) to unknown endpoints: {listed(wrong)}", *wrong)
    return passed("every request went to a known endpoint")
