"""Paging (OR-PAGE): limit, offset walks against X-Total-Count, past the end, Link headers,
the page size, and invalid paging values."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

from ..engine import Finding, Offenders, Outcome, passed
from .context import Context, answered
from .support import check, member, refused_cleanly

MAX_WALK_PAGES = 200


@check("OR-PAGE-001", "limit is honoured",
       "OneRoster 1.2 REST binding §3.4 paging: limit; 1.1 the same")
def limit_is_honoured(ctx: Context) -> Outcome:
    """``GET /users?limit=3`` must return at most 3 records. Fix: apply the client's limit (a
    provider may cap it lower, never return more)."""
    exchange = ctx.target.get("/users", {"limit": 3})
    body = exchange.json()
    records = member(body, "users")
    if exchange.status != 200 or not isinstance(records, list):
        raise Finding(f"GET /users?limit=3 {answered(exchange)}", exchange)
    if len(records) > 3:
        raise Finding(f"asked for 3 users, got {len(records)}", exchange)
    return passed(f"limit=3 gave {len(records)} records", exchange)


@check("OR-PAGE-002", "A paging walk covers the collection once and matches X-Total-Count",
       "OneRoster 1.2 REST binding §3.4 paging: offset, X-Total-Count; 1.1 the same")
def walk_matches_total(ctx: Context) -> Outcome:
    """Walking ``/classes`` (limit 50, or more for a big district so the walk stays under 100
    pages), each offset advanced by the records received, up to the first empty page, must
    return every record exactly once, and their number must equal the X-Total-Count header.
    Fix: page in a stable order (e.g. by a unique key) and count the whole filtered
    collection."""
    seen: list[str] = []
    known: set[str] = set()
    total: int | None = None
    last = None
    limit = 50
    for _ in range(MAX_WALK_PAGES):
        # Advance by what was received: a provider may cap pages below the limit asked.
        offset = len(seen)
        exchange = ctx.target.get("/classes", {"limit": limit, "offset": offset})
        last = exchange
        body = exchange.json()
        records = member(body, "classes")
        if exchange.status != 200 or not isinstance(records, list):
            raise Finding(f"page at offset {offset} {answered(exchange)}", exchange)
        header = exchange.headers.get("x-total-count")
        if header is None or not header.isdigit():
            raise Finding("no X-Total-Count header (or not a number)", exchange)
        total = int(header)
        limit = max(limit, -(-total // (MAX_WALK_PAGES // 2)))
        ids = [r.get("sourcedId") for r in records]
        if ids and set(ids) <= known:
            raise Finding(f"the page at offset {offset} repeats records already seen "
                          "(offset ignored?)", exchange)
        seen += ids
        known.update(i for i in ids if isinstance(i, str))
        # Only an empty page ends the walk: a total that undercounts must not end it early.
        if not records:
            break
    else:
        return Outcome("skipped", f"stopped after {MAX_WALK_PAGES} pages")
    duplicates = len(seen) - len(set(seen))
    if duplicates:
        raise Finding(f"the walk returned {duplicates} records twice", last)
    if total != len(seen):
        raise Finding(f"X-Total-Count says {total}, the walk found {len(seen)}", last)
    return passed(f"{len(seen)} classes, each once, equal to X-Total-Count")


@check("OR-PAGE-003", "A page past the end is an empty list",
       "OneRoster 1.2 REST binding §3.4 paging; 1.1 the same")
def past_the_end_is_empty(ctx: Context) -> Outcome:
    """``GET /orgs?offset=1000000`` must answer 200 with an empty ``orgs`` list, not an error.
    Fix: treat an offset beyond the collection as an empty page."""
    exchange = ctx.target.get("/orgs", {"offset": 1_000_000})
    body = exchange.json()
    if exchange.status != 200 or not isinstance(body, dict) or body.get("orgs") != []:
        raise Finding(f"offset past the end {answered(exchange)}: "
                      f"{exchange.text[:120]}", exchange)
    return passed("past the end: 200 with an empty list", exchange)


MAX_LINK_PAGES = 40  # a Link walk longer than this is cut (and the page size raised to fit)
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([a-z]+)"?', re.IGNORECASE)


def links(header: str | None) -> dict[str, str]:
    """``rel -> URL`` from a Link header (RFC 8288), first one of each rel."""
    found: dict[str, str] = {}
    for url, rel in _LINK.findall(header or ""):
        found.setdefault(rel.lower(), url)
    return found


def _offset(url: str) -> int:
    values = parse_qs(urlsplit(url).query).get("offset", ["0"])
    return int(values[0]) if values[0].isdigit() else -1


@check("OR-PAGE-004", "Link rel=next walks the whole collection and ends at rel=last",
       "OneRoster 1.2 REST binding §3.4 paging: Link header (RFC 8288); 1.1 the same")
def link_walk_ends(ctx: Context) -> Outcome:
    """Consumers page by following ``Link: <...>; rel="next"``. Starting at the first page of
    ``/users``, the next links must visit every record once, never come back to a page
    already seen (a loop hangs consumers), and stop at the page ``rel="last"`` names. Fix:
    build next/last from the current offset, the limit and X-Total-Count."""
    first = ctx.first_page("users")
    if first.status != 200:
        raise Finding(f"the first page of /users {answered(first)}", first)
    # Without X-Total-Count (OR-PAGE-002's finding) the walk still runs, uncompared.
    total_header = first.headers.get("x-total-count", "")
    total = int(total_header) if total_header.isdigit() else None
    limit = max(100, math.ceil((total or 0) / MAX_LINK_PAGES))
    exchange = ctx.target.get("/users", {"limit": limit})
    visited: set[str] = set()
    seen: list[str] = []
    url = None
    for _ in range(MAX_LINK_PAGES + 2):
        body = exchange.json()
        records = member(body, "users")
        if exchange.status != 200 or not isinstance(records, list):
            raise Finding(f"a page of the Link walk {answered(exchange)} without a "
                          "users list", exchange)
        seen += [r.get("sourcedId") for r in records if isinstance(r, dict)]
        rels = links(exchange.headers.get("link"))
        if not rels:
            raise Finding("a page has no Link header", exchange)
        url = rels.get("next")
        if url is None:
            last = rels.get("last")
            if last is not None and _offset(last) != _offset(exchange.url):
                raise Finding(f"the walk ended at offset {_offset(exchange.url)} but rel=last "
                              f"names offset {_offset(last)}", exchange)
            break
        if url in visited or url == exchange.url:
            raise Finding(f"rel=next leads back to a page already visited: {url}", exchange)
        visited.add(url)
        exchange = ctx.target.get(url)
    else:
        raise Finding(f"rel=next still pointed onwards after {MAX_LINK_PAGES + 2} pages of "
                      f"{limit} ({total} users): the walk never ends", exchange)
    if len(seen) != len(set(seen)):
        raise Finding(f"the Link walk returned {len(seen) - len(set(seen))} users twice",
                      exchange)
    if total is not None and len(seen) != total:
        raise Finding(f"the Link walk found {len(seen)} users, X-Total-Count says {total}",
                      exchange)
    return passed(f"{len(visited) + 1} page(s) by rel=next, {len(seen)} users once each",
                  exchange)


@check("OR-PAGE-005", "A page holds what was asked, up to the default of 100",
       "OneRoster 1.2 REST binding §3.4 paging: default limit 100; 1.1 the same",
       severity="warning")
def pages_hold_a_hundred(ctx: Context) -> Outcome:
    """``limit=100`` is the spec's default page size; a provider that returns fewer records
    while more exist forces consumers into many more requests, and the ones that stop at a
    short page lose data. Providers may cap the page size, but not below the default."""
    exchange = ctx.target.get("/users", {"limit": 100})
    records = member(exchange.json(), "users")
    if exchange.status != 200 or not isinstance(records, list):
        raise Finding(f"GET /users?limit=100 {answered(exchange)} without a 'users' list",
                      exchange)
    header = exchange.headers.get("x-total-count", "")
    if header.isdigit():
        total, source = int(header), "X-Total-Count"
    else:  # no header (OR-PAGE-002's finding): count the users by walking them
        walk = ctx.walk("users")
        if not walk.complete:
            return Outcome("skipped", "no X-Total-Count and the walk of /users was cut short: "
                                      "the number of users is unknown")
        total, source = len(walk.records), "a walk of /users"
    if len(records) < min(100, total):
        raise Finding(f"asked for 100 of {total} users (by {source}), got {len(records)}: the "
                      "page size is capped below the default", exchange)
    return passed(f"limit=100 gave {len(records)} of {total} users (by {source})", exchange)


BAD_PAGING = ({"limit": "0"}, {"limit": "-1"}, {"limit": "ten"}, {"offset": "-5"},
              {"offset": "1e3"})


@check("OR-PAGE-006", "Invalid limit and offset values answer 400 invalid data",
       "OneRoster 1.2 REST binding §3.4 and OpenAPI minimums: limit >= 1, offset >= 0; 1.1: "
       "the same minimums, 400 with a statusInfoSet")
def bad_paging_refused(ctx: Context) -> Outcome:
    """``limit=0``, ``limit=-1``, ``limit=ten``, ``offset=-5`` and ``offset=1e3`` break the
    documented minimums and types; certified providers answer 400 with an imsx_StatusInfo
    (codeMinor ``invaliddata``) rather than guessing or failing. Fix: validate both values
    and say which one is wrong."""
    version = ctx.target.version
    offenders = Offenders()
    for params in BAD_PAGING:
        exchange = ctx.target.get("/orgs", params)
        problem = refused_cleanly(exchange, version, (400,))
        if problem:
            shown = "&".join(f"{k}={v}" for k, v in params.items())
            offenders.add(f"/orgs?{shown} {problem}", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {len(BAD_PAGING)} invalid paging values were not "
                                     "refused with 400")
    return passed(f"{len(BAD_PAGING)} invalid paging values, each refused with 400")
