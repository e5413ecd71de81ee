"""A stateful test of the grade book: Hypothesis drives a real mock (a fresh tiny district in a
real SQLite file, real uvicorn, real HTTP) with sequences of line item, result and category
PUTs, DELETEs, bulk POSTs and ``/admin/tick`` clock moves, valid and invalid, and holds the
answers against a plain Python model of what must be stored:

* every acknowledged write reads back equal, by id and in its collection, with the server's
  ``status`` and ``dateLastModified`` (never before the district clock);
* a deleted record answers 404, and so does deleting it again;
* a refused write (4xx naming its rule) changed nothing in the file;
* each collection's X-Total-Count is the count the model expects;
* a tick never drops or alters a grade-book record written before it.

Every example starts with ``/admin/reset`` (the generated district again). Rosters are read
from the file (ticks enrol, withdraw and move students), so a result is only "valid" for a
student the class has right now.
"""

from __future__ import annotations

import calendar
import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.state import mock_state
from mock_provider.store import Store

from .conftest import examples
from .live_server import live_server

G12 = "/ims/oneroster/gradebook/v1p2"
ADMIN_TOKEN = "state-machine-admin"
TABLES = ("lineItems", "results", "categories")
KEYS = {"lineItems": "lineItem", "results": "result", "categories": "category"}
# Where an example's own records are found in a collection: every text field it writes
# carries the example's prefix (sourcedIds do not always: a bulk POST may allocate a UUID).
MARKED = {"lineItems": "title", "results": "comment", "categories": "title"}
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
Refusal = tuple[httpx.Response, int, str]  # the answer, its status, its rule
# Printable text without surrogates (they cannot be sent as UTF-8 JSON).
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@dataclass(frozen=True)
class Klass:
    sid: str
    school: str
    term: str
    start: dt.date  # first day of its first term
    end: dt.date  # end of its last term (exclusive)
    categories: tuple[str, ...]  # the generated ones
    titles: frozenset[str]  # titles of its generated active line items

    def __repr__(self) -> str:  # how a failing example names it
        return f"Klass({self.sid!r})"


@dataclass
class Mock:
    url: str
    api: httpx.Client  # gradebook 1.2 base, with the connection's bearer token
    admin: httpx.Client
    db: sqlite3.Connection  # the test's own read connection: rosters and uncategorized ids
    store: Store  # the test's own read-only store, for content hashes
    classes: tuple[Klass, ...]


