"""Grade-book writes over real HTTP: PUT/DELETE in 1.2 and 1.1, the named rules, scopes,
connection types, durability and concurrent writers. Each module gets its own fresh district,
because these tests change it."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from mock_provider.app import Settings, create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, SCOPE_PREFIX_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.flavors import profile_for
from mock_provider.flavors.campus_ids import legacy_ids_for
from mock_provider.record_forms import doc_sql, texts_sql
from mock_provider.state import mock_state
from mock_provider.store import Store

from .live_server import live_server

G12 = "/ims/oneroster/gradebook/v1p2"
R12 = "/ims/oneroster/rostering/v1p2"
V11 = "/ims/oneroster/v1p1"
ROSTER_ONLY = frozenset(s for s in ALL_SCOPES_V12 if "/scope/roster" in s)


@dataclass
class Env:
    url: str
    app: object
    store: Store
    path: Path
    api: httpx.Client
    ids: dict[str, str]

    def href(self, collection: str, sid: str, service: str = "rostering") -> str:
        return f"{self.url}/ims/oneroster/{service}/v1p2/{collection}/{sid}"

    def ref(self, collection: str, sid: str, kind: str, service: str = "rostering") -> dict:
        return {"href": self.href(collection, sid, service), "sourcedId": sid, "type": kind}

    def line_item(self, sid: str, **changes: object) -> dict:
        ids = self.ids
        body = {
            "sourcedId": sid, "status": "active", "dateLastModified": "2026-01-01T00:00:00Z",
            "title": f"Essay {sid}", "description": "Partner assignment",
            "assignDate": "2026-09-01T08:00:00Z", "dueDate": "2026-09-10T23:59:00Z",
            "class": self.ref("classes", ids["class"], "class"),
            "school": self.ref("orgs", ids["school"], "org"),
            "category": self.ref("categories", ids["category"], "category", "gradebook"),
            "gradingPeriod": self.ref("academicSessions", ids["q1"], "academicSession"),
            "resultValueMin": 0.0, "resultValueMax": 100.0,
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def result(self, sid: str, line_item: str, **changes: object) -> dict:
        body = {
            "sourcedId": sid, "status": "active", "dateLastModified": "2026-01-01T00:00:00Z",
            "lineItem": self.ref("lineItems", line_item, "lineItem", "gradebook"),
            "student": self.ref("users", self.ids["student"], "user"),
            "class": self.ref("classes", self.ids["class"], "class"),
            "scoreStatus": "fully graded", "score": 88.5, "scoreDate": "2026-09-12",
        }
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}


def _token(url: str, client: str) -> str:
    response = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                          auth=(client, f"{client}-secret"))
    return response.json()["access_token"]


def _pick_ids(conn: sqlite3.Connection) -> dict[str, str]:
    """A first-semester-only class with enrolled students, and what its line items need."""
    klass, school = conn.execute(
        "SELECT c.sourcedId, c.school_id FROM classes c WHERE c.hidden = 0 AND "
        "(SELECT count(*) FROM class_terms t WHERE t.class_id = c.sourcedId) = 1 AND "
        "EXISTS (SELECT 1 FROM categories g WHERE g.class_id = c.sourcedId) AND "
        "(SELECT count(*) FROM enrollments e WHERE e.class_id = c.sourcedId "
        "AND e.role = 'student') >= 1 ORDER BY c.seq LIMIT 1").fetchone()
    term, start, end = conn.execute(
        "SELECT s.sourcedId, s.startDate, s.endDate FROM class_terms t JOIN academicSessions s "
        "ON s.sourcedId = t.term_id WHERE t.class_id = ?", (klass,)).fetchone()
    periods = [r[0] for r in conn.execute(
        "SELECT sourcedId FROM academicSessions WHERE parent_id = ? ORDER BY startDate",
        (term,))]
    other_term_period = conn.execute(
        "SELECT sourcedId FROM academicSessions WHERE type = 'gradingPeriod' AND hidden = 0 "
        "AND parent_id != ? ORDER BY startDate", (term,)).fetchone()[0]
    category = conn.execute("SELECT sourcedId FROM categories WHERE class_id = ? ORDER BY seq",
                            (klass,)).fetchone()[0]
    student = conn.execute("SELECT user_id FROM enrollments WHERE class_id = ? AND role = "
                           "'student' ORDER BY seq", (klass,)).fetchone()[0]
    stranger = conn.execute(
        "SELECT sourcedId FROM users WHERE role = 'student' AND hidden = 0 AND sourcedId NOT IN "
        "(SELECT user_id FROM enrollments WHERE class_id = ?) ORDER BY seq",
        (klass,)).fetchone()[0]
    other_class = conn.execute("SELECT sourcedId FROM classes WHERE sourcedId != ? AND "
                               "hidden = 0 ORDER BY seq", (klass,)).fetchone()[0]
    district = conn.execute("SELECT sourcedId FROM orgs WHERE type = 'district'").fetchone()[0]
    taken = conn.execute("SELECT title FROM lineItems WHERE class_id = ? AND status = 'active'",
                         (klass,)).fetchone()[0]
    return {"class": klass, "school": school, "term": term, "term_start": start,
            "term_end": end, "q1": periods[0], "other_term_period": other_term_period,
            "category": category, "student": student, "stranger": stranger,
            "other_class": other_class, "district": district, "taken_title": taken}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("gradebook-writes") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    store = Store(path)
    readonly = frozenset({SCOPE_PREFIX_V12 + "gradebook.readonly"})
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11),
        Connection(name="roster", client_id="roster", client_secret="roster-secret",
                   scopes=ROSTER_ONLY, connection_type="unsupported"),
        Connection(name="reader", client_id="reader", client_secret="reader-secret",
                   scopes=readonly, version="1.2"),
    ]
    app = create_app(store, connections, Settings())
    with live_server(app) as url:
        headers = {"Authorization": f"Bearer {_token(url, 'lms')}"}
        with httpx.Client(base_url=url, headers=headers, timeout=20) as api:
            yield Env(url, app, store, path, api, _pick_ids(store.conn))
    _close_writer(app)
    store.close()


@pytest.fixture()
def settings(env: Env) -> Iterator[callable]:
    """Swap the live app's settings for one test."""
    state = mock_state(env.app)
    original = state.settings

    def use(**values: object) -> None:
        state.settings = Settings(**values)

    yield use
    state.settings = original


