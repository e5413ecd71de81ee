"""The builder writes its most numerous records (users, enrollments, results) from text
templates instead of the generic serializer, for speed: each template must write exactly what
the serializer would write of the record it stands for, on a district with every quirk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_provider.district import DistrictSpec, build_district, parse_quirks
from mock_provider.district.people import Person
from mock_provider.district.zone import _emit_user
from mock_provider.editor import RecordEditor, dumps
from mock_provider.record_forms import _RENDER
from mock_provider.tables import ROW_MAKERS, columns
from specs import schema_v11


def _v11_of(table: str, record: dict) -> dict:
    """A record's 1.1 form as grade-book writes make it: the keys 1.1 defines for the kind."""
    keys = frozenset(schema_v11({"results": "Result"}[table])["properties"])
    return {k: v for k, v in record.items() if k in keys}


def test_every_templated_text_is_what_the_serializer_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Texts handed in ready-made, and records whose texts the store renders from their
    columns (``rendered``), each equal the serializer's text of the record."""
    checked: dict[str, int] = {}
    add = RecordEditor.add

    def checking_add(self: RecordEditor, table: str, record: dict, v11: dict | None = None,
                     **kwargs: Any) -> None:
        if kwargs.get("text") is not None:
            assert kwargs["text"] == dumps(record), table
            checked[table] = checked.get(table, 0) + 1
        if kwargs.get("text11") is not None and v11 is not None:
            assert kwargs["text11"] == dumps(v11), table
        if kwargs.get("rendered"):
            row = ROW_MAKERS[table](record, v11, 0, None, None, kwargs)
            assert _RENDER[table, "1.2"](row) == dumps(record), table
            if (table, "1.1") in _RENDER and kwargs.get("text11") is None:
                expected11 = v11 if v11 is not None else _v11_of(table, record)
                assert _RENDER[table, "1.1"](row) == dumps(expected11), table
            checked[table] = checked.get(table, 0) + 1
        add(self, table, record, v11, **kwargs)

    monkeypatch.setattr(RecordEditor, "add", checking_add)
    spec = DistrictSpec(seed=11, students=900, size="custom", quirks=parse_quirks("all"))
    # One process, so the patched method is the one the zones call.
    build_district(spec, tmp_path / "district.sqlite", workers=1)
    for table in ("users", "enrollments", "results", "demographics"):
        assert checked.get(table, 0) > 800, (table, checked)


@pytest.mark.parametrize("family", ['O"Neil', "Back\\slash", "Tab\there", "Zoë Ñúñez 李"])
def test_a_name_the_template_cannot_write_as_is_still_reads_back(family: str) -> None:
    person = Person("u-1", "student", "Ana", family, "female", "1001", username="ana1",
                    email="ana1@example.org", user_ids=[("studentNumber", "1001")],
                    grades=["09"], roles=[("student", "primary", "school-1")])
    out = RecordEditor()
    _emit_user(out, person, "2026-09-01T00:00:00Z")
    names = columns("users")
    row = dict(zip(names, out.rows["users"][0], strict=True))
    text12 = row["json12"]
    for text in (text12, row["json11"]):
        record = json.loads(text)
        assert record["familyName"] == family and text == dumps(record)
    assert json.loads(text12)["roles"][0]["org"] == {"@o": "school-1"}
