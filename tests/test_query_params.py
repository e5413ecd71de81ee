"""Query parameter checking: limit, offset, sort, orderBy, filter, fields."""

from __future__ import annotations

import pytest

from mock_provider.errors import OneRosterError
from mock_provider.query import (
    CollectionQuery,
    Filter,
    Predicate,
    parse_collection_query,
    parse_single_query,
    selectable_fields,
)


def _parse(items: list[tuple[str, str]], version: str = "1.2", table: str = "users", **kw):
    return parse_collection_query(items, table=table, version=version, **kw)


def _error(items: list[tuple[str, str]], version: str = "1.2", **kw) -> OneRosterError:
    with pytest.raises(OneRosterError) as caught:
        _parse(items, version, **kw)
    assert caught.value.status == 400
    return caught.value


def test_defaults() -> None:
    query, warnings = _parse([])
    assert query == CollectionQuery(100, 0, None, False, None, None)
    assert warnings == []
    assert _parse([], default_limit=25)[0].limit == 25


def test_everything_at_once() -> None:
    query, warnings = _parse([
        ("limit", "10"), ("offset", "20"), ("sort", "familyName"), ("orderBy", "desc"),
        ("filter", "roles.role='student'"), ("fields", "givenName,familyName"),
        ("fields", "sourcedId"), ("unknown", "ignored"), ("Limit", "ignored too"),
    ])
    assert query == CollectionQuery(
        10, 20, "familyName", True, Filter((Predicate("roles.role", "=", "student"),)),
        ("givenName", "familyName", "sourcedId"))
    assert warnings == []


@pytest.mark.parametrize("value", ["1", "50000", "007", "0" * 40 + "9"])
def test_good_limits(value: str) -> None:
    assert _parse([("limit", value)])[0].limit == int(value)


@pytest.mark.parametrize("value", ["0", "-1", "abc", "1e3", "1.5", "1.0", " 5", "5 ", "+5", "",
                                   "0x10", "５", "1_000"])
def test_bad_limits(value: str) -> None:
    error = _error([("limit", value)])
    assert error.code_minor == "invaliddata"
    assert error.description == f"limit must be a whole number from 1 to 50000; got '{value}'"


@pytest.mark.parametrize("value", ["50001", "99999999999999999999", "9" * 5000,
                                   "0" * 30 + "50001"])
def test_limit_above_maximum_is_rejected(value: str) -> None:
    error = _error([("limit", value)])
    assert error.code_minor == "invaliddata"
    assert error.description.startswith("limit '")
    assert error.description.endswith("' is above the maximum of 50000")
    assert len(error.description) < 120
    assert _error([("limit", "11")], max_limit=10).description == (
        "limit '11' is above the maximum of 10")


@pytest.mark.parametrize("value", ["0", "7", "2147483647"])
def test_good_offsets(value: str) -> None:
    assert _parse([("offset", value)])[0].offset == int(value)


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "1.5", " 5", "+1", ""])
def test_bad_offsets(value: str) -> None:
    error = _error([("offset", value)])
    assert error.code_minor == "invaliddata"
    assert error.description == (
        f"offset must be a whole number from 0 to 2147483647; got '{value}'")


def test_huge_offset() -> None:
    assert _error([("offset", "2147483648")]).description == (
        "offset '2147483648' is above the maximum of 2147483647")


@pytest.mark.parametrize("key", ["limit", "offset", "sort", "orderBy", "filter"])
def test_repeated_parameters(key: str) -> None:
    value = {"limit": "5", "offset": "5", "sort": "familyName", "orderBy": "asc",
             "filter": "givenName='a'"}[key]
    error = _error([(key, value), (key, value)])
    assert error.code_minor == "invaliddata"
    assert error.description == (
        f"query parameter '{key}' is given more than once ('{value}' and '{value}')")


@pytest.mark.parametrize("value", ["ASC", "descending", "", "up"])
def test_bad_order_by(value: str) -> None:
    for items in ([("sort", "familyName"), ("orderBy", value)], [("orderBy", value)]):
        error = _error(items)
        assert error.code_minor == "invaliddata"
        assert error.description == f"orderBy must be 'asc' or 'desc'; got '{value}'"


def test_order_by_without_sort_is_ignored() -> None:
    query, _ = _parse([("orderBy", "desc")])
    assert (query.sort, query.descending) == (None, False)
    query, _ = _parse([("sort", "familyName")])
    assert (query.sort, query.descending) == ("familyName", False)


