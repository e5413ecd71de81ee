"""The SQL (``fetch_page``) agrees with the Python reference (``matches``, ``sort_key``) on real
district records, and on a copy of them bent into odd but possible shapes (offsets, wrong JSON
types, missing and empty fields) that the generator itself never writes."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_provider.district.quirks import QUIRKS
from mock_provider.errors import OneRosterError
from mock_provider.query import (
    CollectionQuery,
    catalog,
    fetch_page,
    install_functions,
    matches,
    order_sql,
    parse_filter,
    select_fields,
    sort_key,
    values_of,
    where_sql,
)
from mock_provider.query.fields import COLUMNS
from mock_provider.query.values import canonical_time
from mock_provider.record_forms import doc_sql
from mock_provider.refs import render_refs
from mock_provider.store import Store
from mock_provider.tables import NOT_IN_V11, RECORD_TABLES, columns

from .conftest import examples, make_district

# The loaded profile's settings (conftest.py) with the slow-draw health check off: a draw
# reads real district rows.
PROFILE = settings(suppress_health_check=[HealthCheck.too_slow])

TABLES = ["users", "classes", "enrollments", "academicSessions", "lineItems", "results", "orgs",
          "demographics", "courses", "categories"]
CASES = [(t, v) for t in TABLES for v in ("1.2", "1.1")] + [("scoreScales", "1.2")]
ODD_TABLES = ["users", "classes", "enrollments", "lineItems", "results"]
ODD_CASES = [(t, v) for t in ODD_TABLES for v in ("1.2", "1.1")]
ABSENT_TEXT = ["", "zzz", "'", "O'Brien", "%", "_", "x' OR '1'='1", "NULL", "Ω"]
BIG = 1_000_000


class Corpus:
    """A store's connection and, per (table, version), its served records in store order.

    Deliberately not a dataclass: as a dataclass fixture, Hypothesis reported a failing example
    as FlakyStrategyDefinition instead of showing it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.records: dict[tuple[str, str], list[dict]] = {}
        self.candidates: dict[tuple[str, str, str], list[str]] = {}

    def rows(self, table: str, version: str) -> list[dict]:
        key = (table, version)
        if key not in self.records:
            doc = doc_sql(table, version)
            self.records[key] = [
                json.loads(render_refs(text, version, "https://h"))
                for (text,) in self.conn.execute(
                    f"SELECT {doc} FROM {table} WHERE hidden = 0 ORDER BY seq")]
        return self.records[key]

    def values(self, table: str, version: str, name: str) -> list[str]:
        """Filter values worth trying: ones the records hold, variants of them, absent ones."""
        key = (table, version, name)
        if key not in self.candidates:
            field_ = catalog(table, version).fields[name]
            present: set = set()
            for record in self.rows(table, version):
                present.update(values_of(record, field_) or ())
            self.candidates[key] = sorted(_variants(field_.kind, present))
        return self.candidates[key]