def _put(env: Env, table: str, sid: str, key: str, record: dict,
         base: str = G12) -> httpx.Response:
    return env.api.put(f"{base}/{table}/{sid}", json={key: record})


def _description(response: httpx.Response) -> str:
    body = response.json()
    if "statusInfoSet" in body:
        return body["statusInfoSet"][0]["imsx_description"]
    return body["imsx_description"]


def _rejected(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    text = _description(response)
    for word in words:
        assert word in text, (word, text)


# --- Google's partner flow ------------------------------------------------------------------


def test_partner_flow(env: Env) -> None:
    api, ids = env.api, env.ids
    sent = env.line_item("g-li-1")
    created = _put(env, "lineItems", "g-li-1", "lineItem", sent)
    assert created.status_code == 201, created.text
    assert created.content == b""
    got = api.get(f"{G12}/lineItems/g-li-1").json()["lineItem"]
    assert got["dateLastModified"] != sent["dateLastModified"]
    assert got["dateLastModified"].endswith("Z") and len(got["dateLastModified"]) == 20
    assert got == {**sent, "dateLastModified": got["dateLastModified"]}
    assert got["class"]["href"].startswith("http://127.0.0.1:")

    changed = {**sent, "title": "Essay one, revised"}
    updated = _put(env, "lineItems", "g-li-1", "lineItem", changed)
    assert updated.status_code == 200, updated.text
    assert api.get(f"{G12}/lineItems/g-li-1").json()["lineItem"]["title"] == "Essay one, revised"

    # A score above resultValueMax is kept as sent.
    over = env.result("g-r-1", "g-li-1", score=300)
    assert _put(env, "results", "g-r-1", "result", over).status_code == 201
    assert api.get(f"{G12}/results/g-r-1").json()["result"]["score"] == 300
    exempt = env.result("g-r-2", "g-li-1", scoreStatus="exempt", score=None,
                        comment="Excused", late="false")
    # Another student of the class for the second result, where there is one.
    second = env.store.conn.execute(
        "SELECT user_id FROM enrollments WHERE class_id = ? AND role = 'student' "
        "AND user_id != ? ORDER BY seq", (ids["class"], ids["student"])).fetchone()
    if second:
        exempt["student"] = env.ref("users", second[0], "user")
    assert _put(env, "results", "g-r-2", "result", exempt).status_code == 201
    got_exempt = api.get(f"{G12}/results/g-r-2").json()["result"]
    assert got_exempt == {**exempt, "dateLastModified": got_exempt["dateLastModified"]}
    ext = env.result("g-r-1", "g-li-1", scoreStatus="ext:late.penalty", score=300)
    assert _put(env, "results", "g-r-1", "result", ext).status_code == 200
    assert api.get(f"{G12}/results/g-r-1").json()["result"]["scoreStatus"] == "ext:late.penalty"

    listed = api.get(f"{G12}/classes/{ids['class']}/lineItems/g-li-1/results").json()["results"]
    assert {r["sourcedId"] for r in listed} == {"g-r-1", "g-r-2"}

    assert api.delete(f"{G12}/lineItems/g-li-1").status_code == 204
    assert api.get(f"{G12}/lineItems/g-li-1").status_code == 404
    assert api.delete(f"{G12}/lineItems/g-li-1").status_code == 404
    # Campus keeps scores already posted when the assignment goes away.
    assert api.get(f"{G12}/results/g-r-1").status_code == 200
    assert api.delete(f"{G12}/results/g-r-1").status_code == 204
    assert api.get(f"{G12}/results/g-r-1").status_code == 404


def _writes(env: Env) -> int:
    row = env.store.conn.execute("SELECT value FROM meta WHERE key = 'writes'").fetchone()
    return int(row[0]) if row else 0


def test_the_file_counts_its_accepted_writes_and_no_refused_one(env: Env) -> None:
    """So a restarted serve can say the district changed, and generate never reuses it as
    the generated one."""
    before = _writes(env)
    assert _put(env, "lineItems", "n-li", "lineItem", env.line_item("n-li")).status_code == 201
    assert _writes(env) == before + 1
    refused = _put(env, "lineItems", "n-bad", "lineItem",
                   env.line_item("n-bad", **{"class": env.ref("classes", "nope", "class")}))
    assert refused.status_code in (400, 422)
    assert _writes(env) == before + 1
    assert env.api.delete(f"{G12}/lineItems/n-li").status_code == 204
    assert _writes(env) == before + 2


def test_delete_with_cascade_removes_the_results(env: Env) -> None:
    assert _put(env, "lineItems", "c-li", "lineItem", env.line_item("c-li")).status_code == 201
    result = env.result("c-r", "c-li")
    assert _put(env, "results", "c-r", "result", result).status_code == 201
    assert env.api.delete(f"{G12}/lineItems/c-li", params={"cascade": "true"}).status_code == 204
    assert env.api.get(f"{G12}/results/c-r").status_code == 404


def test_categories_and_score_scales_round_trip(env: Env) -> None:
    category = {"sourcedId": "cat-1", "title": "Projects", "weight": 0.25}
    assert _put(env, "categories", "cat-1", "category", category).status_code == 201
    got = env.api.get(f"{G12}/categories/cat-1").json()["category"]
    assert got["title"] == "Projects" and got["weight"] == 0.25 and got["status"] == "active"
    scale = {"title": "Pass/Fail", "type": "passFail",
             "class": env.ref("classes", env.ids["class"], "class"),
             "scoreScaleValue": [{"itemValueLHS": "60", "itemValueRHS": "Pass"},
                                 {"itemValueLHS": "0", "itemValueRHS": "Fail"}]}
    assert _put(env, "scoreScales", "ss-1", "scoreScale", scale).status_code == 201
    got = env.api.get(f"{G12}/scoreScales/ss-1").json()["scoreScale"]
    assert got["sourcedId"] == "ss-1" and got["scoreScaleValue"] == scale["scoreScaleValue"]
    assert env.api.delete(f"{G12}/scoreScales/ss-1").status_code == 204
    assert env.api.delete(f"{G12}/categories/cat-1").status_code == 204
    assert env.api.get(f"{G12}/categories/cat-1").status_code == 404


def test_stored_columns_match_the_json(env: Env) -> None:
    assert _put(env, "lineItems", "col-li", "lineItem", env.line_item("col-li")).status_code == 201
    conn = sqlite3.connect(env.path)
    try:
        row = conn.execute("SELECT class_id, school_id, category_id, gradingPeriod_id, "
                           f"dueDate, {texts_sql('lineItems')}, seq FROM lineItems "
                           "WHERE sourcedId = 'col-li'").fetchone()
        top = conn.execute("SELECT max(seq) FROM lineItems").fetchone()[0]
    finally:
        conn.close()
    ids = env.ids
    assert row[:5] == (ids["class"], ids["school"], ids["category"], ids["q1"],
                       "2026-09-10T23:59:00Z")
    assert f'"class":{{"@c":"{ids["class"]}"}}' in row[5]
    assert '"school"' not in row[6] and '"resultValueMax":100.0' in row[6]
    assert row[7] == top


# --- rules: one accepted and one rejected case each -------------------------------------------


def test_reference_exists(env: Env) -> None:
    bad = env.line_item("r-li", **{"class": env.ref("classes", "nope", "class")})
    _rejected(_put(env, "lineItems", "r-li", "lineItem", bad), 422, "reference_exists",
              "unknown class nope")
    bad = env.result("r-r", "missing-li")
    _rejected(_put(env, "results", "r-r", "result", bad), 422, "unknown lineItem missing-li")
    assert _put(env, "lineItems", "r-li", "lineItem", env.line_item("r-li")).status_code == 201
    assert env.api.get(f"{G12}/lineItems/r-li").status_code == 200


def test_result_student_enrolled(env: Env) -> None:
    assert _put(env, "lineItems", "e-li", "lineItem", env.line_item("e-li")).status_code == 201
    stranger = env.result("e-r", "e-li")
    stranger["student"] = env.ref("users", env.ids["stranger"], "user")
    _rejected(_put(env, "results", "e-r", "result", stranger), 422, "result_student_enrolled",
              env.ids["stranger"], env.ids["class"])
    assert _put(env, "results", "e-r", "result", env.result("e-r", "e-li")).status_code == 201


def test_result_class_matches_line_item(env: Env) -> None:
    assert _put(env, "lineItems", "m-li", "lineItem", env.line_item("m-li")).status_code == 201
    other = env.result("m-r", "m-li", **{"class": env.ref("classes", env.ids["other_class"],
                                                          "class")})
    _rejected(_put(env, "results", "m-r", "result", other), 422,
              "result_class_matches_line_item", env.ids["other_class"], env.ids["class"])
    no_class = env.result("m-r", "m-li", **{"class": None})
    assert _put(env, "results", "m-r", "result", no_class).status_code == 201
    got = env.api.get(f"{G12}/results/m-r").json()["result"]
    assert got["class"]["sourcedId"] == env.ids["class"]  # filled from the line item


def test_line_item_session_in_class_terms(env: Env) -> None:
    period = env.ids["other_term_period"]
    bad = env.line_item("s-li", gradingPeriod=env.ref("academicSessions", period,
                                                      "academicSession"))
    _rejected(_put(env, "lineItems", "s-li", "lineItem", bad), 422,
              "line_item_session_in_class_terms", period, env.ids["class"])
    term = env.line_item("s-li", gradingPeriod=None,
                         academicSession=env.ref("academicSessions", env.ids["term"],
                                                 "academicSession"))
    assert _put(env, "lineItems", "s-li", "lineItem", term).status_code == 201


def test_assign_before_due(env: Env) -> None:
    bad = env.line_item("a-li", assignDate="2026-09-11T08:00:00Z")
    _rejected(_put(env, "lineItems", "a-li", "lineItem", bad), 422, "assign_before_due",
              "2026-09-11T08:00:00Z", "2026-09-10T23:59:00Z")
    same = env.line_item("a-li", assignDate="2026-09-10T23:59:00Z")
    assert _put(env, "lineItems", "a-li", "lineItem", same).status_code == 201


def test_line_item_school_matches_class(env: Env, settings) -> None:
    # The tiny district has one school, so the district org stands in for another school
    # (with reference_exists off, which would call it an unknown school first).
    district = env.ids["district"]
    bad = env.line_item("h-li", school=env.ref("orgs", district, "org"))
    _rejected(_put(env, "lineItems", "h-li", "lineItem", bad), 422, "reference_exists",
              f"unknown school {district}")
    settings(disabled_rules=frozenset({"reference_exists"}))
    _rejected(_put(env, "lineItems", "h-li", "lineItem", bad), 422,
              "line_item_school_matches_class", district, env.ids["school"])
    assert _put(env, "lineItems", "h-li", "lineItem", env.line_item("h-li")).status_code == 201


def test_dates_within_class_terms(env: Env, settings) -> None:
    ids = env.ids
    bad = env.line_item("d-li", dueDate="2027-07-01T12:00:00Z")
    _rejected(_put(env, "lineItems", "d-li", "lineItem", bad), 422, "dates_within_class_terms",
              f"dueDate 2027-07-01 is outside term {ids['term_start']}..{ids['term_end']} "
              f"of class {ids['class']}")
    # The term's end date is exclusive.
    at_end = env.line_item("d-li", dueDate=f"{ids['term_end']}T10:00:00Z")
    _rejected(_put(env, "lineItems", "d-li", "lineItem", at_end), 422, f"dueDate {ids['term_end']}")
    early = env.line_item("d-li", assignDate="2026-08-01T08:00:00Z")
    _rejected(_put(env, "lineItems", "d-li", "lineItem", early), 422, "assignDate 2026-08-01")
    assert _put(env, "lineItems", "d-li", "lineItem", env.line_item("d-li")).status_code == 201
    settings(disabled_rules=frozenset({"dates_within_class_terms"}))
    assert _put(env, "lineItems", "d-li", "lineItem", bad).status_code == 200


def test_title_rules(env: Env, settings) -> None:
    _rejected(_put(env, "lineItems", "t-li", "lineItem", env.line_item("t-li", title="  ")),
              422, "title_required")
    long = "x" * 51
    _rejected(_put(env, "lineItems", "t-li", "lineItem", env.line_item("t-li", title=long)),
              422, "title_max_length", "51 characters", "50")
    taken = env.ids["taken_title"]
    _rejected(_put(env, "lineItems", "t-li", "lineItem", env.line_item("t-li", title=taken)),
              422, "title_unique_in_class", taken, env.ids["class"])
    fifty = "y" * 50
    assert _put(env, "lineItems", "t-li", "lineItem",
                env.line_item("t-li", title=fifty)).status_code == 201
    # Its own title is no clash when it is replaced.
    assert _put(env, "lineItems", "t-li", "lineItem",
                env.line_item("t-li", title=fifty)).status_code == 200
    settings(disabled_rules=frozenset({"title_max_length"}))
    assert _put(env, "lineItems", "t-li", "lineItem",
                env.line_item("t-li", title=long)).status_code == 200


def test_max_title_length_setting(env: Env, settings) -> None:
    settings(max_title_length=30)
    bad = env.line_item("t30-li", title="z" * 31)
    _rejected(_put(env, "lineItems", "t30-li", "lineItem", bad), 422, "more than 30")


def test_uncategorized_default(env: Env, settings) -> None:
    klass = env.ids["class"]
    body = env.line_item("u-li", category=None)
    assert _put(env, "lineItems", "u-li", "lineItem", body).status_code == 201
    got = env.api.get(f"{G12}/lineItems/u-li").json()["lineItem"]
    assert got["category"]["sourcedId"] == f"uncategorized-{klass}"
    category = env.api.get(f"{G12}/categories/uncategorized-{klass}").json()["category"]
    assert category["title"] == "Uncategorized"
    listed = env.api.get(f"{G12}/classes/{klass}/categories").json()["categories"]
    assert [c["sourcedId"] for c in listed].count(f"uncategorized-{klass}") == 1
    settings(disabled_rules=frozenset({"uncategorized_default"}))
    _rejected(_put(env, "lineItems", "u-li2", "lineItem", env.line_item("u-li2", category=None)),
              400, "schema", "category")


# --- who may write ------------------------------------------------------------------------


def test_a_rostering_only_connection_gets_403(env: Env) -> None:
    headers = {"Authorization": f"Bearer {_token(env.url, 'roster')}"}
    response = httpx.put(f"{env.url}{G12}/lineItems/x-li", headers=headers,
                         json={"lineItem": env.line_item("x-li")})
    _rejected(response, 403, "connection_supported", "roster")
    assert httpx.delete(f"{env.url}{G12}/lineItems/x-li", headers=headers).status_code == 403


def test_a_token_without_createput_gets_403(env: Env) -> None:
    headers = {"Authorization": f"Bearer {_token(env.url, 'reader')}"}
    assert httpx.get(f"{env.url}{G12}/lineItems", headers=headers).status_code == 200
    response = httpx.put(f"{env.url}{G12}/lineItems/x-li", headers=headers,
                         json={"lineItem": env.line_item("x-li")})
    _rejected(response, 403, "gradebook.createput")
    response = httpx.delete(f"{env.url}{G12}/lineItems/x-li", headers=headers)
    _rejected(response, 403, "gradebook.delete")
    assert env.api.get(f"{G12}/lineItems/x-li").status_code == 404


# --- malformed requests -------------------------------------------------------------------


def test_malformed_requests_get_400(env: Env) -> None:
    url = f"{G12}/lineItems/bad-li"
    _rejected(env.api.put(url, content=b'{"lineItem": {', headers={
        "Content-Type": "application/json"}), 400, "json_body")
    _rejected(env.api.put(url, content=b'{"lineItem": NaN}'), 400, "json_body")
    _rejected(env.api.put(url, json={"result": env.line_item("bad-li")}), 400, "envelope",
              "lineItem")
    _rejected(env.api.put(url, json={"lineItem": env.line_item("other-id")}), 400,
              "sourcedid_matches_path", "other-id", "bad-li")
    _rejected(env.api.put(url, json={"lineItem": env.line_item("bad-li", dueDate="soon")}), 400,
              "schema", "lineItem.dueDate", "soon")
    assert env.api.get(url).status_code == 404


# --- durability and concurrency ---------------------------------------------------------------


def test_concurrent_puts_stay_consistent(env: Env) -> None:
    before = env.store.conn.execute("SELECT count(*) FROM lineItems").fetchone()[0]
    jobs = [(f"k-li-{n % 4}", attempt) for attempt in range(4) for n in range(4)]

    def put(job: tuple[str, int]) -> int:
        sid, attempt = job
        body = env.line_item(sid, title=f"Concurrent {sid} #{attempt}")
        return env.api.put(f"{G12}/lineItems/{sid}", json={"lineItem": body}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(put, jobs))
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 4 and statuses.count(200) == 12
    conn = env.store.conn
    assert conn.execute("SELECT count(*) FROM lineItems").fetchone()[0] == before + 4
    rows = conn.execute(f"SELECT sourcedId, count(*), {doc_sql('lineItems', '1.2')} FROM lineItems "
                        "WHERE sourcedId LIKE "
                        "'k-li-%' GROUP BY sourcedId").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(f"k-li-{n}", 1) for n in range(4)]
    for sid, _, text in rows:
        title = env.api.get(f"{G12}/lineItems/{sid}").json()["lineItem"]["title"]
        assert title.startswith(f"Concurrent {sid} #") and title in text


