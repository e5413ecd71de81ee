"""The checker's own filter semantics (``harness.oneroster``), from the spec's examples: the
grammar, the field catalogue derived from ``specs/``, and evaluation over served records."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.oneroster.fields import Kind, UnknownCollection, catalogue, collections
from harness.oneroster.filters import (
    Contains,
    Filter,
    FilterSyntaxError,
    FilterValueError,
    Predicate,
    UnknownFieldError,
    check_filter,
    matches,
    parse_filter,
)
from harness.oneroster.values import read_instant

from .conftest import examples

P = Predicate
USERS = catalogue("users", "1.2")
USERS_11 = catalogue("users", "1.1")
ENROLLMENTS = catalogue("enrollments", "1.2")
RESULTS = catalogue("results", "1.2")


def _ref(kind: str, sid: str) -> dict:
    return {"href": f"https://sis.example/ims/oneroster/rostering/v1p2/{kind}s/{sid}",
            "sourcedId": sid, "type": kind}


STUDENT = {
    "sourcedId": "u-1", "status": "active", "dateLastModified": "2015-03-01T10:00:00Z",
    "enabledUser": "true", "givenName": "Ann", "familyName": "McMahon",
    "roles": [{"roleType": "primary", "role": "student", "org": _ref("org", "sch-1")},
              {"roleType": "secondary", "role": "aide", "org": _ref("org", "sch-2")}],
    "primaryOrg": _ref("org", "sch-1"), "grades": ["09", "10"],
    "userIds": [{"type": "stateId", "identifier": "ST-9"}],
}
STUDENT_11 = {"sourcedId": "u-1", "status": "active", "username": "ann",
              "dateLastModified": "2015-03-01T10:00:00Z", "givenName": "Ann",
              "familyName": "McMahon", "enabledUser": "true", "role": "student",
              "orgs": [_ref("org", "sch-1"), _ref("org", "sch-2")]}


def _holds(text: str, record: dict = STUDENT, cat=USERS, **how) -> bool:
    return matches(parse_filter(text), record, cat, **how)


# --- grammar ----------------------------------------------------------------------------------


def test_the_specs_own_example_parses_into_two_predicates_joined_by_and() -> None:
    # 1.1 §3: ?filter=familyName%3D%27jones%27%20AND%20dateLastModified%3E%272015-01-01%27
    parsed = parse_filter("familyName='jones' AND dateLastModified>'2015-01-01'")
    assert parsed == Filter((P("familyName", "=", "jones"),
                             P("dateLastModified", ">", "2015-01-01")), "AND")


@pytest.mark.parametrize(("text", "expected"), [
    ("roles.role='student'", Filter((P("roles.role", "=", "student"),))),
    ("primaryOrg.sourcedId = 'sch-1'", Filter((P("primaryOrg.sourcedId", "=", "sch-1"),))),
    ("email='x@y.example'", Filter((P("email", "=", "x@y.example"),))),  # Google's, unencoded
    ("primary='true'", Filter((P("primary", "=", "true"),))),  # booleans are quoted too
    ("  status != 'tobedeleted'  ", Filter((P("status", "!=", "tobedeleted"),))),
    ("familyName~'smi' OR givenName<='x'",
     Filter((P("familyName", "~", "smi"), P("givenName", "<=", "x")), "OR")),
    ("familyName='O''Brien'", Filter((P("familyName", "=", "O'Brien"),))),
    ("title='a AND b=''c'' OR d'", Filter((P("title", "=", "a AND b='c' OR d"),))),
    ("title=''", Filter((P("title", "=", ""),))),  # an empty value is still a quoted value
    ("a>='1'   AND   b<'2'", Filter((P("a", ">=", "1"), P("b", "<", "2")), "AND")),
])
def test_the_grammar_accepts(text: str, expected: Filter) -> None:
    assert parse_filter(text) == expected


@pytest.mark.parametrize(("text", "why"), [
    ("familyName='Smith' AND", "AND must be followed by a space and a second predicate"),
    ("familyName='Smith' OR ", "OR must be followed by a space and a second predicate"),
    ("role=student", "the value after 'role=' must be in single quotes (position 6)"),
    ('role="student"', "the value after 'role=' must be in single quotes"),
    ("familyName~", "'familyName~' has no value; write it in single quotes"),
    ("familyName=", "'familyName=' has no value"),
    ("role=='student'", "unknown operator '==' after 'role'"),
    ("role<>'student'", "unknown operator '<>'"),
    ("role 'student'", "expected an operator (= != > >= < <= ~) after 'role'"),
    ("='student'", "expected a field name at position 1"),
    ("roles.='student'", "expected a name after roles. at position 7"),
    ("familyName='Smith", "the quote opened at position 12 is never closed"),
    ("a='1' AND b='2' OR c='3'", "at most two predicates and one AND or OR"),
    ("a='1' AND b='2' AND c='3'", "at most two predicates"),
    ("a='1' and b='2'", "expected AND or OR (with a space either side)"),
    ("a='1'AND b='2'", "expected AND or OR (with a space either side)"),
    ("a='1' b='2'", "expected AND or OR"),
    ("", "the filter is empty"),
    ("   ", "the filter is empty"),
])
def test_the_grammar_refuses(text: str, why: str) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse_filter(text)
    assert why in str(caught.value)
    assert str(caught.value).startswith(f"invalid filter {text!r}: ")
    assert "\n" not in str(caught.value)


_fields = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}(\.[A-Za-z_][A-Za-z0-9_]{0,8}){0,2}",
                        fullmatch=True)
_predicates = st.builds(P, _fields, st.sampled_from(("=", "!=", ">", ">=", "<", "<=", "~")),
                        st.text(max_size=12))


@settings(max_examples=examples(150))
@given(st.lists(_predicates, min_size=1, max_size=2), st.sampled_from(("AND", "OR")))
def test_any_filter_prints_as_text_that_parses_back_to_it(predicates: list[Predicate],
                                                          logical: str) -> None:
    original = Filter(tuple(predicates), logical if len(predicates) == 2 else None)
    assert parse_filter(str(original)) == original


# --- the field catalogue ----------------------------------------------------------------------


def test_the_catalogue_reads_names_lists_and_kinds_from_the_schemas() -> None:
    kinds = {f.name: (f.kind, f.many) for f in USERS}
    assert kinds["givenName"] == (Kind.TEXT, False)
    assert kinds["dateLastModified"] == (Kind.DATETIME, False)
    assert kinds["enabledUser"] == (Kind.ENUM, False)  # the string booleans "true"/"false"
    assert kinds["status"] == (Kind.ENUM, False)
    assert kinds["roles.role"] == (Kind.ENUM, True)  # extensible (ext:) enumeration, in an array
    assert kinds["roles.org.sourcedId"] == (Kind.REFERENCE, True)
    assert kinds["roles.beginDate"] == (Kind.DATE, True)
    assert kinds["primaryOrg.sourcedId"] == (Kind.REFERENCE, False)
    assert kinds["grades"] == (Kind.TEXT, True)
    assert kinds["userIds.identifier"] == (Kind.TEXT, True)
    assert "role" not in USERS and "orgs.sourcedId" not in USERS  # 1.1 only
    assert "metadata" not in USERS and not any(n.startswith("userProfiles.credentials")
                                                for n in USERS.fields)  # two arrays deep
    kinds_11 = {f.name: (f.kind, f.many) for f in USERS_11}
    assert kinds_11["role"] == (Kind.ENUM, False)
    assert kinds_11["orgs.sourcedId"] == (Kind.REFERENCE, True)
    assert "roles.role" not in USERS_11 and "primaryOrg.sourcedId" not in USERS_11
    enrollments = {f.name: f.kind for f in ENROLLMENTS}
    assert enrollments["beginDate"] is Kind.DATE and enrollments["primary"] is Kind.ENUM
    assert enrollments["user.sourcedId"] is Kind.REFERENCE
    assert {f.name: f.kind for f in RESULTS}["score"] is Kind.NUMBER


def test_every_collection_has_a_catalogue_in_both_versions() -> None:
    core = {"academicSessions", "classes", "courses", "demographics", "enrollments",
            "gradingPeriods", "orgs", "schools", "students", "teachers", "terms", "users",
            "categories", "lineItems", "results", "resources"}
    assert core <= set(collections("1.1"))
    assert core | {"scoreScales", "assessmentLineItems", "assessmentResults"} == set(
        collections("1.2"))
    for version in ("1.2", "1.1"):
        for name in collections(version):
            cat = catalogue(name, version)
            assert {"sourcedId", "status", "dateLastModified"} <= set(cat.fields), name
    # The aliases serve the envelope's records: /schools are orgs, /students users.
    assert catalogue("schools", "1.1").schema == "Org"
    assert catalogue("students", "1.2").schema == "UserDType"
    with pytest.raises(UnknownCollection, match=r"OneRoster 1\.1 has no collection 'scoreScales'"):
        catalogue("scoreScales", "1.1")


# --- evaluation -------------------------------------------------------------------------------


def test_a_dotted_list_field_matches_when_any_element_does() -> None:
    assert _holds("roles.role='aide'")  # the second role
    assert _holds("roles.org.sourcedId='sch-2'")
    assert not _holds("roles.role='teacher'")
    assert _holds("grades='10'") and not _holds("grades='11'")
    # != : the array is there and no element equals
    assert _holds("roles.role!='teacher'")
    assert not _holds("roles.role!='aide'")
    # 1.1's orgs list works the same way
    assert _holds("orgs.sourcedId='sch-2'", STUDENT_11, USERS_11)
    assert not _holds("orgs.sourcedId!='sch-1'", STUDENT_11, USERS_11)


def test_an_empty_list_is_present_and_a_missing_one_is_not() -> None:
    lapsed = {**STUDENT, "roles": []}
    assert not _holds("roles.role='student'", lapsed)
    assert _holds("roles.role!='student'", lapsed)
    gone = {k: v for k, v in STUDENT.items() if k != "roles"}
    assert not _holds("roles.role!='student'", gone)


def test_a_missing_field_never_matches_not_even_with_not_equal() -> None:
    assert "email" not in STUDENT
    for text in ("email='x'", "email!='x'", "email~''", "middleName!='Ann'",
                 "agents.sourcedId!='x'"):
        assert not _holds(text), text
    # null and the wrong JSON type count as missing too
    odd = {**STUDENT, "email": None, "familyName": 7, "grades": [9, "10"]}
    assert not _holds("email!='x'", odd) and not _holds("familyName!='x'", odd)
    assert _holds("grades='10'", odd) and not _holds("grades='9'", odd)
    assert not _holds("scoreDate!='2026-01-01'", {"scoreDate": "soon"}, RESULTS)
    assert not _holds("score!='1'", {"score": "7"}, RESULTS)
    assert not _holds("score='1'", {"score": True}, RESULTS)


def test_text_compares_by_code_point() -> None:
    assert _holds("familyName='McMahon'")
    assert not _holds("familyName='mcmahon'")
    assert not _holds("familyName='McMahon '")
    nfd = {**STUDENT, "givenName": "A\u0301nn"}  # A + combining acute
    assert not _holds("givenName='\u00c1nn'", nfd)  # the same letter, precomposed


@pytest.mark.parametrize("served", [
    "2015-03-01T10:00:00Z", "2015-03-01T10:00:00.000Z", "2015-03-01T10:00:00.0Z",
    "2015-03-01T10:00:00+00:00", "2015-03-01T11:00:00+01:00", "2015-03-01T05:00:00-05:00",
    "2015-03-01t10:00:00z",
])
def test_date_times_compare_as_instants_whatever_the_spelling(served: str) -> None:
    record = {**STUDENT, "dateLastModified": served}
    assert _holds("dateLastModified='2015-03-01T10:00:00Z'", record)
    assert _holds("dateLastModified='2015-03-01T10:00:00.000000Z'", record)
    assert not _holds("dateLastModified!='2015-03-01T10:00:00.000Z'", record)
    assert _holds("dateLastModified>'2015-03-01T09:59:59.999Z'", record)
    assert _holds("dateLastModified<='2015-03-01T10:00:00Z'", record)
    assert not _holds("dateLastModified<'2015-03-01T10:00:00Z'", record)


def test_fractional_seconds_count() -> None:
    record = {**STUDENT, "dateLastModified": "2015-03-01T10:00:00.250Z"}
    assert _holds("dateLastModified>'2015-03-01T10:00:00Z'", record)
    assert _holds("dateLastModified='2015-03-01T10:00:00.25Z'", record)
    assert not _holds("dateLastModified='2015-03-01T10:00:00Z'", record)
    # kept exactly, not cut to microseconds
    assert read_instant("2015-03-01T10:00:00.1234567Z") > read_instant(  # type: ignore[operator]
        "2015-03-01T10:00:00.123456Z")


def test_the_specs_example_compares_the_watermark_by_utc_day() -> None:
    # A date against a date-time compares with the date-time's UTC day.
    assert _holds("familyName='McMahon' AND dateLastModified>'2015-01-01'")
    assert _holds("dateLastModified='2015-03-01'")
    assert not _holds("dateLastModified>'2015-03-01'")  # not after the day it falls on
    assert _holds("dateLastModified>='2015-03-01'")
    late = {**STUDENT, "dateLastModified": "2015-03-01T23:30:00-05:00"}  # 04:30Z on the 2nd
    assert _holds("dateLastModified='2015-03-02'", late)
    # and a date field against a date-time value
    enrollment = {"beginDate": "2026-08-19"}
    assert _holds("beginDate='2026-08-19T23:30:00Z'", enrollment, ENROLLMENTS)
    assert _holds("beginDate<'2026-08-20T02:00:00+02:00'", enrollment, ENROLLMENTS)
    # midnight of the 20th at +02:00 is still the 19th in UTC
    assert not _holds("beginDate<'2026-08-20T00:00:00+02:00'", enrollment, ENROLLMENTS)


def test_numbers_compare_as_exact_decimals() -> None:
    assert _holds("score='9.50'", {"score": 9.5}, RESULTS)
    assert _holds("score<'10'", {"score": 9.5}, RESULTS)
    assert _holds("score>'95e-1'", {"score": 10}, RESULTS)
    assert _holds("score='0.1'", {"score": 0.1}, RESULTS)  # the served decimal, not the float


def test_contains_has_three_readings_of_case() -> None:
    name = {**STUDENT, "familyName": "McMahon", "givenName": "Straße"}
    assert _holds("familyName~'mah'", name)  # ASCII case is the default reading
    assert _holds("familyName~'MCM'", name, contains=Contains.ASCII)
    assert not _holds("familyName~'MCM'", name, contains=Contains.EXACT)
    assert _holds("familyName~'cMa'", name, contains=Contains.EXACT)
    assert _holds("familyName~'MCM'", name, contains=Contains.CASEFOLD)
    # Only case folding reads beyond ASCII: ß folds to ss, Ä to ä.
    assert _holds("givenName~'STRASSE'", name, contains=Contains.CASEFOLD)
    assert not _holds("givenName~'STRASSE'", name, contains=Contains.ASCII)
    assert _holds("givenName~'traß'", name, contains=Contains.ASCII)
    assert _holds("familyName~''", name)  # the empty text is in every present value
    assert _holds("roles.role~'AID'")  # enumerations are text too; any element


def test_and_or_combine_two_predicates() -> None:
    assert _holds("primaryOrg.sourcedId='sch-1' AND grades='09'")
    assert not _holds("primaryOrg.sourcedId='sch-2' AND grades='09'")
    assert _holds("primaryOrg.sourcedId='sch-2' OR grades='09'")
    assert not _holds("primaryOrg.sourcedId='sch-2' OR email='x'")


@pytest.mark.parametrize(("text", "error", "why"), [
    ("role='student'", UnknownFieldError, "unknown filter field 'role' for users in OneRoster 1.2"),
    ("roles='x'", UnknownFieldError, "unknown filter field 'roles'"),
    ("metadata.x='1'", UnknownFieldError, "unknown filter field 'metadata.x'"),
    ("givenName='a' AND nope='b'", UnknownFieldError, "unknown filter field 'nope'"),
    ("dateLastModified~'2015'", FilterValueError,
     "operator ~ does not apply to 'dateLastModified' (date-time); use = != > >= < <="),
    ("givenName>'M'", FilterValueError,
     "operator > does not apply to 'givenName' (text); use = != ~"),
    ("enabledUser>='false'", FilterValueError,
     "operator >= does not apply to 'enabledUser' (enum)"),
    ("dateLastModified>'yesterday'", FilterValueError,
     "'yesterday' for 'dateLastModified' is not a date (YYYY-MM-DD) or a date-time"),
    ("dateLastModified>'2015-02-30'", FilterValueError, "is not a date"),
    ("dateLastModified>''", FilterValueError, "'' for 'dateLastModified' is not a date"),
])
def test_a_filter_that_does_not_fit_the_collection_is_refused(text: str, error: type,
                                                              why: str) -> None:
    with pytest.raises(error) as caught:
        check_filter(parse_filter(text), USERS)
    assert why in str(caught.value)


def test_numbers_must_be_numbers() -> None:
    for value in ("abc", "1,5", "nan", "inf", "0x10", "", "1e999"):
        with pytest.raises(FilterValueError, match="is not a number"):
            check_filter(parse_filter(f"score>'{value}'"), RESULTS)


def test_the_package_and_the_filter_check_import_nothing_from_the_mock() -> None:
    harness = Path(__file__).resolve().parents[1] / "harness"
    for source in [*(harness / "oneroster").glob("*.py"), harness / "checks" / "filtering.py"]:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "mock_provider" for n in names), source.name
