"""The filter parser and the Python reference semantics (``matches``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mock_provider.errors import OneRosterError
from mock_provider.query import Filter, Predicate, catalog, matches, parse_filter, where_sql
from mock_provider.query.values import canonical_time

from .conftest import examples

P = Predicate


@pytest.mark.parametrize(("text", "expected"), [
    ("familyName='jones'", Filter((P("familyName", "=", "jones"),))),
    ("familyName = 'jones'", Filter((P("familyName", "=", "jones"),))),
    ("  familyName   !=   'jones'  ", Filter((P("familyName", "!=", "jones"),))),
    ("score>='7.5'", Filter((P("score", ">=", "7.5"),))),
    ("score<='7'", Filter((P("score", "<=", "7"),))),
    ("score<'7'", Filter((P("score", "<", "7"),))),
    ("title~'math'", Filter((P("title", "~", "math"),))),
    ("email='x@y.example'", Filter((P("email", "=", "x@y.example"),))),
    ("familyName='jones' AND dateLastModified>'2015-01-01'",
     Filter((P("familyName", "=", "jones"), P("dateLastModified", ">", "2015-01-01")), "AND")),
    ("roles.role='student' OR roles.org.sourcedId='o-1'",
     Filter((P("roles.role", "=", "student"), P("roles.org.sourcedId", "=", "o-1")), "OR")),
    ("a='x'   AND   b='y'", Filter((P("a", "=", "x"), P("b", "=", "y")), "AND")),
    ("familyName='O''Brien'", Filter((P("familyName", "=", "O'Brien"),))),
    ("title=''''", Filter((P("title", "=", "'"),))),
    ("title=''", Filter((P("title", "=", ""),))),
    ("title='a AND b=''c'''", Filter((P("title", "=", "a AND b='c'"),))),
    ("title='x=y OR z'", Filter((P("title", "=", "x=y OR z"),))),
    ("title='100% & done, \"ok\"?'", Filter((P("title", "=", '100% & done, "ok"?'),))),
    ("userIds.identifier='S-1'", Filter((P("userIds.identifier", "=", "S-1"),))),
])
def test_parser_accepts(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(("text", "description"), [
    ("", "invalid filter: the filter is empty"),
    ("   ", "invalid filter: the filter is empty"),
    ("role=student",
     "invalid filter \"role=student\": the value after 'role=' must be in single quotes "
     "(position 6)"),
    ('role="student"',
     "invalid filter \"role=\"student\"\": the value after 'role=' must be in single quotes "
     "(position 6)"),
    ("role=='student'",
     "invalid filter \"role=='student'\": unknown operator '==' after 'role'; "
     "use one of = != > >= < <= ~"),
    ("role<>'student'",
     "invalid filter \"role<>'student'\": unknown operator '<>' after 'role'; "
     "use one of = != > >= < <= ~"),
    ("role 'student'",
     "invalid filter \"role 'student'\": expected an operator (one of = != > >= < <= ~) "
     "after 'role' at position 6"),
    ("='student'", "invalid filter \"='student'\": expected a field name at position 1"),
    ("role='student",
     "invalid filter \"role='student\": the value opened at position 6 has no closing quote "
     "(write a quote inside a value as '')"),
    ("a='1' AND b='2' AND c='3'",
     "invalid filter \"a='1' AND b='2' AND c='3'\": at most two predicates joined by one AND "
     "or OR are allowed"),
    ("a='1' AND b='2' OR c='3'",
     "invalid filter \"a='1' AND b='2' OR c='3'\": at most two predicates joined by one AND "
     "or OR are allowed"),
    ("a='1' and b='2'",
     "invalid filter \"a='1' and b='2'\": unexpected text at position 7; predicates are joined "
     "by ' AND ' or ' OR '"),
    ("a='1'AND b='2'",
     "invalid filter \"a='1'AND b='2'\": unexpected text at position 6; predicates are joined "
     "by ' AND ' or ' OR '"),
    ("a='1' AND", "invalid filter \"a='1' AND\": unexpected text at position 7; predicates are "
                  "joined by ' AND ' or ' OR '"),
    ("a='1' AND ", "invalid filter \"a='1' AND \": expected a field name at position 11"),
    ("(a='1')", "invalid filter \"(a='1')\": expected a field name at position 1"),
    ("a='1' b='2'", "invalid filter \"a='1' b='2'\": unexpected text at position 7; predicates "
                    "are joined by ' AND ' or ' OR '"),
    ("a.='1'", "invalid filter \"a.='1'\": expected an operator (one of = != > >= < <= ~) "
               "after 'a' at position 2"),
])
def test_parser_rejects(text: str, description: str) -> None:
    with pytest.raises(OneRosterError) as caught:
        parse_filter(text)
    assert (caught.value.status, caught.value.code_minor) == (400, "invaliddata")
    assert caught.value.description == description


_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,2}",
                       fullmatch=True)
_predicates = st.builds(P, _names, st.sampled_from(["=", "!=", ">", ">=", "<", "<=", "~"]),
                        st.text(max_size=20))


@settings(max_examples=examples(200))
@given(st.lists(_predicates, min_size=1, max_size=2), st.sampled_from(["AND", "OR"]))
def test_any_filter_round_trips(predicates: list[Predicate], logical: str) -> None:
    original = Filter(tuple(predicates), logical if len(predicates) == 2 else None)
    assert parse_filter(str(original)) == original


# --- matches -----------------------------------------------------------------------------

USERS = catalog("users", "1.2")
RESULTS = catalog("results", "1.2")
LINE_ITEMS = catalog("lineItems", "1.2")
ENROLLMENTS = catalog("enrollments", "1.2")


def _ref(kind: str, sid: str) -> dict:
    return {"href": f"https://x/{sid}", "sourcedId": sid, "type": kind}


STUDENT = {
    "sourcedId": "u1", "status": "active", "dateLastModified": "2026-03-01T10:00:00Z",
    "givenName": "Ann", "familyName": "O'Brien", "enabledUser": "true",
    "roles": [{"roleType": "primary", "role": "student", "org": _ref("org", "s1")},
              {"roleType": "secondary", "role": "aide", "org": _ref("org", "s2")}],
    "userIds": [{"type": "stateId", "identifier": "ST-9"}],
    "grades": ["09", "10"], "primaryOrg": _ref("org", "s1"),
}


def _match(text: str, record: dict, cat=USERS) -> bool:
    return matches(parse_filter(text), record, cat)


@pytest.mark.parametrize(("text", "expected"), [
    ("familyName='O''Brien'", True),
    ("familyName!='O''Brien'", False),
    ("familyName~'o''b'", True),
    ("familyName~'BRIEN'", True),
    ("familyName~''", True),
    ("givenName>'Anm'", True),
    ("givenName<'Ann'", False),
    ("givenName<='Ann'", True),
    ("givenName='ann'", False),
    # missing fields never match, whatever the operator
    ("email='x'", False),
    ("email!='x'", False),
    ("email~''", False),
    ("middleName<'z'", False),
    # arrays: any element; != means no element equals
    ("roles.role='aide'", True),
    ("roles.role!='aide'", False),
    ("roles.role!='teacher'", True),
    ("roles.org.sourcedId='s2'", True),
    ("roles.roleType~'SECOND'", True),
    ("userIds.identifier='ST-9'", True),
    ("grades='10'", True),
    ("grades>'10'", False),
    ("grades>='10'", True),
    ("grades!='11'", True),
    ("agents.sourcedId!='x'", False),
    ("primaryOrg.sourcedId='s1' AND primaryOrg.type='org'", True),
    ("primaryOrg.sourcedId='s2' OR grades='09'", True),
    ("primaryOrg.sourcedId='s2' AND grades='09'", False),
    # a date against a date-time: = on the UTC date, order against midnight UTC
    ("dateLastModified='2026-03-01'", True),
    ("dateLastModified!='2026-03-01'", False),
    ("dateLastModified>'2026-03-01'", True),
    ("dateLastModified<'2026-03-02'", True),
    ("dateLastModified>='2026-03-02'", False),
    ("dateLastModified='2026-03-01T11:00:00+01:00'", True),
    ("dateLastModified='2026-03-01T10:00:00.000Z'", True),
    ("dateLastModified>'2026-03-01T10:00:00Z'", False),
    ("dateLastModified>'2026-03-01T05:00:00-05:01'", False),
    ("dateLastModified>'2026-03-01T05:00:00-04:59'", True),
    ("dateLastModified<'2026-03-01T20:00:00+10:00'", False),
])
def test_matches(text: str, expected: bool) -> None:
    assert _match(text, STUDENT) is expected


def test_roles_empty_array_counts_as_present() -> None:
    lapsed = {**STUDENT, "roles": []}
    assert not _match("roles.role='student'", lapsed)
    assert _match("roles.role!='student'", lapsed)
    assert not _match("roles.role!='student'", {k: v for k, v in STUDENT.items() if k != "roles"})


def test_wrong_json_type_counts_as_missing() -> None:
    odd = {**STUDENT, "familyName": 7, "grades": [9, "10", None], "roles": {"role": "student"}}
    assert not _match("familyName!='x'", odd)
    assert _match("grades='10'", odd)
    assert not _match("grades='9'", odd)
    assert not _match("roles.role='student'", odd)
    assert not _match("roles.role!='x'", odd)
    result = {"sourcedId": "r", "score": "7", "scoreDate": "not a date"}
    assert not matches(parse_filter("score!='1'"), result, RESULTS)
    assert not matches(parse_filter("scoreDate!='2026-01-01'"), result, RESULTS)
    assert not matches(parse_filter("score='1'"), {"score": True}, RESULTS)


def test_numbers_compare_numerically() -> None:
    result = {"score": 9.5}
    assert matches(parse_filter("score<'10'"), result, RESULTS)
    assert matches(parse_filter("score='9.50'"), result, RESULTS)
    assert matches(parse_filter("score>'95e-1'"), {"score": 10}, RESULTS)
    assert not matches(parse_filter("score>'10'"), {"score": 9.5}, RESULTS)


def test_date_field_against_date_time_values() -> None:
    enrollment = {"beginDate": "2026-08-19"}
    assert matches(parse_filter("beginDate='2026-08-19T23:30:00Z'"), enrollment, ENROLLMENTS)
    assert matches(parse_filter("beginDate='2026-08-20T01:30:00+02:00'"), enrollment,
                   ENROLLMENTS)
    assert matches(parse_filter("beginDate>='2026-08-19T00:00:00Z'"), enrollment, ENROLLMENTS)
    assert not matches(parse_filter("beginDate>'2026-08-19T00:00:00Z'"), enrollment,
                       ENROLLMENTS)
    assert matches(parse_filter("beginDate<'2026-08-19T00:00:01Z'"), enrollment, ENROLLMENTS)


@pytest.mark.parametrize(("text", "code", "description"), [
    ("role='student'", "invalid_filter_field", "unknown filter field 'role' for users"),
    ("metadata.x='1'", "invalid_filter_field", "unknown filter field 'metadata.x' for users"),
    ("roles='x'", "invalid_filter_field", "unknown filter field 'roles' for users"),
    ("dateLastModified~'2026'", "invaliddata",
     "filter operator ~ needs a text field; 'dateLastModified' of users is a datetime"),
    ("dateLastModified>'yesterday'", "invaliddata",
     "filter value 'yesterday' for 'dateLastModified' is not a date (YYYY-MM-DD) or date-time "
     "(YYYY-MM-DDThh:mm:ssZ)"),
    ("dateLastModified>'2026-02-30'", "invaliddata",
     "filter value '2026-02-30' for 'dateLastModified' is not a date (YYYY-MM-DD) or date-time "
     "(YYYY-MM-DDThh:mm:ssZ)"),
    ("givenName='a' AND nope='b'", "invalid_filter_field",
     "unknown filter field 'nope' for users"),
])
def test_bad_fields_and_values(text: str, code: str, description: str) -> None:
    for check in (lambda f: matches(f, STUDENT, USERS), lambda f: where_sql(f, USERS)):
        with pytest.raises(OneRosterError) as caught:
            check(parse_filter(text))
        assert (caught.value.status, caught.value.code_minor) == (400, code)
        assert caught.value.description == description


@pytest.mark.parametrize("value", ["abc", "1,5", "nan", "inf", "1e999", "0x10", ""])
def test_number_fields_need_numbers(value: str) -> None:
    with pytest.raises(OneRosterError) as caught:
        where_sql(parse_filter(f"score>'{value}'"), RESULTS)
    assert caught.value.description == f"filter value '{value}' for 'score' is not a number"
    with pytest.raises(OneRosterError):
        where_sql(parse_filter(f"score~'{value}'"), RESULTS)


def test_version_decides_the_fields() -> None:
    assert matches(parse_filter("role='student'"), {"role": "student"}, catalog("users", "1.1"))
    with pytest.raises(OneRosterError, match=r"unknown filter field 'roles\.role' for users"):
        matches(parse_filter("roles.role='student'"), STUDENT, catalog("users", "1.1"))
    with pytest.raises(OneRosterError, match=r"unknown filter field 'school\.sourcedId'"):
        where_sql(parse_filter("school.sourcedId='s'"), catalog("lineItems", "1.1"))
    assert "school.sourcedId" in LINE_ITEMS.fields


def test_injection_value_is_only_a_value() -> None:
    text = "givenName='x'' OR ''1''=''1' OR familyName='a''; DROP TABLE users; --'"
    parsed = parse_filter(text)
    assert [p.value for p in parsed.predicates] == ["x' OR '1'='1", "a'; DROP TABLE users; --"]
    sql, params = where_sql(parsed, USERS)
    assert params == ["x' OR '1'='1", "a'; DROP TABLE users; --"]
    assert "DROP" not in sql and "'1'" not in sql and sql.count("?") == 2
    assert not matches(parsed, STUDENT, USERS)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-03-01", "2026-03-01"),
    ("2026-03-01T10:00:00Z", "2026-03-01T10:00:00.000000Z"),
    ("2026-03-01t10:00:00z", "2026-03-01T10:00:00.000000Z"),
    ("2026-03-01 10:00", "2026-03-01T10:00:00.000000Z"),
    ("2026-03-01T10:00:00.5+01:00", "2026-03-01T09:00:00.500000Z"),
    ("2026-03-01T10:00:00.1234567-0230", "2026-03-01T12:30:00.123456Z"),
    ("2026-03-01T23:00:00-02:00", "2026-03-02T01:00:00.000000Z"),
    ("2026-03-01T10:00:00", "2026-03-01T10:00:00.000000Z"),
    ("0001-01-01T00:00:00+01:00", None),
    ("2026-03-01T24:00:00Z", None),
    ("2026-03-01T10:00:00+24:00", None),
    ("2026-3-1", None),
    ("２０２６-03-01", None),
    ("2026-03-01T10:00:00Zjunk", None),
    ("", None),
])
def test_canonical_time(text: str, expected: str | None) -> None:
    assert canonical_time(text) == expected