def test_writes_show_in_a_delta_read(env: Env) -> None:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
    assert _put(env, "lineItems", "dl-li", "lineItem", env.line_item("dl-li")).status_code == 201
    delta = env.api.get(f"{G12}/lineItems",
                        params={"filter": f"dateLastModified>'{since}'"}).json()["lineItems"]
    ids = {item["sourcedId"] for item in delta}
    assert "dl-li" in ids
    assert all(item["dateLastModified"] > since for item in delta)


def test_update_status_setting(env: Env, settings) -> None:
    assert _put(env, "lineItems", "us-li", "lineItem", env.line_item("us-li")).status_code == 201
    settings(update_status=201)
    assert _put(env, "lineItems", "us-li", "lineItem", env.line_item("us-li")).status_code == 201


# --- OneRoster 1.1 ------------------------------------------------------------------------


def test_1_1_put_and_delete(env: Env) -> None:
    ids = env.ids

    def ref11(collection: str, sid: str, kind: str) -> dict:
        return {"href": f"{env.url}{V11}/{collection}/{sid}", "sourcedId": sid, "type": kind}

    category = {"sourcedId": "v11-cat", "status": "active",
                "dateLastModified": "2026-01-01T00:00:00Z", "title": "Labs"}
    assert _put(env, "categories", "v11-cat", "category", category, V11).status_code == 201
    item = {"title": "Lab report", "assignDate": "2026-09-01T08:00:00Z",
            "dueDate": "2026-09-08T23:59:00Z", "class": ref11("classes", ids["class"], "class"),
            "category": ref11("categories", ids["category"], "category"),
            "gradingPeriod": ref11("academicSessions", ids["q1"], "academicSession"),
            "resultValueMin": 0, "resultValueMax": 20}
    assert _put(env, "lineItems", "v11-li", "lineItem", item, V11).status_code == 201
    got = env.api.get(f"{V11}/lineItems/v11-li").json()["lineItem"]
    assert got["resultValueMax"] == 20 and got["class"]["href"].startswith(f"{env.url}{V11}/")
    assert "school" not in got
    as12 = env.api.get(f"{G12}/lineItems/v11-li").json()["lineItem"]
    assert as12["school"]["sourcedId"] == ids["school"]
    missing_score = {"lineItem": ref11("lineItems", "v11-li", "lineItem"),
                     "student": ref11("users", ids["student"], "user"),
                     "scoreStatus": "fully graded", "scoreDate": "2026-09-09"}
    _rejected(_put(env, "results", "v11-r", "result", missing_score, V11), 400, "schema",
              "score")
    result = {**missing_score, "score": 19.5}
    assert _put(env, "results", "v11-r", "result", result, V11).status_code == 201
    assert env.api.get(f"{V11}/results/v11-r").json()["result"]["score"] == 19.5
    assert env.api.get(f"{G12}/results/v11-r").json()["result"]["class"]["sourcedId"] == (
        ids["class"])
    bad = {**item, "dueDate": "2027-07-01T00:00:00Z"}
    response = _put(env, "lineItems", "v11-li", "lineItem", bad, V11)
    _rejected(response, 422, "dates_within_class_terms", "2027-07-01")
    assert response.json()["statusInfoSet"][0]["imsx_codeMinor"] == "invalid data"
    assert env.api.put(f"{V11}/scoreScales/x", json={"scoreScale": {}}).status_code in (404, 405)
    for table, sid in (("results", "v11-r"), ("lineItems", "v11-li"), ("categories", "v11-cat")):
        assert env.api.delete(f"{V11}/{table}/{sid}").status_code == 204
        assert env.api.get(f"{V11}/{table}/{sid}").status_code == 404


