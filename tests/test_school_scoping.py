"""A connection limited to some schools sees their data and nothing else: no record of another
school, no id of one inside the records it is served, and no write answer that tells such an
id exists."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from harness.runner import run_checks, select
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.query.fields import catalog
from mock_provider.query.filter import matches, parse_filter
from mock_provider.record_forms import doc_sql
from mock_provider.refs import render_refs
from mock_provider.state import mock_state
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

V12 = "/ims/oneroster/rostering/v1p2"
G12 = "/ims/oneroster/gradebook/v1p2"
R12 = "/ims/oneroster/resources/v1p2"
V11 = "/ims/oneroster/v1p1"
# Every collection a connection with every scope reads, per version: (base, collection).
COLLECTIONS = {
    "1.2": [(V12, c) for c in ("orgs", "academicSessions", "courses", "classes", "users",
                               "enrollments", "demographics")]
    + [(G12, c) for c in ("categories", "lineItems", "results", "scoreScales",
                          "assessmentLineItems", "assessmentResults")]
    + [(R12, "resources")],
    "1.1": [(V11, c) for c in ("orgs", "academicSessions", "courses", "classes", "users",
                               "enrollments", "demographics", "categories", "lineItems",
                               "results", "resources")],
}
PAGE = 10_000
LINE_ITEM_DOC = doc_sql("lineItems", "1.2")


@dataclass
class Env:
    url: str
    store: Store
    mine: str  # identifier of the connection's one school
    other: str  # identifier of another school
    scoped: httpx.Client  # limited to `mine`
    everything: httpx.Client  # the whole district

    def school_id(self, identifier: str) -> str:
        return self.store.conn.execute("SELECT sourcedId FROM orgs WHERE identifier = ?",
                                       (identifier,)).fetchone()[0]


def _client(url: str, client_id: str) -> httpx.Client:
    token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=(client_id, f"{client_id}-secret")).json()["access_token"]
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def env(districts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    # A copy: the write tests below change the file other modules share.
    path = tmp_path_factory.mktemp("scoping") / "district.sqlite"
    shutil.copy(make_district(districts_dir, 42, 4_000), path)
    store = Store(path)
    mine, other = [r[0] for r in store.conn.execute(
        "SELECT identifier FROM orgs WHERE type = 'school' ORDER BY seq LIMIT 2")]
    every_scope = ALL_SCOPES_V12 | ALL_SCOPES_V11
    connections = [
        Connection(name="one-school", client_id="one", client_secret="one-secret",
                   scopes=every_scope, schools=frozenset({mine})),
        Connection(name="district", client_id="all", client_secret="all-secret",
                   scopes=every_scope),
    ]
    app = create_app(store, connections)
    with live_server(app) as url, _client(url, "one") as scoped, \
            _client(url, "all") as everything:
        yield Env(url, store, mine, other, scoped, everything)
    mock_state(app).close()
    store.close()


def _walk(client: httpx.Client, base: str, collection: str) -> list[dict]:
    records: list[dict] = []
    for offset in range(0, 1_000_000, PAGE):
        response = client.get(f"{base}/{collection}", params={"limit": PAGE, "offset": offset})
        assert response.status_code == 200, (collection, response.text)
        page = next(v for v in response.json().values() if isinstance(v, list))
        records += page
        if len(page) < PAGE:
            return records
    raise AssertionError(f"{collection}: more pages than expected")


def _guid_refs(value: object, path: str = "") -> Iterator[tuple[str, dict]]:
    """(field path, GUIDRef) of every reference in a served record, metadata left out."""
    if isinstance(value, dict):
        if {"href", "sourcedId", "type"} <= set(value):
            yield path, value
            return
        for key, item in value.items():
            if key != "metadata":
                yield from _guid_refs(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _guid_refs(item, path)


def _by_href_path(href: str) -> tuple[str, str]:
    """'/ims/oneroster/.../users/u1' -> ('/ims/oneroster/.../users', 'u1')."""
    collection, _, sid = urlsplit(href).path.rpartition("/")
    return collection, sid


# --- reads ----------------------------------------------------------------------------------


def test_only_the_allowed_school_is_listed(env: Env) -> None:
    schools = env.scoped.get(f"{V12}/schools").json()["orgs"]
    assert [s["identifier"] for s in schools] == [env.mine]


def test_students_and_classes_are_those_of_the_allowed_school(env: Env) -> None:
    school = env.school_id(env.mine)
    expected_students = {r[0] for r in env.store.conn.execute(
        "SELECT user_id FROM user_orgs WHERE org_id = ? AND role = 'student'", (school,))}
    students = env.scoped.get(f"{V12}/students", params={"limit": 5000}).json()["users"]
    assert {s["sourcedId"] for s in students} == expected_students
    classes = env.scoped.get(f"{V12}/classes", params={"limit": 5000}).json()["classes"]
    assert classes and {c["school"]["sourcedId"] for c in classes} == {school}


def test_records_of_other_schools_are_unknown(env: Env) -> None:
    other_id = env.school_id(env.other)
    stranger = env.store.conn.execute("SELECT user_id FROM user_orgs WHERE org_id = ? AND "
                                      "role = 'student'", (other_id,)).fetchone()[0]
    assert env.scoped.get(f"{V12}/students/{stranger}").status_code == 404
    assert env.scoped.get(f"{V12}/schools/{other_id}/classes").status_code == 404
    assert env.scoped.get(f"{V12}/schools/{other_id}").status_code == 404


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_every_id_a_scoped_connection_is_handed_answers_200_for_it(env: Env,
                                                                   version: str) -> None:
    served: dict[str, set[str]] = {}
    refs: dict[tuple[str, str], tuple[str, str]] = {}  # (collection path, id) -> where found
    for base, collection in COLLECTIONS[version]:
        records = _walk(env.scoped, base, collection)
        served[f"{base}/{collection}"] = {r["sourcedId"] for r in records}
        for record in records:
            for path, ref in _guid_refs(record):
                refs.setdefault(_by_href_path(ref["href"]),
                                (f"{collection}/{record['sourcedId']} {path}", ref["type"]))
    assert served[f"{V12 if version == '1.2' else V11}/users"], "the school has people"
    dangling = [f"{where} -> {collection}/{sid}" for (collection, sid), (where, _)
                in refs.items() if sid not in served[collection]]
    assert not dangling, f"{len(dangling)} ids outside the view, e.g. {dangling[:5]}"
    # And by id, as a client following the hrefs would: a few of every kind of field.
    sample: dict[str, list[tuple[str, str]]] = {}
    for (collection, sid), (where, _) in refs.items():
        field = f"{where.split('/')[0]} {where.split(' ')[1]}"
        if len(sample.setdefault(field, [])) < 3:
            sample[field].append((collection, sid))
    for field, targets in sample.items():
        for collection, sid in targets:
            answer = env.scoped.get(f"{collection}/{sid}")
            assert answer.status_code == 200, (field, collection, sid, answer.text)


def test_references_outside_the_school_are_left_out_and_no_others(env: Env) -> None:
    """A teacher or parent of two schools keeps the roles, agents and primaryOrg the connection
    can read, and loses exactly those it cannot."""
    school = env.school_id(env.mine)
    readable_users = {u["sourcedId"] for u in _walk(env.scoped, V12, "users")}
    readable_orgs = {o["sourcedId"] for o in _walk(env.scoped, V12, "orgs")}
    shared_user = env.store.conn.execute(
        "SELECT u.sourcedId FROM users u WHERE u.hidden = 0 AND EXISTS (SELECT 1 FROM "
        "user_orgs o WHERE o.user_id = u.sourcedId AND o.org_id = ?) AND json_extract("
        "u.json12, '$.primaryOrg.@o') != ? ORDER BY u.seq", (school, school)).fetchone()[0]
    whole = env.everything.get(f"{V12}/users/{shared_user}").json()["user"]
    seen = env.scoped.get(f"{V12}/users/{shared_user}").json()["user"]
    assert "primaryOrg" in whole and "primaryOrg" not in seen
    assert seen["roles"] == [r for r in whole["roles"] if r["org"]["sourcedId"] in readable_orgs]
    assert seen["roles"] and len(seen["roles"]) < len(whole["roles"]) + 1
    assert seen.get("agents", []) == [a for a in whole.get("agents", [])
                                      if a["sourcedId"] in readable_users]
    untouched = {k: v for k, v in whole.items() if k not in ("roles", "primaryOrg", "agents")}
    assert {k: v for k, v in seen.items() if k not in ("roles", "primaryOrg", "agents")} \
        == untouched
    district = env.scoped.get(f"{V12}/orgs", params={"filter": "type='district'"}).json()
    assert [c["sourcedId"] for c in district["orgs"][0]["children"]] == [school]


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_filters_judge_the_records_as_served(env: Env, version: str) -> None:
    """A filter on a reference the connection is not served finds nothing through it (else
    `agents.sourcedId~'...'` would spell out an id it cannot read, one character at a time)."""
    base = V12 if version == "1.2" else V11
    users = catalog("users", version)
    served = _walk(env.scoped, base, "users")
    school, other = env.school_id(env.mine), env.school_id(env.other)
    outside = env.store.conn.execute(
        "SELECT j.value ->> '@u' FROM users u, json_each(u.json12, '$.agents') j "
        "WHERE u.sourcedId IN (SELECT user_id FROM user_orgs WHERE org_id = ?) AND "
        "(j.value ->> '@u') NOT IN (SELECT user_id FROM user_orgs WHERE org_id = ?)",
        (school, school)).fetchone()[0]
    orgs = "roles.org.sourcedId" if version == "1.2" else "orgs.sourcedId"
    filters = [f"{orgs}='{other}'", f"{orgs}!='{school}'", f"{orgs}='{school}'",
               f"agents.sourcedId='{outside}'", f"agents.sourcedId~'{outside[:8]}'",
               "agents.sourcedId!='nobody'", "agents.sourcedId~'a'"]
    if version == "1.2":
        filters += [f"primaryOrg.sourcedId='{other}'", f"primaryOrg.sourcedId!='{school}'",
                    "primaryOrg.type='org'", "roles.role='parent'",
                    "roles.roleType!='secondary'"]
    for text in filters:
        expected = {u["sourcedId"] for u in served if matches(parse_filter(text), u, users)}
        answer = env.scoped.get(f"{base}/users", params={"filter": text, "limit": PAGE})
        assert answer.status_code == 200, answer.text
        assert {u["sourcedId"] for u in answer.json()["users"]} == expected, text
    assert not env.scoped.get(f"{base}/users", params={
        "filter": f"agents.sourcedId='{outside}'"}).json()["users"]
    if version == "1.2":  # and a sort puts a reference left out with the missing values
        by_org = env.scoped.get(f"{base}/users", params={"sort": "primaryOrg.sourcedId",
                                                         "limit": PAGE}).json()["users"]
        assert [u["sourcedId"] for u in by_org] == [u["sourcedId"] for u in sorted(
            served, key=lambda u: u.get("primaryOrg", {}).get("sourcedId", ""))]


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_a_connection_that_sees_the_district_is_served_the_stored_records(env: Env,
                                                                           version: str) -> None:
    """Unscoped answers are the stored texts rendered, byte for byte: nothing is re-encoded."""
    base = V12 if version == "1.2" else V11
    stored = list(env.store.iter_json("users", version))
    # A page around the first person of two schools, whom a scoped connection is served with
    # less.
    first = next(i for i, text in enumerate(stored) if len(set(re.findall(
        r'\{"@o":"([^"]+)"\}', text))) > 1)
    offset = max(first - 50, 0)
    answer = env.everything.get(f"{base}/users", params={"limit": 100, "offset": offset})
    body = render_refs('{"users":[' + ",".join(stored[offset:offset + 100]) + "]}", version,
                       env.url)
    assert answer.content == body.encode()


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_checker_follows_every_reference_of_a_scoped_connection(env: Env,
                                                                    version: str) -> None:
    """OR-REF-001 follows each reference and expects it served: the scoped view agrees with it
    (and OR-GB-004 can replace the category it writes)."""
    target = Target(env.url, f"{env.url}/oauth2/token", "one", "one-secret", version)
    try:
        summary = run_checks(target, select("OR-REF,OR-GB-004"))
    finally:
        target.close()
    statuses = {r.id: (r.status, r.message) for r in summary.results}
    expected = {"OR-REF-001", "OR-REF-002", "OR-REF-003", "OR-REF-004", "OR-REF-005",
                "OR-GB-004"} - ({"OR-REF-003"} if version == "1.1" else set())  # one 1.1 role
    assert {c for c, (status, _) in statuses.items() if status == "passed"} == expected, \
        statuses
    assert int(statuses["OR-REF-001"][1].split()[0]) > 1_000  # references were followed


# --- writes ---------------------------------------------------------------------------------


def _other_school_line_item(env: Env) -> str:
    return env.store.conn.execute(
        "SELECT sourcedId FROM lineItems WHERE school_id = ? AND hidden = 0 ORDER BY seq",
        (env.school_id(env.other),)).fetchone()[0]


def _my_line_item_body(env: Env, title: str) -> dict:
    """A line item the scoped connection may write: one of its school's, retitled."""
    item = _walk(env.scoped, G12, "lineItems")[0]
    body = {k: v for k, v in item.items() if k not in ("sourcedId", "status", "dateLastModified")}
    return {**body, "title": title}


