"""Every answer the mock serves stays byte for byte what it was: a walk of every collection of a
small district (1.2 and 1.1, several page sizes, filter, sort and fields requests, a school-scoped
connection and the Infinite Campus flavor) is hashed and compared with
``tests/data/served_hashes.json``, written from the code before the serving path was sped up.

Speed work on the read path (reference rendering, page bodies, middleware) must not change one
byte a consumer receives. After a change that is MEANT to change answers, write the file again:

    ONEROSTER_WRITE_SERVED_HASHES=1 .venv/bin/python -m pytest -q tests/test_served_bytes.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import httpx
import pytest

from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection, allowed_scopes
from mock_provider.flavors import profile_for
from mock_provider.state import mock_state
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

GOLDEN = Path(__file__).parent / "data" / "served_hashes.json"
WRITE = os.environ.get("ONEROSTER_WRITE_SERVED_HASHES") == "1"
STUDENTS = 1_000  # the `small` size
EVERY_SCOPE = ALL_SCOPES_V12 | ALL_SCOPES_V11
V12 = "/ims/oneroster/rostering/v1p2"
G12 = "/ims/oneroster/gradebook/v1p2"
R12 = "/ims/oneroster/resources/v1p2"
V11 = "/ims/oneroster/v1p1"
COLLECTIONS = {
    "1.2": [(V12, c) for c in ("orgs", "academicSessions", "courses", "classes", "users",
                               "enrollments", "demographics", "schools", "students",
                               "teachers", "terms", "gradingPeriods")]
    + [(G12, c) for c in ("categories", "lineItems", "results", "scoreScales",
                          "assessmentLineItems", "assessmentResults")]
    + [(R12, "resources")],
    "1.1": [(V11, c) for c in ("orgs", "academicSessions", "courses", "classes", "users",
                               "enrollments", "demographics", "schools", "students",
                               "teachers", "terms", "gradingPeriods", "categories",
                               "lineItems", "results", "resources")],
}
# Whole walks at these page sizes; an odd one so page edges fall mid-school.
LIMITS = (10_000, 997, 37)
# Filter, sort and fields requests per version, walked whole at one page size.
QUERIES = {
    "1.2": [(V12, "users", {"filter": "status='active' AND familyName>'M'",
                            "sort": "familyName", "fields": "sourcedId,familyName,roles"}),
            (V12, "users", {"filter": "roles.role='teacher'", "sort": "givenName"}),
            (V12, "enrollments", {"filter": "role='student'", "fields": "sourcedId,user,class"}),
            (V12, "classes", {"sort": "title", "orderBy": "desc"}),
            (G12, "results", {"filter": "scoreStatus='fully graded'", "sort": "score"})],
    "1.1": [(V11, "users", {"filter": "role='student' AND familyName>'M'", "sort": "familyName",
                            "fields": "sourcedId,familyName,orgs"}),
            (V11, "enrollments", {"filter": "role='teacher'", "sort": "beginDate"}),
            (V11, "classes", {"fields": "sourcedId,title,bogusField"})],
}


def _token(url: str, token_path: str, client_id: str) -> str:
    response = httpx.post(url + token_path, data={"grant_type": "client_credentials"},
                          auth=(client_id, f"{client_id}-secret"))
    response.raise_for_status()
    return response.json()["access_token"]


def _normalised(url: str, response: httpx.Response) -> bytes:
    """Status, the headers a consumer reads, and the body, with this run's port taken out (it
    is part of every href and Link)."""
    headers = [f"{name}: {response.headers[name]}" for name in
               ("content-type", "x-total-count", "link", "access-control-expose-headers")
               if name in response.headers]
    raw = b"%d\n%s\n\n%s" % (response.status_code, "\n".join(headers).encode(),
                             response.content)
    return raw.replace(url.encode(), b"http://mock")


def _walk(client: httpx.Client, url: str, path: str, params: dict[str, str],
          limit: int) -> str:
    """sha256 over every page of one collection walk."""
    digest = hashlib.sha256()
    for offset in range(0, 1_000_000, limit):
        response = client.get(path, params={**params, "limit": limit, "offset": offset})
        digest.update(_normalised(url, response))
        total = int(response.headers.get("x-total-count", "0"))
        if response.status_code != 200 or offset + limit >= total:
            # A query meant as valid must be answered (or forbidden), or it guards nothing.
            assert response.status_code in (200, 403) or not params, (path, params, response.text)
            return digest.hexdigest()
    raise AssertionError(f"{path}: more pages than a small district has")


def _singles(client: httpx.Client, url: str, path: str) -> str:
    """sha256 over the single-record answers of a collection's first and last few records,
    plus one unknown id."""
    response = client.get(path, params={"limit": 10_000})
    digest = hashlib.sha256(_normalised(url, response))
    if response.status_code != 200:
        return digest.hexdigest()
    records = next(v for v in response.json().values() if isinstance(v, list))
    ids = [r["sourcedId"] for r in records[:3] + records[-3:]] + ["no-such-id"]
    for sid in ids:
        digest.update(_normalised(url, client.get(f"{path}/{sid}")))
    return digest.hexdigest()


def _collect(url: str, prefixes: dict[str, str], client: httpx.Client, label: str,
             limits: tuple[int, ...], queries: bool) -> dict[str, str]:
    found: dict[str, str] = {}
    for version, collections in COLLECTIONS.items():
        for base, collection in collections:
            path = f"{prefixes[version]}{base}/{collection}"
            for limit in limits:
                found[f"{label} {version} {collection} limit={limit}"] = _walk(
                    client, url, path, {}, limit)
            if collection in ("orgs", "users", "classes", "enrollments", "results"):
                found[f"{label} {version} {collection}/{{id}}"] = _singles(client, url, path)
        if queries:
            for base, collection, params in QUERIES[version]:
                query = "&".join(f"{k}={v}" for k, v in params.items())
                found[f"{label} {version} {collection}?{query}"] = _walk(
                    client, url, f"{prefixes[version]}{base}/{collection}", params, 250)
    return found


STANDARD_PATHS = {"1.2": "", "1.1": ""}
# A district of several schools (small is one high school), for the school-scoped connection.
ZONED_STUDENTS = 4_000


def _standard_hashes(districts_dir: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    store = Store(make_district(districts_dir, 42, STUDENTS))
    connections = [Connection(name="district", client_id="all", client_secret="all-secret",
                              scopes=EVERY_SCOPE)]
    # The page cache off: every answer comes from the render path itself.
    app = create_app(store, connections, Settings(page_cache=0))
    try:
        with live_server(app) as url:
            headers = {"Authorization": f"Bearer {_token(url, '/oauth2/token', 'all')}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                hashes.update(_collect(url, STANDARD_PATHS, client, "district", LIMITS, True))
    finally:
        mock_state(app).close()
        store.close()
    return hashes


def _scoped_hashes(districts_dir: Path) -> dict[str, str]:
    hashes: dict[str, str] = {}
    store = Store(make_district(districts_dir, 42, ZONED_STUDENTS))
    school = store.conn.execute(
        "SELECT identifier FROM orgs WHERE type = 'school' ORDER BY seq LIMIT 1 OFFSET 1"
    ).fetchone()[0]
    connections = [Connection(name="one-school", client_id="one", client_secret="one-secret",
                              scopes=EVERY_SCOPE, schools=frozenset({school}))]
    app = create_app(store, connections, Settings(page_cache=0))
    try:
        with live_server(app) as url:
            headers = {"Authorization": f"Bearer {_token(url, '/oauth2/token', 'one')}"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                hashes.update(_collect(url, STANDARD_PATHS, client, "one-school",
                                       (10_000, 997), True))
    finally:
        mock_state(app).close()
        store.close()
    return hashes


def _campus_hashes(districts_dir: Path) -> dict[str, str]:
    """The Campus flavor: its URL layout, its record forms, guardians only for grade-book
    connections."""
    hashes: dict[str, str] = {}
    app_name = "springfield"
    profile = profile_for("infinite-campus", app_name)
    store = Store(make_district(districts_dir, 42, STUDENTS))
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=allowed_scopes("any", "supported")),
        Connection(name="roster-only", client_id="ro", client_secret="ro-secret",
                   scopes=allowed_scopes("any", "unsupported"), connection_type="unsupported"),
    ]
    app = create_app(store, connections, Settings(profile=profile, page_cache=0))
    token_path = f"{profile.token_path}?appName={app_name}"
    try:
        with live_server(app) as url:
            for client_id in ("lms", "ro"):
                headers = {"Authorization": f"Bearer {_token(url, token_path, client_id)}"}
                with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                    hashes.update(_collect(url, profile.prefixes, client, f"campus-{client_id}",
                                           (10_000,), client_id == "ro"))
    finally:
        mock_state(app).close()
        store.close()
    return hashes


def test_every_served_answer_is_byte_identical(districts_dir: Path) -> None:
    hashes = {**_standard_hashes(districts_dir), **_scoped_hashes(districts_dir),
              **_campus_hashes(districts_dir)}
    if WRITE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"wrote {len(hashes)} hashes to {GOLDEN}")
    expected = json.loads(GOLDEN.read_text())
    changed = sorted(k for k in expected if hashes.get(k) != expected[k])
    assert set(hashes) == set(expected), "the walk itself changed; write the file again"
    assert not changed, f"{len(changed)} walks serve different bytes: {changed[:10]}"
