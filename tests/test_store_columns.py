"""Every record's indexed columns say what its JSON says, whichever writer wrote it: the builder,
a tick, a rollover, a reset and grade-book writes over real HTTP are each followed by
``Store.verify_columns``; a file whose columns were changed behind the JSON's back is caught,
by the method and by ``oneroster-harness generate --verify``."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from harness.cli import main
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district, parse_quirks
from mock_provider.record_forms import compact, doc_sql, texts_sql
from mock_provider.state import mock_state
from mock_provider.store import Mismatch, Store
from mock_provider.tables import RECORD_TABLES, columns, record_row

from .conftest import make_district
from .live_server import live_server

ADMIN = "columns-admin-token"
G12 = "/ims/oneroster/gradebook/v1p2"
V11 = "/ims/oneroster/v1p1"


def _verify(path: Path) -> list[Mismatch]:
    with Store(path) as store:
        return store.verify_columns()


@pytest.fixture(scope="module")
def quirky(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A K-12 district with every data-quality quirk, built in two worker processes."""
    return make_district(tmp_path_factory.mktemp("columns"), 3, 1_200, parse_quirks("all"),
                         workers=2)


def test_a_built_district_agrees_with_its_json(quirky: Path) -> None:
    assert _verify(quirky) == []


def test_each_stored_row_is_the_row_its_record_derives(quirky: Path) -> None:
    """``record_row`` over a stored record's JSON gives back the stored row, column for column
    (store-only columns and ``hidden`` taken from the row), its texts left out exactly where
    the table's form renders them."""
    conn = sqlite3.connect(quirky)
    rendered = 0
    try:
        for table in RECORD_TABLES:
            names = columns(table)
            for row in conn.execute(f"SELECT {', '.join(names)}, {texts_sql(table)} "
                                    f"FROM {table} ORDER BY seq LIMIT 300"):
                stored_row, (text12, text11) = row[:-2], row[-2:]
                stored = dict(zip(names, stored_row, strict=True))
                v11 = json.loads(text11) if text11 else None
                derived = record_row(table, json.loads(text12), text12, text11,
                                     stored["hidden"], stored, v11)
                assert compact(table, derived) == stored_row, table
                rendered += stored["json12"] is None
    finally:
        conn.close()
    assert rendered > 0


def test_odd_records_derive_the_same_on_every_path() -> None:
    """A missing reference, an empty roles array, a reference of the wrong shape, a 1.2 line
    item naming its academicSession instead of a gradingPeriod: the values a reader of the
    JSON would find, never an exception."""
    head = {"sourcedId": "x", "status": "active", "dateLastModified": "2026-01-01T00:00:00Z"}
    district = record_row("orgs", {**head, "type": "district", "name": "D"}, "{}")
    assert district[4:8] == ("district", None, "D", None)
    broken = record_row("orgs", {**head, "type": "school", "parent": "not-a-ref"}, "{}")
    assert broken[7] is None
    no_roles = record_row("users", {**head, "roles": []}, "{}", "{}",
                          record11={**head, "role": "student"})
    assert no_roles[4] == "student" and no_roles[10] is None
    item = record_row("lineItems", {**head, "academicSession": {"@s": "t1"},
                                    "class": {"@c": "c1"}}, "{}")
    assert item[5:9] == ("c1", None, None, "t1")
    assert record_row("categories", head, "{}", stored={"class_id": "c1"})[5] == "c1"


def test_verify_names_every_column_that_disagrees(quirky: Path, tmp_path: Path) -> None:
    path = tmp_path / "tampered.sqlite"
    shutil.copy(quirky, path)
    conn = sqlite3.connect(path)
    try:
        user, email = conn.execute("SELECT sourcedId, email FROM users WHERE email IS NOT NULL "
                                   "ORDER BY seq LIMIT 1").fetchone()
        conn.execute("UPDATE users SET email = 'someone@else.example' WHERE sourcedId = ?",
                     (user,))
        item, title = conn.execute("SELECT sourcedId, title FROM lineItems "
                                   "ORDER BY seq LIMIT 1").fetchone()
        conn.execute(f"UPDATE lineItems SET json11 = replace({doc_sql('lineItems', '1.1')}, "
                     "'\"title\":\"', '\"title\":\"Old ') WHERE sourcedId = ?", (item,))
        conn.commit()
    finally:
        conn.close()
    assert _verify(path) == [
        Mismatch("users", user, "email", email, "someone@else.example", "1.2"),
        Mismatch("users", user, "email", email, "someone@else.example", "1.1"),
        Mismatch("lineItems", item, "title", f"Old {title}", title, "1.1"),
    ]


