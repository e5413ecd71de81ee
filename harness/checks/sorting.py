"""Sorting (OR-SORT): sort and orderBy order a collection, and an unknown sort field is
ignored or refused cleanly."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from itertools import pairwise

from ..engine import Finding, Outcome, passed
from .context import Context
from .support import (
    Offenders,
    by_id,
    check,
    code_minor,
    evidence,
    few,
    record_ids,
    refused_cleanly,
)

SORTS = (("users", "familyName", "asc"), ("users", "familyName", "desc"),
         ("users", "givenName", "asc"), ("classes", "title", "desc"))
SORT_MAX_PAGES = 10


def _primary(text: str) -> str:
    """Roughly a collation's primary strength: no case, accents, spaces or punctuation."""
    return "".join(c for c in unicodedata.normalize("NFKD", text).casefold() if c.isalnum())


COLLATIONS: tuple[Callable[[str], str], ...] = (str, str.casefold, _primary)


def out_of_order(before: str, after: str, order: str) -> bool:
    """Whether ``after`` may not follow ``before``: wrong under every accepted collation."""
    if order == "asc":
        return all(key(after) < key(before) for key in COLLATIONS)
    return all(key(after) > key(before) for key in COLLATIONS)


@check("OR-SORT-001", "sort and orderBy order a collection, and the sorted walk lists each "
       "record once", "OneRoster 1.2 REST binding: sorting (sort, orderBy asc|desc); the "
       "OpenAPI's Unicode collation; 1.1 the same parameters")
def sorting_is_honoured(ctx: Context) -> Outcome:
    """``GET /users?sort=familyName&orderBy=asc`` (and ``desc``, ``sort=givenName``,
    ``/classes?sort=title&orderBy=desc``), walked page by page, must list the records in that
    order of the field: ascending or descending by code point or by a case- and
    accent-insensitive collation (the OpenAPI cites Unicode collation; ties and records
    without the field may sit anywhere). The sorted walk must also hold every record of the
    collection exactly once. Fix: ORDER BY the field in the asked direction, with a unique
    tiebreaker (e.g. sourcedId) so pages neither repeat nor skip records."""
    failures = Offenders()
    checked = 0
    for collection, name, order in SORTS:
        base = ctx.walk(collection)
        if len({r.get(name) for r in base.records if isinstance(r.get(name), str)}) < 2:
            continue
        query = f"sort={name}&orderBy={order}"
        checked += 1
        try:
            walk = ctx.walk_pages(f"/{collection}", collection,
                              {"sort": name, "orderBy": order}, max_pages=SORT_MAX_PAGES)
        except Finding as finding:
            failures.add_finding(f"/{collection}?{query}", finding)
            continue
        present = [(i, r[name]) for i, r in enumerate(walk.records)
                   if isinstance(r.get(name), str)]
        wrong = [(i, j) for (i, a), (j, b) in pairwise(present)
                 if out_of_order(a, b, order)]
        if wrong:
            i, j = wrong[0]
            a, b = walk.records[i], walk.records[j]
            failures.add(f"/{collection}?{query}: {len(wrong)} neighbours out of order, first "
                         f"{b[name]!r} ({b.get('sourcedId')}) after {a[name]!r} "
                         f"({a.get('sourcedId')}) at positions {i} and {j}",
                         *evidence(walk.exchange_for(i), walk.exchange_for(j)))
            continue
        if walk.complete and base.complete:
            ids = record_ids(walk.records)
            expected = set(by_id(base))
            repeated = len(ids) - len(set(ids))
            missing = sorted(expected - set(ids))
            if repeated or missing:
                failures.add(f"/{collection}?{query}: the sorted walk has {len(ids)} records, "
                             f"the plain walk {len(expected)}"
                             + (f"; {repeated} listed twice" if repeated else "")
                             + (f"; missing {few(missing)}" if missing else ""),
                             walk.exchanges[-1])
    failures.raise_if_failed(checked, "sorted walks")
    if not checked:
        return Outcome("skipped", "no collection has two different values to sort by")
    return passed(f"{checked} sorted walks were in order and complete")


@check("OR-SORT-002", "An unknown sort field is ignored or refused, never a failure",
       "OneRoster 1.2 REST binding §3.6 sorting; 1.1: 200 with an invalid_sort_field warning")
def unknown_sort(ctx: Context) -> Outcome:
    """``sort=noSuchField`` names no field. 1.2 allows ignoring it (200) or refusing it
    (400 invalid_sort_field or invaliddata); 1.1 answers 200 with a statusInfoSet warning
    ``invalid_sort_field``. A 5xx, or a 400 without a status payload, is the finding. Fix:
    ignore or refuse unknown sort fields, with the version's status payload."""
    version = ctx.target.version
    exchange = ctx.target.get("/orgs", {"sort": "noSuchField", "limit": 5})
    body = exchange.json()
    if exchange.status == 200 and isinstance(body, dict) and isinstance(body.get("orgs"), list):
        if version == "1.1" and "statusInfoSet" not in body:
            raise Finding("1.1 ignored the unknown sort field without a statusInfoSet "
                          "warning", exchange)
        return passed("the unknown sort field was ignored", exchange)
    problem = refused_cleanly(exchange, version, (400,))
    if problem:
        raise Finding(f"sort=noSuchField {problem}", exchange)
    return passed(f"the unknown sort field was refused ({code_minor(body, version)})", exchange)