def test_a_rejected_write_changes_nothing(env: Env) -> None:
    assert _put(env, "lineItems", "n-li", "lineItem", env.line_item("n-li")).status_code == 201
    before = env.store.content_hash()
    # Without a category (the Uncategorized one would be created) and with a bad due date.
    bad = env.line_item("n-li", category=None, dueDate="2027-07-01T00:00:00Z")
    _rejected(_put(env, "lineItems", "n-li", "lineItem", bad), 422, "dates_within_class_terms")
    _rejected(_put(env, "results", "n-r", "result", env.result("n-r", "nope")), 422,
              "reference_exists")
    assert env.store.content_hash() == before


def test_campus_wants_the_vendor_header_on_writes(env: Env) -> None:
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12, vendor_key="vk:vs")
    store = Store(env.path)
    app = create_app(store, [lms], Settings(profile=profile_for("infinite-campus", "d")))
    try:
        with live_server(app) as url:
            token = httpx.post(f"{url}/campus/oauth2/token?appName=d",
                               data={"grant_type": "client_credentials"},
                               auth=("lms", "lms-secret")).json()["access_token"]
            target = f"{url}/campus/api/oneroster/v1p2/d{G12}/lineItems/ic-li"
            body = {"lineItem": env.line_item("ic-li")}
            bearer = {"Authorization": f"Bearer {token}"}
            assert httpx.put(target, headers=bearer, json=body).status_code == 401
            right = {**bearer, "x-vendor-authorization": "vk:vs"}
            assert httpx.put(target, headers=right, json=body).status_code == 201
            assert httpx.delete(target, headers=bearer).status_code == 401
            assert httpx.delete(target, headers=right).status_code == 204
    finally:
        _close_writer(app)
        store.close()


