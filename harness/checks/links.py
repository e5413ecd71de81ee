"""Paging by ``Link`` headers and the provider's page size."""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

from . import Context, Finding, Outcome, check, passed

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
       "OneRoster 1.2 REST binding §3.4 paging: Link header (RFC 8288)")
def link_walk_ends(ctx: Context) -> Outcome:
    """Consumers page by following ``Link: <...>; rel="next"``. Starting at the first page of
    ``/users``, the next links must visit every record once, never come back to a page
    already seen (a loop hangs consumers), and stop at the page ``rel="last"`` names. Fix:
    build next/last from the current offset, the limit and X-Total-Count."""
    first = ctx.first_page("users")
    if first.status != 200:
        raise Finding(f"the first page of /users answered {first.status}", first)
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
        records = body.get("users") if isinstance(body, dict) else None
        if exchange.status != 200 or not isinstance(records, list):
            raise Finding(f"a page of the Link walk answered {exchange.status} without a "
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
       "OneRoster 1.2 REST binding §3.4 paging: default limit 100", severity="warning")
def pages_hold_a_hundred(ctx: Context) -> Outcome:
    """``limit=100`` is the spec's default page size; a provider that returns fewer records
    while more exist forces consumers into many more requests, and the ones that stop at a
    short page lose data. Providers may cap the page size, but not below the default."""
    exchange = ctx.target.get("/users", {"limit": 100})
    body = exchange.json()
    records = body.get("users") if isinstance(body, dict) else None
    total = exchange.headers.get("x-total-count", "")
    if exchange.status != 200 or not isinstance(records, list) or not total.isdigit():
        raise Finding(f"GET /users?limit=100 answered {exchange.status}", exchange)
    expected = min(100, int(total))
    if len(records) < expected:
        raise Finding(f"asked for 100 of {total} users, got {len(records)}: the page size is "
                      "capped below the default", exchange)
    return passed(f"limit=100 gave {len(records)} of {total} users", exchange)