# --- every writer, over real HTTP -------------------------------------------------------------


def _token(url: str) -> str:
    return httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                      auth=("lms", "lms-secret")).json()["access_token"]


def _grade_book_writes(api: httpx.Client, store: Store) -> None:
    """PUTs in 1.2 and 1.1 (new records and replacements), a bulk POST, DELETEs: what an LMS
    sends over a term. Bodies start from records the district serves, so every rule holds."""
    conn = store.conn
    item_id, class_id = conn.execute(
        "SELECT l.sourcedId, l.class_id FROM lineItems l WHERE l.hidden = 0 AND "
        "l.status = 'active' AND EXISTS (SELECT 1 FROM results r JOIN enrollments e ON "
        "e.user_id = r.student_id AND e.class_id = l.class_id AND e.status = 'active' AND "
        "e.hidden = 0 WHERE r.lineItem_id = l.sourcedId) ORDER BY l.seq LIMIT 1").fetchone()
    result_id = conn.execute(
        "SELECT r.sourcedId FROM results r JOIN enrollments e ON e.user_id = r.student_id "
        "AND e.class_id = ? AND e.status = 'active' AND e.hidden = 0 WHERE r.lineItem_id = ? "
        "ORDER BY r.seq LIMIT 1", (class_id, item_id)).fetchone()[0]
    category_id = conn.execute("SELECT sourcedId FROM categories WHERE class_id = ? "
                               "ORDER BY seq LIMIT 1", (class_id,)).fetchone()[0]

    def put(base: str, collection: str, key: str, sid: str, body: dict) -> None:
        response = api.put(f"{base}/{collection}/{sid}", json={key: {**body, "sourcedId": sid}})
        assert response.status_code in (200, 201), response.text

    item = api.get(f"{G12}/lineItems/{item_id}").json()["lineItem"]
    put(G12, "lineItems", "lineItem", "w-li-1", {**item, "title": "Lab report"})
    term_named = {k: v for k, v in item.items() if k != "gradingPeriod"}
    put(G12, "lineItems", "lineItem", "w-li-2",
        {**term_named, "title": "Field trip", "academicSession": item["gradingPeriod"]})
    put(G12, "lineItems", "lineItem", "w-li-1", {**item, "title": "Lab report, revised"})
    item11 = api.get(f"{V11}/lineItems/{item_id}").json()["lineItem"]
    put(V11, "lineItems", "lineItem", "w-li-3", {**item11, "title": "Poster"})

    result = api.get(f"{G12}/results/{result_id}").json()["result"]
    result["lineItem"] = {**result["lineItem"], "sourcedId": "w-li-1",
                          "href": result["lineItem"]["href"].replace(item_id, "w-li-1")}
    put(G12, "results", "result", "w-r-1", {**result, "score": 7.5})
    classless = {k: v for k, v in result.items() if k != "class"}
    put(G12, "results", "result", "w-r-2", {**classless, "scoreStatus": "exempt"})
    put(G12, "results", "result", result_id, {**api.get(f"{G12}/results/{result_id}").json()[
        "result"], "scoreStatus": "submitted", "comment": "Regraded"})
    result11 = api.get(f"{V11}/results/{result_id}").json()["result"]
    result11["lineItem"] = {**result11["lineItem"], "sourcedId": "w-li-3",
                            "href": result11["lineItem"]["href"].replace(item_id, "w-li-3")}
    put(V11, "results", "result", "w-r-3", result11)

    category = api.get(f"{G12}/categories/{category_id}").json()["category"]
    put(G12, "categories", "category", category_id, {**category, "title": "Homework (new)"})
    put(G12, "categories", "category", "w-cat", {"title": "Projects", "weight": 0.1})
    put(G12, "categories", "category", "w-cat", {"title": "Projects and labs", "weight": 0.2})

    bulk = [{**item, "sourcedId": f"w-bulk-{n}", "title": f"Station {n}"} for n in range(3)]
    posted = api.post(f"{G12}/classes/{class_id}/lineItems", json={"lineItems": bulk})
    assert posted.status_code == 201, posted.text
    assert api.delete(f"{G12}/lineItems/w-li-2").status_code == 204
    assert api.delete(f"{G12}/lineItems/w-li-1", params={"cascade": "true"}).status_code == 204
    kept = store.conn.execute("SELECT class_id FROM categories WHERE sourcedId = ?",
                              (category_id,)).fetchone()
    assert kept == (class_id,), "a replaced category stays in its class"