def _close_writer(app: Starlette) -> None:
    mock_state(app).close()


def test_campus_1_1_writes_take_the_ids_campus_serves(env: Env) -> None:
    """Issue 18: a 1.1 result names its student as Campus serves it (``s200123``); it is
    stored under the user's GUID, served back as sent, and a refusal names the Campus id."""
    ids = env.ids
    served = legacy_ids_for(env.store.conn, {ids["student"], ids["stranger"]})
    student, stranger = served[ids["student"]], served[ids["stranger"]]
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V11)
    store = Store(env.path)
    app = create_app(store, [lms], Settings(profile=profile_for("infinite-campus", "d")))
    base = f"/campus/api/oneroster/v1p1/d{V11}"
    try:
        with live_server(app) as url:
            token = httpx.post(f"{url}/campus/oauth2/token?appName=d",
                               data={"grant_type": "client_credentials"},
                               auth=("lms", "lms-secret")).json()["access_token"]
            api = httpx.Client(base_url=f"{url}{base}",
                               headers={"Authorization": f"Bearer {token}"})

            def ref(collection: str, sid: str, kind: str) -> dict:
                return {"href": f"{url}{base}/{collection}/{sid}", "sourcedId": sid,
                        "type": kind}

            assert api.get(f"/users/{student}").status_code == 200
            item = {"title": "Campus lab", "assignDate": "2026-09-01T08:00:00Z",
                    "dueDate": "2026-09-08T23:59:00Z",
                    "class": ref("classes", ids["class"], "class"),
                    "category": ref("categories", ids["category"], "category"),
                    "gradingPeriod": ref("academicSessions", ids["q1"], "academicSession"),
                    "resultValueMin": 0, "resultValueMax": 20}
            assert api.put("/lineItems/ic11-li", json={"lineItem": item}).status_code == 201
            result = {"lineItem": ref("lineItems", "ic11-li", "lineItem"),
                      "student": ref("users", student, "user"), "scoreStatus": "fully graded",
                      "score": 17.0, "scoreDate": "2026-09-09"}
            assert api.put("/results/ic11-r", json={"result": result}).status_code == 201
            got = api.get("/results/ic11-r").json()["result"]
            assert got["student"]["sourcedId"] == student
            assert store.conn.execute("SELECT student_id FROM results WHERE sourcedId = "
                                      "'ic11-r'").fetchone()[0] == ids["student"]
            mine = api.get(f"/classes/{ids['class']}/students/{student}/results").json()
            assert "ic11-r" in {r["sourcedId"] for r in mine["results"]}
            outsider = {**result, "student": ref("users", stranger, "user")}
            refused = api.put("/results/ic11-x", json={"result": outsider})
            _rejected(refused, 422, "result_student_enrolled", f"student {stranger} ")
            assert ids["stranger"] not in refused.text
            for table, sid in (("results", "ic11-r"), ("lineItems", "ic11-li")):
                assert api.delete(f"/{table}/{sid}").status_code == 204
            api.close()
    finally:
        _close_writer(app)
        store.close()