def _variants(kind: str, present: set) -> set[str]:
    out: set[str] = set()
    if kind == "number":
        for number in present:
            out.update({repr(number), repr(number + 0.5), repr(number - 0.25), f"{number:g}"})
        return out | {"0", "-1", "1e9", "100"}
    if kind in ("date", "datetime"):
        for key in present:
            out.update({key, key[:10]})
            if len(key) > 10:
                moment = datetime.fromisoformat(key.replace("Z", "+00:00"))
                out.add(moment.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat())
                out.add((moment - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S-01:00"))
            else:
                out.update({f"{key}T00:00:00Z", f"{key}T23:59:59-03:00"})
        return out | {"1999-01-01", "2100-01-01T00:00:00Z", "2026-09-01T00:00:00+14:00"}
    for text in present:
        out.update({text, text.upper(), text.swapcase(), text[1:4], text[:-1]})
    return out | set(ABSENT_TEXT)


def _ops(kind: str) -> list[str]:
    ops = ["=", "!=", ">", ">=", "<", "<="]
    return [*ops, "~"] if kind == "text" else ops


@st.composite
def filters(draw: st.DrawFn, corpus: Corpus, table: str, version: str) -> str:
    names = sorted(catalog(table, version).fields)
    parts = []
    for _ in range(draw(st.integers(1, 2))):
        name = draw(st.sampled_from(names))
        kind = catalog(table, version).fields[name].kind
        op = draw(st.sampled_from(_ops(kind)))
        value = draw(st.sampled_from(corpus.values(table, version, name)))
        space = draw(st.sampled_from(["", " "]))
        parts.append(f"{name}{space}{op}{space}'{value.replace(chr(39), chr(39) * 2)}'")
    return f" {draw(st.sampled_from(['AND', 'OR']))} ".join(parts)


def _page(corpus: Corpus, table: str, version: str, text: str | None = None,
          sort: str | None = None, descending: bool = False, limit: int = BIG,
          offset: int = 0) -> tuple[int, list[dict]]:
    query = CollectionQuery(limit, offset, sort, descending,
                            parse_filter(text) if text else None, None)
    total, texts = fetch_page(corpus.conn, table, version, query)
    return total, [json.loads(render_refs(t, version, "https://h")) for t in texts]


def _expected(corpus: Corpus, table: str, version: str, text: str | None = None,
              sort: str | None = None, descending: bool = False) -> list[dict]:
    cat = catalog(table, version)
    rows = corpus.rows(table, version)
    if text:
        parsed = parse_filter(text)
        rows = [r for r in rows if matches(parsed, r, cat)]
    if sort:
        rows = sorted(rows, key=lambda r: sort_key(r, cat.fields[sort]), reverse=descending)
    return rows


def _sortable(table: str, version: str) -> list[str]:
    cat = catalog(table, version)
    return sorted(name for name in cat.fields if cat.sortable(name))


# --- stores -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def quirky(districts_dir: Path) -> Iterator[Corpus]:
    with Store(make_district(districts_dir, 42, 60, frozenset(QUIRKS))) as store:
        yield Corpus(store.conn)


def _compact(record: dict) -> str:
    """The store's serialisation, which ``render_refs`` relies on."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _bend(rng: random.Random, table: str, record: dict) -> dict:
    """One plausible deviation from the generator's tidy output."""
    choice = rng.randrange(12)
    out = dict(record)
    if choice == 0:
        moment = datetime.fromisoformat(out["dateLastModified"].replace("Z", "+00:00"))
        zone = timezone(timedelta(minutes=rng.choice([-600, -481, 330, 840, 0])))
        out["dateLastModified"] = moment.astimezone(zone).isoformat(
            timespec=rng.choice(["seconds", "milliseconds", "microseconds"]))
    elif choice == 1:
        out["dateLastModified"] = out["dateLastModified"].lower()
    elif choice == 2 and len(out) > 2:
        del out[rng.choice([k for k in out if k != "sourcedId"])]
    elif choice == 3:
        key = rng.choice([k for k in out if k != "sourcedId"])
        out[key] = rng.choice([7, None, {"a": 1}, [], True, 2.5, "2026-01-01"])
    elif choice == 4:
        out["grades"] = rng.choice([[9, "10", None], "09", {}, [], ["12", "KG"]])
    elif choice == 5 and table == "users":
        out["roles"] = rng.choice([[], ["student"], {"role": "student"},
                                   [{"role": 5, "org": {"@o": "x"}}, {"role": "teacher"}],
                                   [{"roleType": "primary", "role": "aide", "org": "o"}]])
    elif choice == 6 and table == "users":
        out["userIds"] = [{"type": "x"}, {"identifier": 5}, "ST-1"]
    elif choice == 7 and table == "enrollments":
        out["beginDate"] = rng.choice(["2026-08-19T22:00:00-05:00", "2026-08-19T01:00:00+02:00",
                                       "bad", "2026-02-30"])
    elif choice == 8 and table == "lineItems":
        out["assignDate"] = rng.choice(["2026-09-12", "2026-09-12T08:00:00.5+01:00", 20260912])
    elif choice == 9 and table == "results":
        out["score"] = rng.choice(["7", None, -0.0, 1e300, 3])
    elif choice == 10:
        for key in ("school", "class", "user", "lineItem", "course"):
            if key in out:
                out[key] = rng.choice([{"@o": 5}, "abc", {}])
                break
    elif choice == 11 and table == "classes":
        out["terms"] = rng.choice([[], [{"@s": "t1"}, "t2", {"@s": 3}], {"@s": "t1"}])
    return out


@pytest.fixture(scope="session")
def odd(quirky: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    path = tmp_path_factory.mktemp("odd") / "odd.sqlite"
    conn = sqlite3.connect(path)
    rng = random.Random(1234)
    for table in ODD_TABLES:
        cols = columns(table)
        conn.execute(f"CREATE TABLE {table} (seq INTEGER PRIMARY KEY, {', '.join(cols)})")
        rows = quirky.conn.execute(
            f"SELECT seq, sourcedId, hidden, {doc_sql(table, '1.2')} FROM {table}")
        for seq, sid, hidden, text in rows:
            record = json.loads(text)
            if rng.random() < 0.4:
                record = _bend(rng, table, record)
            # Both texts kept: the 1.1 form of a bent record is its 1.2 text.
            text = _compact(record)
            conn.execute(f"INSERT INTO {table} (seq, sourcedId, hidden, json12, json11) "
                         "VALUES (?,?,?,?,?)", (seq, sid, hidden, text, text))
        # columns hold the JSON's text value or NULL, as the builder writes them
        for name, column in {"status": "status", "dateLastModified": "dateLastModified",
                             **COLUMNS[table]}.items():
            path = catalog(table, "1.2").fields[name].json_path
            conn.execute(f"UPDATE {table} SET {column} = CASE WHEN json_type(json12, '{path}') "
                         f"= 'text' THEN json_extract(json12, '{path}') END")
    conn.commit()
    yield Corpus(conn)
    conn.close()


# --- the properties -----------------------------------------------------------------------


def _check_filter(corpus: Corpus, table: str, version: str, data: st.DataObject) -> None:
    text = data.draw(filters(corpus, table, version), label="filter")
    total, got = _page(corpus, table, version, text)
    expected = _expected(corpus, table, version, text)
    assert total == len(expected)
    assert [r["sourcedId"] for r in got] == [r["sourcedId"] for r in expected]
    assert got == expected


def _check_sort(corpus: Corpus, table: str, version: str, data: st.DataObject) -> None:
    sort = data.draw(st.sampled_from(_sortable(table, version)), label="sort")
    descending = data.draw(st.booleans(), label="descending")
    text = data.draw(st.none() | filters(corpus, table, version), label="filter")
    _, got = _page(corpus, table, version, text, sort, descending)
    expected = _expected(corpus, table, version, text, sort, descending)
    assert [r["sourcedId"] for r in got] == [r["sourcedId"] for r in expected]


def _check_paging(corpus: Corpus, table: str, version: str, data: st.DataObject) -> None:
    sort = data.draw(st.none() | st.sampled_from(_sortable(table, version)), label="sort")
    descending = data.draw(st.booleans(), label="descending")
    text = data.draw(st.none() | filters(corpus, table, version), label="filter")
    full_total, full = _page(corpus, table, version, text, sort, descending)
    limit = data.draw(st.integers(max(1, full_total // 12), full_total + 3), label="limit")
    start = offset = data.draw(st.integers(0, limit), label="first offset")
    walked = []
    while True:
        total, page = _page(corpus, table, version, text, sort, descending, limit, offset)
        assert total == full_total
        assert len(page) == min(limit, max(0, full_total - offset))
        if not page:
            break
        walked.extend(page)
        offset += limit
    assert [r["sourcedId"] for r in walked] == [r["sourcedId"] for r in full[start:]]


@pytest.mark.parametrize(("table", "version"), CASES)
@settings(PROFILE, max_examples=examples(40))
@given(data=st.data())
def test_filter_sql_equals_python(quirky: Corpus, table: str, version: str,
                                  data: st.DataObject) -> None:
    _check_filter(quirky, table, version, data)


@pytest.mark.parametrize(("table", "version"), ODD_CASES)
@settings(PROFILE, max_examples=examples(40))
@given(data=st.data())
def test_filter_sql_equals_python_on_odd_data(odd: Corpus, table: str, version: str,
                                              data: st.DataObject) -> None:
    _check_filter(odd, table, version, data)


@pytest.mark.parametrize(("table", "version"), CASES)
@settings(PROFILE, max_examples=examples(12))
@given(data=st.data())
def test_sort_sql_equals_python(quirky: Corpus, table: str, version: str,
                                data: st.DataObject) -> None:
    _check_sort(quirky, table, version, data)


@pytest.mark.parametrize(("table", "version"), ODD_CASES)
@settings(PROFILE, max_examples=examples(12))
@given(data=st.data())
def test_sort_sql_equals_python_on_odd_data(odd: Corpus, table: str, version: str,
                                            data: st.DataObject) -> None:
    _check_sort(odd, table, version, data)


@pytest.mark.parametrize(("table", "version"), CASES)
@settings(PROFILE, max_examples=examples(8))
@given(data=st.data())
def test_paging_walk(quirky: Corpus, table: str, version: str, data: st.DataObject) -> None:
    _check_paging(quirky, table, version, data)


@pytest.mark.parametrize(("table", "version"), ODD_CASES)
@settings(PROFILE, max_examples=examples(8))
@given(data=st.data())
def test_paging_walk_on_odd_data(odd: Corpus, table: str, version: str,
                                 data: st.DataObject) -> None:
    _check_paging(odd, table, version, data)


# --- targeted checks ------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["quirky", "zoned"])
def test_columns_hold_what_the_json_holds(which: str, request: pytest.FixtureRequest) -> None:
    """Every column the catalogs use equals the served JSON value, in both versions, on a
    district with every quirk and on a K-12 one (whose 1.1 demographics drop some sexes), so a
    builder change cannot silently split SQL from Python."""
    conn = (request.getfixturevalue("quirky").conn if which == "quirky"
            else request.getfixturevalue("zoned_store").conn)
    checked = 0
    for table in RECORD_TABLES:
        for version in ("1.2", "1.1"):
            if version == "1.1" and table in NOT_IN_V11:
                continue
            cat = catalog(table, version)
            for found in cat.fields.values():
                if found.column is None or found.constant is not None:
                    continue
                json_value = (f"CASE WHEN json_type({cat.doc}, '{found.json_path}') = 'text' "
                              f"THEN json_extract({cat.doc}, '{found.json_path}') END")
                differ = conn.execute(f"SELECT count(*) FROM {table} "
                                      f"WHERE {found.column} IS NOT {json_value}").fetchone()[0]
                assert differ == 0, (table, version, found.name)
                checked += 1
    assert checked > 80


_INSTANTS = ["2026-03-01T23:30:00-05:00", "2026-03-02T00:30:00+02:00", "2026-03-01T12:00:00Z",
             "2026-03-02T00:00:00Z", "2026-03-01T23:59:59.999999Z", "2026-03-02T13:59:00+14:00",
             "2026-03-01T14:00:00-10:00", "2026-03-02", "2026-03-01", "garbage"]


def test_date_times_with_offsets_across_midnight(request: pytest.FixtureRequest) -> None:
    conn = sqlite3.connect(":memory:")
    request.addfinalizer(conn.close)
    conn.execute(f"CREATE TABLE users (seq INTEGER PRIMARY KEY, {', '.join(columns('users'))})")
    for seq, value in enumerate(_INSTANTS, 1):
        record = {"sourcedId": f"u{seq}", "dateLastModified": value}
        conn.execute("INSERT INTO users (seq, sourcedId, dateLastModified, hidden, json12) "
                     "VALUES (?, ?, ?, 0, ?)", (seq, f"u{seq}", value, _compact(record)))
    corpus = Corpus(conn)
    values = ["2026-03-01", "2026-03-02", "2026-02-28", "2026-03-03", "2026-03-02T00:00:00Z",
              "2026-03-01T23:00:00-01:00", "2026-03-02T04:30:00+04:30", "2026-03-01T17:30:00Z"]
    for op in ("=", "!=", ">", ">=", "<", "<="):
        for value in values:
            text = f"dateLastModified{op}'{value}'"
            got = [r["sourcedId"] for r in _page(corpus, "users", "1.2", text)[1]]
            want = [r["sourcedId"] for r in _expected(corpus, "users", "1.2", text)]
            assert got == want, text
    # the same instant written three ways, and the date that a date-time equals
    assert [r["sourcedId"] for r in _page(corpus, "users", "1.2",
                                          "dateLastModified='2026-03-02T00:00:00.000Z'")[1]] == [
        "u4", "u7", "u8"]


_zones = st.integers(-1439, 1439).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_moments = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
                        timezones=_zones)


@settings(PROFILE, max_examples=examples(200))
@given(_moments, _moments, st.sampled_from(["seconds", "milliseconds", "microseconds"]))
def test_canonical_time_is_utc_and_ordered(first: datetime, second: datetime,
                                           spec: str) -> None:
    def cut(moment: datetime) -> datetime:
        step = {"seconds": 1_000_000, "milliseconds": 1000, "microseconds": 1}[spec]
        return moment.replace(microsecond=moment.microsecond // step * step)

    first, second = cut(first), cut(second)
    key = canonical_time(first.isoformat(timespec=spec))
    assert key == first.astimezone(UTC).replace(tzinfo=None).isoformat(
        timespec="microseconds") + "Z"
    other = canonical_time(second.isoformat(timespec=spec))
    assert (key < other) == (first < second) and (key == other) == (first == second)


def test_fetch_page_scoping_and_edges(quirky: Corpus) -> None:
    everything = _expected(quirky, "enrollments", "1.2")
    some_class = everything[0]["class"]["sourcedId"]
    query = CollectionQuery(5, 0, "user.sourcedId", True, parse_filter("role='student'"), None)
    total, texts = fetch_page(quirky.conn, "enrollments", "1.2", query,
                              "hidden = 0 AND class_id = ?", (some_class,))
    students = [r for r in everything
                if r["class"]["sourcedId"] == some_class and r["role"] == "student"]
    assert total == len(students) > 5
    expected = sorted(students, key=lambda r: r["user"]["sourcedId"], reverse=True)[:5]
    assert [json.loads(t)["sourcedId"] for t in texts] == [r["sourcedId"] for r in expected]
    past = CollectionQuery(5, total, None, False, parse_filter("role='student'"), None)
    assert fetch_page(quirky.conn, "enrollments", "1.2", past, "class_id = ?",
                      (some_class,)) == (total, [])
    hidden = quirky.conn.execute("SELECT count(*) FROM enrollments").fetchone()[0]
    assert fetch_page(quirky.conn, "enrollments", "1.2",
                      CollectionQuery(1, 0, None, False, None, None), "")[0] == hidden
    assert hidden > len(everything)


def test_order_sql() -> None:
    users = catalog("users", "1.2")
    assert order_sql(None, True, users) == 'ORDER BY "users"."seq"'
    assert order_sql("familyName", True, users) == (
        'ORDER BY "users"."familyName" DESC, "users"."seq"')
    with pytest.raises(OneRosterError) as caught:
        order_sql("roles.role", False, users)
    assert caught.value.code_minor == "invalid_sort_field"


def test_where_sql_binds_every_value() -> None:
    sql, params = where_sql(parse_filter("roles.org.sourcedId='a''b' OR dateLastModified>"
                                         "'2026-01-01T00:00:00+01:00'"), catalog("users", "1.2"))
    assert "a'b" not in sql and "2026" not in sql
    assert params == ["a'b", "2025-12-30", "2025-12-31T23:00:00.000000Z"]


def test_install_functions_on_a_fresh_connection(quirky: Corpus,
                                                 request: pytest.FixtureRequest) -> None:
    conn = sqlite3.connect(f"file:{quirky.conn.execute('PRAGMA database_list').fetchone()[2]}"
                           "?mode=ro", uri=True)
    request.addfinalizer(conn.close)
    sql, params = where_sql(parse_filter("dateLastModified>'2000-01-01'"),
                            catalog("orgs", "1.2"))
    with pytest.raises(sqlite3.OperationalError, match="oneroster_time"):
        conn.execute(f"SELECT count(*) FROM orgs WHERE {sql}", params)
    install_functions(conn)
    assert conn.execute(f"SELECT count(*) FROM orgs WHERE {sql}", params).fetchone()[0] > 0


def test_select_fields() -> None:
    text = '{"sourcedId":"x","title":"Ünïcode ✓","school":{"@o":"s"},"grades":["09"],"n":1.0}'
    assert select_fields(text, None) is text
    assert select_fields(text, ("grades", "sourcedId", "nope")) == (
        '{"sourcedId":"x","grades":["09"]}')
    assert select_fields(text, ("title", "school", "n")) == (
        '{"title":"Ünïcode ✓","school":{"@o":"s"},"n":1.0}')
    assert select_fields(text, ()) == "{}"