@pytest.mark.parametrize("sort", ["nope", "roles.role", "grades", "metadata", ""])
def test_unknown_sort_field(sort: str) -> None:
    query, warnings = _parse([("sort", sort), ("orderBy", "desc")])
    assert (query.sort, query.descending, warnings) == (None, False, [])
    query, warnings = _parse([("sort", sort), ("orderBy", "desc")], "1.1")
    assert (query.sort, query.descending) == (None, False)
    assert warnings == [("invalid_sort_field", f"sort field '{sort}' is not a sortable field "
                                               "of users; the data is not sorted")]


def test_sort_on_dotted_and_version_specific_fields() -> None:
    assert _parse([("sort", "primaryOrg.sourcedId")])[0].sort == "primaryOrg.sourcedId"
    assert _parse([("sort", "role")], "1.1")[0].sort == "role"
    assert _parse([("sort", "role")], "1.2")[0].sort is None


def test_filter_errors_surface_while_parsing() -> None:
    error = _error([("filter", "role='student'")])
    assert (error.code_minor, error.description) == (
        "invalid_filter_field", "unknown filter field 'role' for users")
    error = _error([("filter", "givenName=x")])
    assert error.code_minor == "invaliddata"
    assert _error([("filter", "")]).description == "invalid filter: the filter is empty"


def test_fields_union_keeps_order_and_drops_duplicates() -> None:
    query, _ = _parse([("fields", "familyName,givenName"), ("fields", "givenName"),
                       ("fields", " sourcedId , familyName")])
    assert query.fields == ("familyName", "givenName", "sourcedId")


@pytest.mark.parametrize("values", [[""], ["a,,b"], ["givenName,"], [",givenName"],
                                    ["givenName", ""], [" "]])
def test_blank_fields(values: list[str]) -> None:
    items = [("fields", value) for value in values]
    error = _error(items)
    assert error.code_minor == "invalid_selection_field"
    blank = next(v for v in values if not all(part.strip() for part in v.split(",")))
    assert error.description == f"fields '{blank}' has a blank field name"
    assert _error(items, "1.1").code_minor == "invalid_blank_selection_field"


def test_unknown_selection_field() -> None:
    items = [("fields", "givenName,nope,role")]
    error = _error(items)
    assert error.code_minor == "invalid_selection_field"
    assert error.description == "fields names unknown field(s) 'nope', 'role' for users"
    query, warnings = _parse(items, strict_fields=False)
    assert (query.fields, warnings) == (None, [])
    query, warnings = _parse([("fields", "givenName,nope")], "1.1")
    assert query.fields is None
    assert warnings == [("invalid_selection_field",
                         "fields names unknown field(s) 'nope' for users; all fields are returned")]
    assert _parse([("fields", "role,orgs")], "1.1")[0].fields == ("role", "orgs")


def test_metadata_is_selectable() -> None:
    assert "metadata" in selectable_fields("users", "1.2")
    assert _parse([("fields", "metadata")])[0].fields == ("metadata",)


def test_version_1_1_warnings_accumulate() -> None:
    _, warnings = _parse([("sort", "nope"), ("fields", "nope")], "1.1")
    assert [code for code, _ in warnings] == ["invalid_sort_field", "invalid_selection_field"]


def test_single_record_query() -> None:
    assert parse_single_query([], table="classes", version="1.2") == (None, [])
    assert parse_single_query([("fields", "title"), ("limit", "abc"), ("fields", "title,school")],
                              table="classes", version="1.2") == (("title", "school"), [])
    with pytest.raises(OneRosterError) as caught:
        parse_single_query([("fields", "nope")], table="classes", version="1.2")
    assert caught.value.code_minor == "invalid_selection_field"
    fields, warnings = parse_single_query([("fields", "nope")], table="classes", version="1.1")
    assert fields is None and warnings[0][0] == "invalid_selection_field"
    assert parse_single_query([("fields", "nope")], table="classes", version="1.2",
                              strict_fields=False) == (None, [])
    with pytest.raises(OneRosterError) as caught:
        parse_single_query([("fields", "")], table="classes", version="1.1")
    assert caught.value.code_minor == "invalid_blank_selection_field"


def test_unknown_table_or_version() -> None:
    with pytest.raises(ValueError, match=r"1\.1 has no scoreScales"):
        _parse([], "1.1", table="scoreScales")
    with pytest.raises(ValueError, match="unknown OneRoster version"):
        _parse([], "1.0")
    with pytest.raises(ValueError, match="no record table"):
        _parse([], table="user_orgs")
