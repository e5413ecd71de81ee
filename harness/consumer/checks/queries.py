"""Queries (OR-CON-QUERY): valid filters, sorts and field lists, to known endpoints."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from .support import NO_REQUESTS, listed

QUERY_ERRORS = frozenset({"invalid_filter_field", "invalid_selection_field",
                          "invalid_blank_selection_field", "invalid_sort_field", "invaliddata",
                          "invalid data"})


@consumer_check("OR-CON-QUERY-001", "Filters, sorts and field selections were valid",
                "OneRoster 1.2 REST binding §3.5-3.7 filter, sort, fields",
                rule_v11="OneRoster 1.1 §3 filter, sort, fields: a bad filter is 400 "
                "invalid_filter_field; an unknown sort or selection field is 200 with a "
                "warning")
def valid_queries(j: Judgement) -> Outcome:
    """Every ``filter``, ``sort``/``orderBy`` and ``fields`` must use the spec's syntax and
    fields the collection has. A 400 answer to a query means the consumer's sync silently
    read nothing; in 1.1 an unknown sort or selection field is answered 200 with a warning
    and unsorted or unselected data, which the consumer did not ask for."""
    if not any(e.method == "GET" for e in j.data):
        return skipped("the consumer read nothing (no GET request)")
    refused = [e for e in j.data if e.method == "GET" and e.status == 400 and not e.fault
               and (e.code_minor or "") in QUERY_ERRORS]
    if refused:
        first = refused[0]
        raise j.finding(f"{len(refused)} query(ies) refused: {first.description}", *refused)
    warned = [e for e in j.data if e.method == "GET" and e.ok
              and (e.code_minor or "") in QUERY_ERRORS]
    if warned:
        raise j.finding(f"{len(warned)} query(ies) answered with a warning "
                        f"({warned[0].code_minor}): {warned[0].description}", *warned)
    return passed("no query was refused")


@consumer_check("OR-CON-QUERY-002", "Only endpoints the provider has were requested",
                "OneRoster 1.2 REST binding §2 endpoints",
                rule_v11="OneRoster 1.1 endpoints, under /ims/oneroster/v1p1")
def known_endpoints(j: Judgement) -> Outcome:
    """Paths must be the spec's (``/ims/oneroster/rostering/v1p2/...`` in 1.2,
    ``/ims/oneroster/v1p1/...`` in 1.1); a 404 for an unknown endpoint or a 405 for a method
    means the consumer is built for another layout."""
    if not j.data:
        return skipped(NO_REQUESTS)
    wrong = [e for e in j.data if e.status == 405 or (
        e.status == 404 and "no endpoint" in (e.description or ""))]
    if wrong:
        raise j.finding(f"{len(wrong)} request(s) to unknown endpoints: {listed(wrong)}", *wrong)
    return passed("every request went to a known endpoint")