def _classes(db: sqlite3.Connection) -> tuple[Klass, ...]:
    """Up to three classes with terms and at least two enrolled students."""
    found = []
    rows = db.execute(
        "SELECT c.sourcedId, c.school_id FROM classes c WHERE c.hidden = 0 AND c.status = "
        "'active' AND EXISTS (SELECT 1 FROM class_terms t WHERE t.class_id = c.sourcedId) AND "
        "(SELECT count(*) FROM enrollments e WHERE e.class_id = c.sourcedId AND e.role = "
        "'student' AND e.status = 'active' AND e.hidden = 0) >= 2 ORDER BY c.seq LIMIT 3")
    for sid, school in rows.fetchall():
        terms = db.execute(
            "SELECT s.sourcedId, s.startDate, s.endDate FROM class_terms t JOIN academicSessions"
            " s ON s.sourcedId = t.term_id WHERE t.class_id = ? ORDER BY s.startDate",
            (sid,)).fetchall()
        categories = tuple(r[0] for r in db.execute(
            "SELECT sourcedId FROM categories WHERE class_id = ? AND status = 'active' AND "
            "hidden = 0 ORDER BY seq", (sid,)))
        titles = frozenset(r[0] for r in db.execute(
            "SELECT title FROM lineItems WHERE class_id = ? AND status = 'active' AND "
            "hidden = 0", (sid,)))
        found.append(Klass(sid, school, terms[0][0], dt.date.fromisoformat(terms[0][1]),
                           dt.date.fromisoformat(max(t[2] for t in terms)), categories, titles))
    assert len(found) >= 2, "the tiny district has classes with students"
    return tuple(found)


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mock]:
    path = tmp_path_factory.mktemp("gradebook-state") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    served = Store(path)
    lms = Connection(name="lms", client_id="lms", client_secret="lms-secret",
                     scopes=ALL_SCOPES_V12)
    app = create_app(served, [lms], admin_token=ADMIN_TOKEN)
    db = sqlite3.connect(path)
    mine = Store(path)
    try:
        with live_server(app) as url:
            token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                               auth=("lms", "lms-secret")).json()["access_token"]
            with (httpx.Client(base_url=url + G12, timeout=20,
                               headers={"Authorization": f"Bearer {token}"}) as api,
                  httpx.Client(base_url=url + "/admin", timeout=20,
                               headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin):
                yield Mock(url, api, admin, db, mine, _classes(db))
    finally:
        mock_state(app).close()  # the grade-book writer's connection
        db.close()
        mine.close()
        served.close()


def _epoch(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def _description(response: httpx.Response) -> str:
    body = response.json()
    if "statusInfoSet" in body:
        return body["statusInfoSet"][0]["imsx_description"]
    return body["imsx_description"]


class GradebookMachine(RuleBasedStateMachine):
    mock: Mock  # set by the test before the run

    def __init__(self) -> None:
        super().__init__()
        # Each example starts from the generated district (``read_the_world`` resets it), so
        # what it draws depends on its own steps only and Hypothesis can replay and shrink it.
        self.prefix = "smx"
        self.serial = 0
        # The model: per table, sourcedId -> the record as it must read back; and the
        # sourcedIds deleted. Both keep the order of the steps, never a sorted one: a bulk POST
        # may allocate random UUIDs, and a draw from a list in their order would not replay.
        self.alive: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TABLES}
        self.deleted: dict[str, dict[str, None]] = {t: {} for t in TABLES}
        self.baseline: dict[str, int] = {}
        self.clock = ""
        # Whether a step changed the district since the collections were last compared (a
        # refused write is proven unchanged by the file's hash instead).
        self.changed = False

    # --- helpers ------------------------------------------------------------------------

    @property
    def m(self) -> Mock:
        return self.mock

    def fresh(self, kind: str) -> str:
        self.serial += 1
        return f"{self.prefix}-{kind}-{self.serial}"

    def ref(self, service: str, collection: str, sid: str, kind: str) -> dict[str, str]:
        return {"href": f"{self.m.url}/ims/oneroster/{service}/v1p2/{collection}/{sid}",
                "sourcedId": sid, "type": kind}

    def klass(self, sid: str) -> Klass:
        return next(k for k in self.m.classes if k.sid == sid)

    def students(self, klass: Klass) -> list[str]:
        """The class's students right now (ticks change them)."""
        return [r[0] for r in self.m.db.execute(
            "SELECT user_id FROM enrollments e JOIN users u ON u.sourcedId = e.user_id WHERE "
            "e.class_id = ? AND e.role = 'student' AND e.status = 'active' AND e.hidden = 0 AND "
            "u.status = 'active' AND u.hidden = 0 ORDER BY e.seq", (klass.sid,))]

    def strangers(self, klass: Klass) -> list[str]:
        """Active students with no active enrollment in the class."""
        return [r[0] for r in self.m.db.execute(
            "SELECT sourcedId FROM users WHERE role = 'student' AND status = 'active' AND "
            "hidden = 0 AND sourcedId NOT IN (SELECT user_id FROM enrollments WHERE class_id = ?"
            " AND status = 'active') ORDER BY seq LIMIT 5", (klass.sid,))]

    def taken_titles(self, klass: Klass, besides: str | None = None) -> set[str]:
        mine = {r["title"] for sid, r in self.alive["lineItems"].items()
                if r["class"]["sourcedId"] == klass.sid and sid != besides}
        return set(klass.titles) | mine

    def categories_for(self, klass: Klass) -> list[str | None]:
        """Categories a line item of the class may name; None: send none (Uncategorized)."""
        mine = [sid for sid, r in self.alive["categories"].items() if r["title"] != "Uncategorized"]
        return [None, *klass.categories, *mine]

    def uncategorized_exists(self, sid: str) -> bool:
        return self.m.db.execute("SELECT 1 FROM categories WHERE sourcedId = ?",
                                 (sid,)).fetchone() is not None

    def total(self, table: str) -> int:
        response = self.m.api.get(f"/{table}", params={"limit": 1})
        assert response.status_code == 200, response.text
        return int(response.headers["X-Total-Count"])

    def read_back(self, table: str, sid: str, expected: dict[str, Any], before: float,
                  after: float) -> dict[str, Any]:
        """GET by id right after an acknowledged write: the record as sent, with the server's
        status and a dateLastModified of the write's moment (never before the clock)."""
        response = self.m.api.get(f"/{table}/{sid}")
        assert response.status_code == 200, (sid, response.text)
        got = response.json()[KEYS[table]]
        self.changed = True
        stamp = got["dateLastModified"]
        clock = _epoch(self.clock)
        assert max(int(before), clock) <= _epoch(stamp) <= max(int(after) + 1, clock), (
            stamp, self.clock)
        assert got == {**expected, "sourcedId": sid, "status": "active",
                       "dateLastModified": stamp}
        return got

    def put(self, table: str, sid: str, body: dict[str, Any]) -> httpx.Response:
        return self.m.api.put(f"/{table}/{sid}", json={KEYS[table]: body})

    def some_or_fresh(self, data: st.DataObject, table: str, kind: str) -> str:
        """A sourcedId for a PUT: one of the model's records (a replace), one it deleted (a
        create again: a deletion leaves nothing behind) or a new one."""
        choices = [("new", [self.fresh(kind)]), ("alive", self.alive_ids(table)),
                   ("deleted", self.gone_ids(table))]
        _, ids = data.draw(st.sampled_from([c for c in choices if c[1]]),
                           label=f"which {kind}")
        return data.draw(st.sampled_from(ids), label="sourcedId")

    def line_item_body(self, data: st.DataObject, klass: Klass, sid: str) -> dict[str, Any]:
        """A valid line item of ``klass``: dates inside its terms, a free title."""
        span = (klass.end - klass.start).days
        first = data.draw(st.integers(0, span - 1), label="assign day")
        last = data.draw(st.integers(first, span - 1), label="due day")
        assign = klass.start + dt.timedelta(days=first)
        due = klass.start + dt.timedelta(days=last)
        taken = self.taken_titles(klass, besides=sid)
        title = f"{self.prefix} {data.draw(_TEXT, label='title')}".strip()
        while title in taken:
            title += "+"
        body: dict[str, Any] = {
            "sourcedId": sid,
            # Stale server fields: the server replaces both.
            "status": data.draw(st.sampled_from(["active", "tobedeleted"]), label="status"),
            "dateLastModified": "2001-01-01T00:00:00Z",
            "title": title,
            "assignDate": f"{assign.isoformat()}T08:00:00Z",
            "dueDate": f"{due.isoformat()}T23:59:00Z",
            "class": self.ref("rostering", "classes", klass.sid, "class"),
            "school": self.ref("rostering", "orgs", klass.school, "org"),
            "resultValueMin": 0.0,
            "resultValueMax": data.draw(st.sampled_from([10.0, 100.0]), label="max"),
        }
        category = data.draw(st.sampled_from(self.categories_for(klass)), label="category")
        if category is not None:
            body["category"] = self.ref("gradebook", "categories", category, "category")
        if data.draw(st.booleans(), label="with gradingPeriod"):
            body["gradingPeriod"] = self.ref("rostering", "academicSessions", klass.term,
                                             "academicSession")
        description = data.draw(_TEXT, label="description")
        if description:
            body["description"] = description
        return body

    def expect_line_item(self, body: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """What a valid line item reads back as, and the Uncategorized category it creates."""
        if "category" in body:
            return body, None
        sid = f"uncategorized-{body['class']['sourcedId']}"
        expected = {**body, "category": self.ref("gradebook", "categories", sid, "category")}
        known = sid in self.alive["categories"] or self.uncategorized_exists(sid)
        return expected, None if known else sid

    def created_uncategorized(self, sid: str | None) -> None:
        if sid is None:
            return
        got = self.m.api.get(f"/categories/{sid}")
        assert got.status_code == 200, got.text
        record = got.json()["category"]
        assert record == {"sourcedId": sid, "status": "active", "title": "Uncategorized",
                          "dateLastModified": record["dateLastModified"]}
        self.alive["categories"][sid] = record

    def result_body(self, data: st.DataObject, sid: str, line_item: str,
                    student: str) -> dict[str, Any]:
        item = self.alive["lineItems"][line_item]
        status = data.draw(st.sampled_from(SCORE_STATUSES), label="scoreStatus")
        body: dict[str, Any] = {
            "sourcedId": sid, "status": "active", "dateLastModified": "2001-01-01T00:00:00Z",
            "lineItem": self.ref("gradebook", "lineItems", line_item, "lineItem"),
            "student": self.ref("rostering", "users", student, "user"),
            "class": item["class"],
            "scoreStatus": status,
            "scoreDate": item["dueDate"][:10],
            "comment": f"{self.prefix} {data.draw(_TEXT, label='comment')}",
        }
        if status != "exempt":
            body["score"] = data.draw(st.floats(0, 150, allow_nan=False), label="score")
        return body

    def alive_ids(self, table: str) -> list[str]:
        return list(self.alive[table])

    def gone_ids(self, table: str) -> list[str]:
        """Deleted and not written again."""
        return [sid for sid in self.deleted[table] if sid not in self.alive[table]]

    def forget(self, table: str, sid: str) -> None:
        self.changed = True
        del self.alive[table][sid]
        self.deleted[table][sid] = None

    # --- setup --------------------------------------------------------------------------

    @initialize()
    def read_the_world(self) -> None:
        reset = self.m.admin.post("/reset")
        assert reset.status_code == 200, reset.text
        clock = self.m.admin.get("/clock")
        assert clock.status_code == 200, clock.text
        self.clock = clock.json()["clock"]
        self.baseline = {t: self.total(t) for t in TABLES}
        self.changed = True

    # --- valid writes ---------------------------------------------------------------------

    @rule(data=st.data())
    def put_a_line_item(self, data: st.DataObject) -> None:
        sid = self.some_or_fresh(data, "lineItems", "li")
        replace = sid in self.alive["lineItems"]
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        body = self.line_item_body(data, klass, sid)
        expected, created = self.expect_line_item(body)
        before = time.time()
        response = self.put("lineItems", sid, body)
        after = time.time()
        assert response.status_code == (200 if replace else 201), response.text
        assert response.content == b""
        self.alive["lineItems"][sid] = self.read_back("lineItems", sid, expected, before, after)
        self.created_uncategorized(created)

    @precondition(lambda self: self.alive["lineItems"])
    @rule(data=st.data())
    def put_a_result(self, data: st.DataObject) -> None:
        line_item = data.draw(st.sampled_from(self.alive_ids("lineItems")), label="lineItem")
        students = self.students(self.klass(self.alive["lineItems"][line_item]["class"][
            "sourcedId"]))
        if not students:
            return  # the ticks took every student of the class away
        sid = self.some_or_fresh(data, "results", "r")
        replace = sid in self.alive["results"]
        body = self.result_body(data, sid, line_item, data.draw(st.sampled_from(students)))
        before = time.time()
        response = self.put("results", sid, body)
        after = time.time()
        assert response.status_code == (200 if replace else 201), response.text
        self.alive["results"][sid] = self.read_back("results", sid, body, before, after)

    @rule(data=st.data())
    def put_a_category(self, data: st.DataObject) -> None:
        sid = self.some_or_fresh(data, "categories", "cat")
        replace = sid in self.alive["categories"]
        body: dict[str, Any] = {"sourcedId": sid,
                                "title": f"{self.prefix} {data.draw(_TEXT, label='title')}"}
        weight = data.draw(st.none() | st.floats(0, 1), label="weight")
        if weight is not None:
            body["weight"] = weight
        before = time.time()
        response = self.put("categories", sid, body)
        after = time.time()
        assert response.status_code == (200 if replace else 201), response.text
        self.alive["categories"][sid] = self.read_back("categories", sid, body, before, after)

    @rule(data=st.data())
    def post_line_items_to_a_class(self, data: st.DataObject) -> None:
        """Bulk: each record is stored under its supplied sourcedId, or a fresh one when that
        is taken (by a line item, or by an earlier record of the same POST); a deleted
        record's sourcedId is free again."""
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        count = data.draw(st.integers(1, 3), label="records")
        records: list[dict[str, Any]] = []
        expected: list[dict[str, Any]] = []
        taken = set(self.alive["lineItems"])
        fresh_ids: list[bool] = []
        for _ in range(count):
            supplied = self.some_or_fresh(data, "lineItems", "bli")
            if records and data.draw(st.booleans(), label="repeat a supplied id"):
                supplied = data.draw(st.sampled_from([r["sourcedId"] for r in records]))
            fresh_ids.append(supplied not in taken)
            taken.add(supplied)
            body = self.line_item_body(data, klass, f"{self.prefix}-pending")
            # Titles must also differ from the ones earlier in the same POST.
            while body["title"] in {r["title"] for r in records}:
                body["title"] += "+"
            records.append({**body, "sourcedId": supplied})
            expected.append(body)
        # Before the POST: whether it has to create the class's Uncategorized category.
        wanted = [self.expect_line_item(body) for body in expected]
        created = next((made for _, made in wanted if made), None)
        before = time.time()
        response = self.m.api.post(f"/classes/{klass.sid}/lineItems",
                                   json={"lineItems": records})
        after = time.time()
        assert response.status_code == 201, response.text
        pairs = response.json()["sourcedIdPairs"]
        assert [p["suppliedSourcedId"] for p in pairs] == [r["sourcedId"] for r in records]
        for pair, (want, _), free in zip(pairs, wanted, fresh_ids, strict=True):
            supplied, allocated = pair["suppliedSourcedId"], pair["allocatedSourcedId"]
            if free:
                assert allocated == supplied
            else:
                assert allocated not in self.alive["lineItems"], "a POST never replaces"
                assert allocated != supplied
            self.alive["lineItems"][allocated] = self.read_back(
                "lineItems", allocated, want, before, after)
        self.created_uncategorized(created)

    @precondition(lambda self: self.alive["lineItems"])
    @rule(data=st.data())
    def post_results_for_a_line_item(self, data: st.DataObject) -> None:
        line_item = data.draw(st.sampled_from(self.alive_ids("lineItems")), label="lineItem")
        students = self.students(self.klass(self.alive["lineItems"][line_item]["class"][
            "sourcedId"]))
        if not students:
            return
        records = [self.result_body(data, self.fresh("br"), line_item,
                                    data.draw(st.sampled_from(students)))
                   for _ in range(data.draw(st.integers(1, 3), label="records"))]
        before = time.time()
        response = self.m.api.post(f"/lineItems/{line_item}/results", json={"results": records})
        after = time.time()
        assert response.status_code == 201, response.text
        for pair, body in zip(response.json()["sourcedIdPairs"], records, strict=True):
            assert pair == {"suppliedSourcedId": body["sourcedId"],
                            "allocatedSourcedId": body["sourcedId"]}
            self.alive["results"][body["sourcedId"]] = self.read_back(
                "results", body["sourcedId"], body, before, after)

    @precondition(lambda self: any(self.alive.values()))
    @rule(data=st.data())
    def delete_a_record(self, data: st.DataObject) -> None:
        table = data.draw(st.sampled_from([t for t in TABLES if self.alive[t]]), label="table")
        sid = data.draw(st.sampled_from(self.alive_ids(table)), label="sourcedId")
        cascade = table == "lineItems" and data.draw(st.booleans(), label="cascade")
        params = {"cascade": "true"} if cascade else {}
        response = self.m.api.delete(f"/{table}/{sid}", params=params)
        assert response.status_code == 204, response.text
        self.forget(table, sid)
        if cascade:
            for result, record in list(self.alive["results"].items()):
                if record["lineItem"]["sourcedId"] == sid:
                    self.forget("results", result)
        gone = self.m.api.get(f"/{table}/{sid}")
        assert gone.status_code == 404, gone.text

    @rule(days=st.integers(1, 10))
    def tick(self, days: int) -> None:
        response = self.m.admin.post("/tick", params={"days": days})
        assert response.status_code == 200, response.text
        report = response.json()
        assert report["oldClock"] == self.clock
        assert _epoch(report["newClock"]) == _epoch(self.clock) + days * 86400
        self.clock = report["newClock"]
        self.changed = True

    # --- refused writes -------------------------------------------------------------------
    # Each returns the answer and the (status, rule) it must be refused with, or None when the
    # model has nothing to build it from yet.

    def _late_due_date(self, data: st.DataObject) -> Refusal | None:
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        sid = self.some_or_fresh(data, "lineItems", "li")
        body = self.line_item_body(data, klass, sid)
        late = klass.end + dt.timedelta(days=data.draw(st.integers(40, 400), label="late"))
        body["dueDate"] = f"{late.isoformat()}T12:00:00Z"
        return self.put("lineItems", sid, body), 422, "dates_within_class_terms"

    def _taken_title(self, data: st.DataObject) -> Refusal | None:
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        sid = self.some_or_fresh(data, "lineItems", "li")
        body = self.line_item_body(data, klass, sid)
        taken = sorted(self.taken_titles(klass, besides=sid))
        body["title"] = data.draw(st.sampled_from(taken), label="taken title")
        return self.put("lineItems", sid, body), 422, "title_unique_in_class"

    def _too_long_title(self, data: st.DataObject) -> Refusal | None:
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        sid = self.some_or_fresh(data, "lineItems", "li")
        body = self.line_item_body(data, klass, sid)
        body["title"] = (body["title"] + "x" * 51)[:data.draw(st.integers(51, 80))]
        return self.put("lineItems", sid, body), 422, "title_max_length"

    def _stranger_result(self, data: st.DataObject) -> Refusal | None:
        if not self.alive["lineItems"]:
            return None
        line_item = data.draw(st.sampled_from(self.alive_ids("lineItems")), label="lineItem")
        klass = self.klass(self.alive["lineItems"][line_item]["class"]["sourcedId"])
        strangers = self.strangers(klass)
        if not strangers:
            return None
        stranger = data.draw(st.sampled_from(strangers), label="stranger")
        sid = self.some_or_fresh(data, "results", "r")
        body = self.result_body(data, sid, line_item, stranger)
        return self.put("results", sid, body), 422, "result_student_enrolled"

    def _result_of_a_deleted_line_item(self, data: st.DataObject) -> Refusal | None:
        gone = self.gone_ids("lineItems")
        if not gone:
            return None
        line_item = data.draw(st.sampled_from(gone), label="deleted lineItem")
        # The line item is checked first, so any student will do.
        body = {"lineItem": self.ref("gradebook", "lineItems", line_item, "lineItem"),
                "student": self.ref("rostering", "users", "anyone", "user"),
                "scoreStatus": "submitted", "scoreDate": "2026-10-01"}
        return self.put("results", self.fresh("r"), body), 422, "reference_exists"

    def _another_sourced_id(self, data: st.DataObject) -> Refusal | None:
        klass = data.draw(st.sampled_from(self.m.classes), label="class")
        body = self.line_item_body(data, klass, self.fresh("li"))
        sid = self.some_or_fresh(data, "lineItems", "li")
        return self.put("lineItems", sid, body), 400, "sourcedid_matches_path"

    def _bulk_with_one_stranger(self, data: st.DataObject) -> Refusal | None:
        if not self.alive["lineItems"]:
            return None
        line_item = data.draw(st.sampled_from(self.alive_ids("lineItems")), label="lineItem")
        klass = self.klass(self.alive["lineItems"][line_item]["class"]["sourcedId"])
        strangers = self.strangers(klass)
        if not strangers:
            return None
        records = [self.result_body(data, self.fresh("br"), line_item, student)
                   for student in self.students(klass)[:2]]
        bad = self.result_body(data, self.fresh("br"), line_item,
                               data.draw(st.sampled_from(strangers), label="stranger"))
        at = data.draw(st.integers(0, len(records)), label="bad record at")
        records.insert(at, bad)
        response = self.m.api.post(f"/lineItems/{line_item}/results", json={"results": records})
        if response.status_code == 422:
            assert f"results[{at}]" in _description(response), response.text
        return response, 422, "result_student_enrolled"

    def _delete_what_is_not_there(self, data: st.DataObject) -> Refusal | None:
        gone = [(table, sid) for table in TABLES for sid in self.gone_ids(table)]
        table, sid = (data.draw(st.sampled_from(gone), label="deleted") if gone
                      else ("lineItems", self.fresh("never")))
        return self.m.api.delete(f"/{table}/{sid}"), 404, "Unknown Object"

    @rule(data=st.data())
    def a_bad_write_is_refused_and_changes_nothing(self, data: st.DataObject) -> None:
        kinds = [self._late_due_date, self._taken_title, self._too_long_title,
                 self._stranger_result, self._result_of_a_deleted_line_item,
                 self._another_sourced_id, self._bulk_with_one_stranger,
                 self._delete_what_is_not_there]
        make = data.draw(st.sampled_from(kinds), label="bad write")
        before = self.m.store.content_hash()
        refusal = make(data)
        if refusal is None:
            return
        response, status, rule_name = refusal
        assert response.status_code == status, response.text
        assert _description(response).startswith(f"{rule_name}: "), response.text
        assert self.m.store.content_hash() == before, "a refused write changed the file"

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def the_collections_hold_the_model(self) -> None:
        if not self.changed:
            return
        self.changed = False
        for table in TABLES:
            mine = {sid: r for sid, r in self.alive[table].items()
                    if self.prefix in r[MARKED[table]]}
            response = self.m.api.get(f"/{table}", params={
                "filter": f"{MARKED[table]}~'{self.prefix}'", "limit": 1000})
            assert response.status_code == 200, response.text
            listed = {r["sourcedId"]: r for r in response.json()[table]}
            assert listed == mine
            assert int(response.headers["X-Total-Count"]) == len(mine)
            assert self.total(table) == self.baseline[table] + len(self.alive[table])

    def teardown(self) -> None:
        if not self.baseline:
            return
        for table in TABLES:
            for sid, record in self.alive[table].items():
                got = self.m.api.get(f"/{table}/{sid}")
                assert got.status_code == 200, got.text
                assert got.json()[KEYS[table]] == record
            for sid in self.gone_ids(table):
                assert self.m.api.get(f"/{table}/{sid}").status_code == 404


@pytest.mark.slow  # about 4 s under the ci profile
def test_grade_book_writes_and_ticks_keep_what_was_acknowledged(mock: Mock) -> None:
    GradebookMachine.mock = mock
    run_state_machine_as_test(GradebookMachine, settings=settings(
        max_examples=examples(12), stateful_step_count=15))
