"""Rendered pages are reused, but never across connections and never after the district file
changes (a tick from another connection, over real HTTP)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.district.tick import advance
from mock_provider.query.page_cache import PageCache
from mock_provider.store import Store
from mock_provider.writer import open_writer

from .conftest import make_district
from .live_server import live_server

STUDENTS = "/ims/oneroster/rostering/v1p2/students"


def _client(url: str, client_id: str) -> httpx.Client:
    token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=(client_id, f"{client_id}-secret")).json()["access_token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def served(districts_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Store, Path]]:
    path = tmp_path / "district.sqlite"
    shutil.copy(make_district(districts_dir, 42, 4_000), path)
    store = Store(path)
    school = store.conn.execute(
        "SELECT identifier FROM orgs WHERE type = 'school' ORDER BY seq LIMIT 1").fetchone()[0]
    connections = [
        Connection(name="all", client_id="all", client_secret="all-secret",
                   scopes=ALL_SCOPES_V12),
        Connection(name="one", client_id="one", client_secret="one-secret",
                   scopes=ALL_SCOPES_V12, schools=frozenset({school})),
    ]
    app = create_app(store, connections, Settings())
    try:
        with live_server(app) as url:
            yield url, store, path
    finally:
        store.close()


def test_a_page_is_reused_until_the_file_changes(served) -> None:
    url, _, path = served
    with _client(url, "all") as client:
        first = client.get(STUDENTS, params={"limit": 5})
        again = client.get(STUDENTS, params={"limit": 5})
        assert again.content == first.content and again.headers["link"] == first.headers["link"]
        conn = open_writer(path)
        try:
            report = advance(conn, 14)
        finally:
            conn.close()
        assert report.new_students
        after = client.get(STUDENTS, params={"limit": 5})
    grown = int(after.headers["x-total-count"]) - int(first.headers["x-total-count"])
    assert grown == len(report.new_students)  # withdrawals stay listed, as tobedeleted


def test_connections_never_share_a_page(served) -> None:
    url, _, _ = served
    with _client(url, "all") as everyone, _client(url, "one") as one_school:
        whole = everyone.get(STUDENTS, params={"limit": 5})
        scoped = one_school.get(STUDENTS, params={"limit": 5})
        whole_again = everyone.get(STUDENTS, params={"limit": 5})
    assert int(scoped.headers["x-total-count"]) < int(whole.headers["x-total-count"])
    assert whole_again.content == whole.content


def test_the_cache_is_bounded_in_pages_and_bytes(tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(tmp_path / "x.sqlite")
    cache = PageCache(max_pages=2, max_bytes=400)
    assert cache.get(conn, "a") is None  # first look: the file's version is learned
    for key in ("a", "b", "c"):
        cache.put(key, (b"x" * 50, {}))
    assert len(cache) == 2 and cache.get(conn, "a") is None and cache.get(conn, "c")
    cache.put("big", (b"x" * 200, {}))  # more than a quarter of the bytes: not kept
    assert cache.get(conn, "big") is None
    assert PageCache(max_pages=0).get(conn, "a") is None
    conn.close()