def _same_answer(one: httpx.Response, one_id: str, two: httpx.Response, two_id: str) -> None:
    """Two answers equal but for the id they name."""
    assert one.status_code == two.status_code, (one.text, two.text)
    assert json.loads(one.text.replace(one_id, "ID")) == json.loads(two.text.replace(two_id, "ID"))


@pytest.mark.parametrize("base", [G12, V11])
def test_a_put_on_another_schools_id_answers_as_for_an_unknown_id(env: Env, base: str) -> None:
    theirs = _other_school_line_item(env)
    before = env.store.conn.execute(f"SELECT {LINE_ITEM_DOC} FROM lineItems WHERE sourcedId = ?",
                                    (theirs,)).fetchone()[0]
    never = "never-used-line-item"
    body = {"lineItem": _my_line_item_body(env, "Taken over")}
    put = env.scoped.put(f"{base}/lineItems/{theirs}", json=body)
    assert put.status_code == 404, put.text
    assert "outside" not in put.text
    # As GET and DELETE answer for an id that does not exist at all (a PUT of one creates it).
    _same_answer(put, theirs, env.scoped.get(f"{base}/lineItems/{never}"), never)
    _same_answer(put, theirs, env.scoped.delete(f"{base}/lineItems/{never}"), never)
    _same_answer(put, theirs, env.scoped.get(f"{base}/lineItems/{theirs}"), theirs)
    # A refused body reads the same for both, too.
    blank = {"lineItem": _my_line_item_body(env, " ")}
    _same_answer(env.scoped.put(f"{base}/lineItems/{theirs}", json=blank), theirs,
                 env.scoped.put(f"{base}/lineItems/{never}", json=blank), never)
    assert env.store.conn.execute(f"SELECT {LINE_ITEM_DOC} FROM lineItems WHERE sourcedId = ?",
                                  (theirs,)).fetchone()[0] == before
    assert env.scoped.get(f"{base}/lineItems/{never}").status_code == 404


