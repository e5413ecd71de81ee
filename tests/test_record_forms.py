"""Records the store renders from their columns read back byte for byte as they were written,
whatever their values; a text the columns cannot reproduce is kept as it was given."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_provider.district import parse_quirks
from mock_provider.editor import RecordEditor, dumps
from mock_provider.record_forms import FORMS, doc_sql
from mock_provider.store import create_schema

from .conftest import make_district

HEAD = {"sourcedId": "r1", "status": "active", "dateLastModified": "2026-10-01T15:00:00Z"}


@pytest.fixture()
def conn() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    create_schema(db)
    yield db
    db.close()


def _result(**changes: object) -> dict:
    """A result as the district builder writes one (a comment follows the score date); a
    change of None drops the key, a new key goes last."""
    record = {**HEAD, "lineItem": {"@l": "li1"}, "student": {"@u": "u1"},
              "class": {"@c": "c1"}, "scoreStatus": "fully graded", "score": 77.9,
              "scoreDate": "2026-10-01", "comment": None, "inProgress": "false",
              "incomplete": "false", "late": "false", "missing": "false"}
    record.update(changes)
    return {k: v for k, v in record.items() if v is not None}


def _v11(record: dict) -> dict:
    keys = ("sourcedId", "status", "dateLastModified", "lineItem", "student", "scoreStatus",
            "score", "scoreDate", "comment")
    return {k: record[k] for k in keys if k in record}


def _read(conn: sqlite3.Connection, table: str, sourced_id: str) -> tuple[str, str, tuple]:
    return conn.execute(
        f"SELECT {doc_sql(table, '1.2')}, {doc_sql(table, '1.1')}, json12, json11 FROM {table} "
        "WHERE sourcedId = ?", (sourced_id,)).fetchone()


def _write(conn: sqlite3.Connection, table: str, record: dict, v11: dict | None) -> None:
    RecordEditor(conn).add(table, record, v11)


def test_a_result_in_its_usual_shape_is_stored_as_columns_only(conn: sqlite3.Connection) -> None:
    record = _result(comment="Turned in late")
    _write(conn, "results", record, _v11(record))
    text12, text11, json12, json11 = _read(conn, "results", "r1")
    assert (text12, text11) == (dumps(record), dumps(_v11(record)))
    assert (json12, json11) == (None, None)


@pytest.mark.parametrize("changes", [
    {"comment": 'said "late"'},          # a value JSON escapes
    {"comment": "caf\u00e9 \u2713"},     # non-ASCII, kept as it is
    {"score": 0.1 + 0.2},                # a number whose text SQLite would write otherwise
    {"score": 88},                       # an integer score
    {"metadata": {"class": {"@c": "x"}}},  # a key the form does not have
    {"score": None},                     # an exempt result: 1.1 keeps a score 1.2 lacks
])
def test_any_other_result_reads_back_exactly(conn: sqlite3.Connection,
                                             changes: dict) -> None:
    record = _result(**changes)
    v11 = _v11(record)
    if "score" not in record:
        v11 = {**v11, "score": 0.0}
    _write(conn, "results", record, v11)
    text12, text11, _, _ = _read(conn, "results", "r1")
    assert text12 == dumps(record)
    assert text11 == dumps(v11)


def test_key_order_is_part_of_the_text(conn: sqlite3.Connection) -> None:
    record = _result()
    reordered = {"scoreStatus": record.pop("scoreStatus"), **record}
    _write(conn, "results", reordered, _v11(reordered))
    text12, _, json12, _ = _read(conn, "results", "r1")
    assert text12 == dumps(reordered) and json12 == text12


def test_an_enrollment_renders_with_and_without_its_optional_keys(
        conn: sqlite3.Connection) -> None:
    teacher = {**HEAD, "user": {"@u": "u1"}, "class": {"@c": "c1"}, "school": {"@o": "s1"},
               "role": "teacher", "primary": "true", "beginDate": "2026-08-19",
               "endDate": "2027-06-04"}
    student = {**HEAD, "sourcedId": "e2", "user": {"@u": "u2"}, "class": {"@c": "c1"},
               "school": {"@o": "s1"}, "role": "student"}
    for record in (teacher, student):
        _write(conn, "enrollments", record, None)
        text12, text11, json12, json11 = _read(conn, "enrollments", record["sourcedId"])
        assert text12 == text11 == dumps(record)
        assert (json12, json11) == (None, None)


def test_an_edit_keeps_both_forms(conn: sqlite3.Connection) -> None:
    record = _result()
    _write(conn, "results", record, _v11(record))
    editor = RecordEditor(conn)
    editor.set_fields("results", "r1", {"comment": "x"}, when="2026-10-02T00:00:00Z")
    editor.tombstone("results", "r1", when="2026-10-03T00:00:00Z")
    text12, text11, json12, json11 = _read(conn, "results", "r1")
    expected = {**record, "status": "tobedeleted", "dateLastModified": "2026-10-03T00:00:00Z"}
    assert text12 == dumps(expected)
    assert text11 == dumps(_v11(expected))
    assert (json12, json11) == (None, None)


def test_every_form_names_columns_of_its_table() -> None:
    from mock_provider.tables import columns

    for table, forms in FORMS.items():
        for keys in forms.values():
            assert {k.column for k in keys} <= set(columns(table)), table


def test_a_built_district_keeps_almost_no_text_its_columns_render(tmp_path: Path) -> None:
    """What keeps a state-sized district inside a CI runner's disk: nearly every record of a
    kind with a form is stored as columns only, in each form it has."""
    path = make_district(tmp_path, 5, 600, parse_quirks("all"))
    db = sqlite3.connect(path)
    try:
        for table, forms in FORMS.items():
            for version in forms:
                column = "json12" if version == "1.2" else "json11"
                total, kept = db.execute(
                    f"SELECT count(*), count({column}) FROM {table}").fetchone()
                assert total > 0 and kept / total < 0.1, (table, version, kept, total)
    finally:
        db.close()
