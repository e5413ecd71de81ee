"""Cross-check: the checker's filter semantics (``harness.oneroster.filters``, written from the
spec) against the mock provider's (its SQL, reached through real requests to the app on
uvicorn, and its Python ``matches``), on a small real district.

Hypothesis draws filters over the records the mock serves (fields, the operators each field's
kind allows, values it serves, respelled or cut into pieces); each must select the same
records in all three. A disagreement fails the test with the filter and the records that
differ. Where the two read the spec differently on purpose, the difference is pinned down in a
test of its own below (``test_documented_difference_*``), not hidden.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.oneroster.fields import Catalogue, Field, Kind, catalogue, collections
from harness.oneroster.filters import (
    ALLOWED,
    OPERATORS,
    Contains,
    Filter,
    Predicate,
    check_filter,
    parse_filter,
)
from harness.oneroster.values import read_date, read_instant
from mock_provider import query as mock_query
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .conftest import examples, make_district
from .live_server import live_server

ROSTERING, GRADEBOOK = "/ims/oneroster/rostering/v1p2", "/ims/oneroster/gradebook/v1p2"
RESOURCES, V11 = "/ims/oneroster/resources/v1p2", "/ims/oneroster/v1p1"
# Collections with every field kind between them: text, enumerations (string booleans
# included), references, lists, dates, date-times and numbers.
BASES = {
    "1.2": {"users": ROSTERING, "enrollments": ROSTERING, "classes": ROSTERING,
            "academicSessions": ROSTERING, "demographics": ROSTERING, "lineItems": GRADEBOOK,
            "results": GRADEBOOK, "categories": GRADEBOOK, "resources": RESOURCES},
    "1.1": {"users": V11, "enrollments": V11, "classes": V11, "academicSessions": V11,
            "lineItems": V11, "results": V11},
}
EXAMPLES = 120  # per version under the ci profile: about 2 s each on the tiny district


@dataclass
class Served:
    """The running mock, an authorised client, and every record of each collection as served."""

    client: httpx.Client
    records: dict[str, dict[str, list[dict]]]  # version -> collection -> records

    def ask(self, version: str, collection: str, flt: Filter) -> httpx.Response:
        return self.client.get(f"{BASES[version][collection]}/{collection}",
                               params={"filter": str(flt), "fields": "sourcedId",
                                       "limit": 50_000})


@pytest.fixture(scope="module")
def served(districts_dir: Path) -> Iterator[Served]:
    connection = Connection(name="x", client_id="x", client_secret="x-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    with Store(make_district(districts_dir, 42, 60)) as store, \
            live_server(create_app(store, [connection])) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("x", "x-secret")).json()["access_token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as client:
            records: dict[str, dict[str, list[dict]]] = {}
            for version, bases in BASES.items():
                records[version] = {}
                for collection, base in bases.items():
                    answer = client.get(f"{base}/{collection}", params={"limit": 50_000})
                    assert answer.status_code == 200, answer.text
                    records[version][collection] = answer.json()[collection]
                    assert records[version][collection], collection
            yield Served(client, records)


# --- drawing filters over the served values -------------------------------------------------


def _mock_knows(field: Field, version: str, collection: str) -> bool:
    """The mock's catalogue lacks two kinds of field the checker's has (see
    ``test_documented_difference_in_the_catalogue``); filters on them are not drawn."""
    return field.name in mock_query.catalog(collection, version).fields


def _pool(records: list[dict], cat: Catalogue) -> dict[str, list[str]]:
    """field -> distinct served values, as filter text (numbers as the JSON wrote them)."""
    pool: dict[str, list[str]] = {}
    for field in cat:
        if not _mock_knows(field, cat.version, cat.collection):
            continue
        seen: dict[str, None] = {}
        for record in records:
            for value in field.served(record) or []:
                if isinstance(value, str):
                    seen[value] = None
                elif isinstance(value, int | float) and not isinstance(value, bool):
                    seen[json.dumps(value)] = None
        if seen:
            pool[field.name] = sorted(seen)
    return pool


def _swap_ascii_case(text: str) -> str:
    return "".join(c.swapcase() if c.isascii() else c for c in text)


def _respelled_times(value: str) -> list[str]:
    """The same time written other ways, and its neighbours (same granularity: a date stays a
    date, a date-time a date-time; mixing the two is a documented difference)."""
    day = read_date(value)
    if day is not None:
        return [value, str(day - timedelta(days=1)), str(day + timedelta(days=1))]
    instant = read_instant(value)
    if instant is None:
        return [value]
    utc = instant.utc
    plus_530 = (utc + timedelta(hours=5, minutes=30)).strftime("%Y-%m-%dT%H:%M:%S") + "+05:30"
    minus_4 = (utc - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S") + "-04:00"
    bare = utc.strftime("%Y-%m-%dT%H:%M:%S")
    after = (utc + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [value, f"{bare}Z", f"{bare}.000Z", f"{bare}+00:00", f"{bare}.000000+00:00",
            plus_530, minus_4, f"{bare}.5Z", after, f"{bare}z".replace("T", "t")]


# Text no served value is, or only literally: SQL LIKE wildcards, quotes, a logical, an escape.
ODD = st.sampled_from(("no-such-value", "%", "_", "'", "''", " AND ", "\\", "@", ".", "-"))


def _values(field: Field, op: str, served: list[str]) -> st.SearchStrategy[str]:
    picked = st.sampled_from(served)
    if op == "~":  # a piece of 1 to 4 characters of a served value, its ASCII case maybe swapped
        return st.one_of(picked.flatmap(lambda v: st.tuples(
            st.integers(0, max(0, len(v) - 1)), st.integers(1, 4), st.booleans()).map(
            lambda t: (_swap_ascii_case if t[2] else str)(v[t[0]:t[0] + t[1]]))), ODD)
    if field.kind.is_time:
        return picked.flatmap(lambda v: st.sampled_from(_respelled_times(v)))
    if field.kind is Kind.NUMBER:
        return picked.flatmap(lambda v: st.sampled_from(
            [v, f"{v}0" if "." in v else f"{v}.0", str(float(v) + 0.5), str(float(v) - 1)]))
    return st.one_of(picked, picked.map(_swap_ascii_case), ODD)


@st.composite
def _filters(draw: st.DrawFn, records: dict[str, list[dict]], version: str
             ) -> tuple[str, Filter]:
    collection = draw(st.sampled_from(sorted(records)))
    cat = catalogue(collection, version)
    pool = _pool(records[collection], cat)

    def predicate() -> Predicate:
        # The operator first, so the few date and number fields get their share of filters.
        op = draw(st.sampled_from(OPERATORS))
        name = draw(st.sampled_from(sorted(n for n in pool if op in ALLOWED[cat.fields[n].kind])))
        return Predicate(name, op, draw(_values(cat.fields[name], op, pool[name])))

    logical = draw(st.sampled_from((None, "AND", "OR")))
    first = predicate()
    return collection, Filter((first, predicate()), logical) if logical else Filter((first,))


_pools: dict[tuple[str, str], dict[str, list[str]]] = {}


def _ids(records: list[dict]) -> set[str]:
    return {r["sourcedId"] for r in records}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_checker_and_the_mock_select_the_same_records(served: Served,
                                                          version: str) -> None:
    records = served.records[version]

    @settings(max_examples=examples(EXAMPLES),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_filters(records, version))
    def agree(case: tuple[str, Filter]) -> None:
        collection, flt = case
        text = str(flt)
        assert parse_filter(text) == flt
        # The mock documents ~ as ignoring ASCII case: one of the three readings the checker
        # accepts (OR-FILTER-001), so that is the reading compared here.
        checked = check_filter(flt, catalogue(collection, version))
        mine = _ids([r for r in records[collection] if checked.matches(r, Contains.ASCII)])
        answer = served.ask(version, collection, flt)
        assert answer.status_code == 200, f"{collection}?filter={text}: {answer.text}"
        sql = _ids(answer.json()[collection])
        mock_cat = mock_query.catalog(collection, version)
        python = _ids([r for r in records[collection]
                       if mock_query.matches(mock_query.parse_filter(text), r, mock_cat)])
        assert mine == sql == python, (
            f"/{collection}?filter={text} ({version}): checker {len(mine)}, mock SQL "
            f"{len(sql)}, mock matches {len(python)}; only the checker: "
            f"{sorted(mine - sql)[:3]}, only the mock SQL: {sorted(sql - mine)[:3]}")

    agree()


# --- documented differences -----------------------------------------------------------------


def test_documented_difference_in_the_catalogue() -> None:
    """The checker makes every scalar under a GUIDRef a field (``user.href``, ``orgs.type``);
    the mock only a single GUIDRef's ``sourcedId`` and ``type`` and an array of GUIDRefs'
    ``sourcedId``. The spec does not list filterable sub-fields, so the mock may refuse the
    others (400 invalid_filter_field); the checker never asks for them. Everything else
    agrees: the same names, list-ness and kinds."""
    kinds = {"text": {Kind.TEXT, Kind.ENUM, Kind.REFERENCE}, "number": {Kind.NUMBER},
             "date": {Kind.DATE}, "datetime": {Kind.DATETIME}}
    for version in ("1.2", "1.1"):
        for collection in collections(version):
            mine = catalogue(collection, version)
            try:
                theirs = mock_query.catalog(collection, version).fields
            except ValueError:  # the mock names tables, not the alias collections
                assert collection in {"schools", "students", "teachers", "terms",
                                      "gradingPeriods"}
                continue
            extra = set(mine.fields) - set(theirs)
            assert set(theirs) <= set(mine.fields), (collection, set(theirs) - set(mine.fields))
            for name in extra:
                field = mine.fields[name]
                assert name.endswith(".href") or (field.many and name.endswith(".type")), name
            for name in theirs:
                assert mine.fields[name].kind in kinds[theirs[name].kind], name
                assert mine.fields[name].many == theirs[name].multi, name


def _day_of(served: Served, version: str = "1.2") -> tuple[str, set[str]]:
    """A UTC day some users were last modified on (not at midnight), and those users."""
    users = served.records[version]["users"]
    stamp = next(r["dateLastModified"] for r in users
                 if not r["dateLastModified"].endswith("T00:00:00Z"))
    day = stamp[:10]
    return day, {r["sourcedId"] for r in users if r["dateLastModified"][:10] == day}


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_documented_difference_a_date_against_a_date_time(served: Served,
                                                          version: str) -> None:
    """``dateLastModified>'YYYY-MM-DD'`` is the spec's own example, and the spec does not say
    what a date means against a date-time. The checker compares them as dates (the
    date-time's UTC day, spec notes §7.3 "compare as dates"): ``>`` a day means after that
    day. The mock compares ``=`` and ``!=`` the same way but the ordering operators as
    instants, the date standing for its midnight UTC: ``>`` a day includes that day after
    midnight. The two agree on = and != and differ by exactly the records of that day on the
    four ordering operators; the checker never sends such a filter."""
    users = served.records[version]["users"]
    cat = catalogue("users", version)
    day, that_day = _day_of(served, version)
    assert that_day
    for op, mock_has_that_day in (("=", True), ("!=", False), (">", True), (">=", True),
                                  ("<", False), ("<=", False)):
        flt = Filter((Predicate("dateLastModified", op, day),))
        checked = check_filter(flt, cat)
        mine = _ids([r for r in users if checked.matches(r)])
        answer = served.ask(version, "users", flt)
        assert answer.status_code == 200
        theirs = _ids(answer.json()["users"])
        checker_has_that_day = op in ("=", ">=", "<=")
        assert (that_day <= mine) is checker_has_that_day, op
        assert (that_day <= theirs) is mock_has_that_day, op
        assert mine - that_day == theirs - that_day, op  # the rest agrees


def test_documented_difference_sub_microsecond_fractions(served: Served) -> None:
    """The mock reads date-times to the microsecond (a seventh fractional digit is cut); the
    checker keeps fractions exactly. So ``…:55.0000001Z`` equals ``…:55Z`` for the mock and
    is 100 ns after it for the checker. No provider serves such stamps in the tiny district
    and the checker draws its values from what is served, so OR-FILTER-001 never meets it."""
    users = served.records["1.2"]["users"]
    stamp = users[0]["dateLastModified"]
    assert stamp.endswith("Z") and "." not in stamp
    flt = Filter((Predicate("dateLastModified", "=", stamp[:-1] + ".0000001Z"),))
    mine = _ids([r for r in users if check_filter(flt, catalogue("users", "1.2")).matches(r)])
    theirs = _ids(served.ask("1.2", "users", flt).json()["users"])
    assert not mine
    assert users[0]["sourcedId"] in theirs
