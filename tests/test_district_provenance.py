"""A district file that has changed since generation is never taken for the generated one,
and nothing but our own copy of the district is ever replaced."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from mock_provider.district import DistrictFileError, DistrictSpec, ensure_district
from mock_provider.district.build import generated_path
from mock_provider.district.provenance import count_write
from mock_provider.store import Store

SPEC = DistrictSpec(seed=5, students=60, size="tiny")


def _write_once(path: Path) -> None:
    """What a grade-book write leaves in the file's record (its row aside)."""
    conn = sqlite3.connect(path)
    try:
        count_write(conn)
        conn.commit()
    finally:
        conn.close()


def _hash(path: Path) -> str:
    with Store(path) as store:
        return store.content_hash()


def test_a_changed_file_is_kept_for_serve_and_passed_over_for_the_generated_one(
        tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    built = ensure_district(SPEC, path)
    assert not built.reused and built.changes is None
    generated_hash = _hash(path)
    assert ensure_district(SPEC, path).reused

    _write_once(path)
    kept = ensure_district(SPEC, path, keep_changes=True)
    assert (kept.path, kept.reused) == (path, True)
    assert kept.changes is not None and kept.changes.writes == 1
    assert kept.changes.describe().endswith("0 ticks, 0 rollovers, 1 grade-book write")

    fresh = ensure_district(SPEC, path)
    assert fresh.path == generated_path(path) and not fresh.reused
    assert fresh.changed_file == path and fresh.changes == kept.changes
    assert _hash(fresh.path) == generated_hash
    assert ensure_district(SPEC, path).reused  # the generated copy, from now on

    _write_once(fresh.path)  # ours: rebuilt when it changes
    again = ensure_district(SPEC, path)
    assert not again.reused and _hash(again.path) == generated_hash


def test_a_foreign_file_where_the_generated_copy_goes_is_refused_not_deleted(
        tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    ensure_district(SPEC, path)
    _write_once(path)
    foreign = generated_path(path)
    foreign.write_text("someone's notes")
    with pytest.raises(DistrictFileError, match="is not a finished district file"):
        ensure_district(SPEC, path)
    assert foreign.read_text() == "someone's notes"