@pytest.fixture()
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Store]]:
    path = tmp_path / "served.sqlite"
    build_district(DistrictSpec(seed=9, students=400, size="custom",
                                quirks=parse_quirks("all")), path)
    store = Store(path)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11)
    app = create_app(store, [lms], admin_token=ADMIN)
    try:
        with live_server(app) as url:
            yield url, path, store
    finally:
        mock_state(app).close()
        store.close()


def test_every_writer_keeps_the_columns_agreeing(served: tuple[str, Path, Store],
                                                tmp_path: Path) -> None:
    url, path, store = served
    pristine = tmp_path / "pristine.sqlite"
    build_district(DistrictSpec(seed=9, students=400, size="custom",
                                quirks=parse_quirks("all")), pristine)
    with Store(pristine) as fresh:
        generated = fresh.content_hash()
    admin = {"Authorization": f"Bearer {ADMIN}"}
    steps: dict[str, list[Mismatch]] = {"built": _verify(path)}
    assert httpx.post(f"{url}/admin/tick?days=20", headers=admin).status_code == 200
    steps["tick"] = _verify(path)
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {_token(url)}"},
                      timeout=30) as api:
        _grade_book_writes(api, store)
    steps["grade-book writes"] = _verify(path)
    assert httpx.post(f"{url}/admin/rollover", headers=admin, timeout=60).status_code == 200
    steps["rollover"] = _verify(path)
    assert httpx.post(f"{url}/admin/tick?days=5", headers=admin).status_code == 200
    steps["tick after the rollover"] = _verify(path)
    reset = httpx.post(f"{url}/admin/reset", headers=admin, timeout=60)
    assert reset.status_code == 200, reset.text
    steps["reset"] = _verify(path)
    assert {step: found[:3] for step, found in steps.items() if found} == {}
    with Store(path) as after:
        assert after.content_hash() == generated


# --- oneroster-harness generate --verify ----------------------------------------------------


@pytest.fixture()
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("ONEROSTER_DATA_DIR", raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return call


def test_generate_verify_reports_agreement_in_one_line(quirky: Path, cli) -> None:
    code, out, err = cli("generate", "--verify", "--out", str(quirky))
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"columns agree: {out.split()[2]} records checked ({quirky})"]
    assert int(out.split()[2].replace(",", "")) > 20_000


def test_generate_verify_lists_every_mismatch(quirky: Path, tmp_path: Path, cli) -> None:
    path = tmp_path / "tampered.sqlite"
    shutil.copy(quirky, path)
    conn = sqlite3.connect(path)
    try:
        ids = [r[0] for r in conn.execute("SELECT sourcedId FROM classes ORDER BY seq LIMIT 2")]
        conn.execute("UPDATE classes SET title = 'Renamed' WHERE sourcedId IN (?, ?)", ids)
        conn.execute("UPDATE enrollments SET json12 = '{' WHERE seq = (SELECT min(seq) FROM "
                     "enrollments)")
        conn.commit()
    finally:
        conn.close()
    code, out, err = cli("generate", "--verify", "--out", str(path))
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert len(lines) == 2 * 2 + 1 + 1, out  # two classes in 1.2 and 1.1, one enrollment
    assert sum(f"classes {i}: title is 'Renamed'" in line for i in ids for line in lines) == 4
    assert any(line.startswith("enrollments ") and "json12 is not a JSON object" in line
               for line in lines)
    assert lines[-1].startswith("columns disagree: 5 mismatches in 3 of ")


def test_generate_verify_refuses_a_missing_or_corrupt_file(tmp_path: Path, cli) -> None:
    for path, words in ((tmp_path / "absent.sqlite", "no district file at"),
                        (tmp_path / "junk.sqlite", "is not a district store")):
        if "junk" in path.name:
            path.write_text("not a database")
        code, out, err = cli("generate", "--verify", "--out", str(path))
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and words in err, err
    assert not (tmp_path / "absent.sqlite").exists(), "--verify never generates"


def test_store_counts_are_the_served_sizes_the_file_records(quirky: Path) -> None:
    with Store(quirky) as store:
        assert store.counts() == json.loads(store.meta["counts"])
        assert store.record_count() > sum(store.counts().values()), "hidden records count too"