def test_a_put_on_a_hidden_id_answers_as_for_an_unknown_id(env: Env) -> None:
    """A record hidden from everyone (last year's grade book after a rollover) is outside
    every connection's view, the whole district's included."""
    hidden = env.store.conn.execute(
        "SELECT sourcedId FROM lineItems WHERE school_id = ? AND hidden = 0 ORDER BY seq DESC",
        (env.school_id(env.mine),)).fetchone()[0]
    with contextlib.closing(sqlite3.connect(env.store.path)) as writer, writer:
        writer.execute("UPDATE lineItems SET hidden = 1 WHERE sourcedId = ?", (hidden,))
    body = {"lineItem": _my_line_item_body(env, "Hidden")}
    put = env.everything.put(f"{G12}/lineItems/{hidden}", json=body)
    _same_answer(put, hidden, env.everything.get(f"{G12}/lineItems/{hidden}"), hidden)
    assert put.status_code == 404


def test_a_put_naming_another_schools_record_answers_as_for_an_unknown_one(env: Env) -> None:
    theirs = _other_school_line_item(env)
    never = "never-used-line-item"
    mine = _walk(env.scoped, G12, "results")[0]
    for field, value in (("lineItem", theirs), ("student", env.store.conn.execute(
            "SELECT student_id FROM results WHERE lineItem_id = ?", (theirs,)).fetchone()[0])):
        sent = {k: v for k, v in mine.items() if k not in ("sourcedId", "dateLastModified")}
        named = {**sent, field: {**sent[field], "sourcedId": value}}
        unknown = {**sent, field: {**sent[field], "sourcedId": never}}
        refused = env.scoped.put(f"{G12}/results/new-result", json={"result": named})
        assert refused.status_code == 422, refused.text
        _same_answer(refused, value,
                     env.scoped.put(f"{G12}/results/new-result", json={"result": unknown}), never)


def test_a_category_the_connection_writes_stays_in_its_view(env: Env) -> None:
    """1.2 categories name no class: one written by a school-scoped connection is
    district-wide, readable and replaceable by it (it used to vanish from its view)."""
    category = {"category": {"title": "Projects", "weight": 0.2}}
    assert env.scoped.put(f"{G12}/categories/scoped-cat", json=category).status_code == 201
    assert env.scoped.get(f"{G12}/categories/scoped-cat").status_code == 200
    renamed = {"category": {"title": "Big projects", "weight": 0.2}}
    assert env.scoped.put(f"{G12}/categories/scoped-cat", json=renamed).status_code == 200
    assert env.scoped.get(f"{G12}/categories/scoped-cat").json()["category"]["title"] \
        == "Big projects"
    assert env.everything.get(f"{G12}/categories/scoped-cat").status_code == 200
