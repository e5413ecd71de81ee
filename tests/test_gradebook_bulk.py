"""Grade-book bulk POSTs (OneRoster 1.2) over real HTTP: line items of a class or school,
results of a line item or of a class and academic session; sourcedId pairs, all-or-nothing,
the path rule and the createpost scope. Its own fresh district, because these tests change it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, SCOPE_PREFIX_V12, Connection
from mock_provider.district import DistrictSpec, build_district
from mock_provider.store import Store
from specs import validator

from .live_server import live_server
from .test_gradebook_writes import (
    G12,
    Env,
    _close_writer,
    _description,
    _pick_ids,
    _token,
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    path = tmp_path_factory.mktemp("gradebook-bulk") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=60, size="tiny"), path)
    store = Store(path)
    no_post = frozenset({SCOPE_PREFIX_V12 + "gradebook.readonly",
                         SCOPE_PREFIX_V12 + "gradebook.createput"})
    connections = [
        Connection(name="lms", client_id="lms", client_secret="lms-secret",
                   scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11),
        Connection(name="putter", client_id="putter", client_secret="putter-secret",
                   scopes=no_post, version="1.2"),
    ]
    app = create_app(store, connections)
    with live_server(app) as url:
        headers = {"Authorization": f"Bearer {_token(url, 'lms')}"}
        with httpx.Client(base_url=url, headers=headers, timeout=20) as api:
            yield Env(url, app, store, path, api, _pick_ids(store.conn))
    _close_writer(app)
    store.close()


def _pairs(response: httpx.Response) -> list[dict]:
    assert response.status_code == 201, response.text
    body = response.json()
    errors = list(validator("1.2", "GUIDPairSetDType").iter_errors(body))
    assert not errors, errors
    return body["sourcedIdPairs"]


def _count(env: Env, table: str) -> int:
    return env.store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_post_line_items_for_class(env: Env) -> None:
    klass = env.ids["class"]
    items = [env.line_item("bc-li-1"), env.line_item("bc-li-2")]
    pairs = _pairs(env.api.post(f"{G12}/classes/{klass}/lineItems", json={"lineItems": items}))
    assert pairs == [{"suppliedSourcedId": "bc-li-1", "allocatedSourcedId": "bc-li-1"},
                     {"suppliedSourcedId": "bc-li-2", "allocatedSourcedId": "bc-li-2"}]
    for sent in items:
        got = env.api.get(f"{G12}/lineItems/{sent['sourcedId']}").json()["lineItem"]
        assert got == {**sent, "dateLastModified": got["dateLastModified"]}


def test_post_line_items_for_school_reallocates_taken_ids(env: Env) -> None:
    school = env.ids["school"]
    assert env.api.put(f"{G12}/lineItems/bs-li-1",
                       json={"lineItem": env.line_item("bs-li-1")}).status_code == 201
    # bs-li-1 is taken: it gets a new id; bs-li-2 appears twice: the second gets a new id too.
    items = [env.line_item("bs-li-1", title="School one"),
             env.line_item("bs-li-2", title="School two"),
             env.line_item("bs-li-2", title="School three")]
    pairs = _pairs(env.api.post(f"{G12}/schools/{school}/lineItems", json={"lineItems": items}))
    assert [p["suppliedSourcedId"] for p in pairs] == ["bs-li-1", "bs-li-2", "bs-li-2"]
    first, second, third = (p["allocatedSourcedId"] for p in pairs)
    assert second == "bs-li-2"
    for allocated in (first, third):
        assert str(uuid.UUID(allocated)) == allocated
    assert len({first, second, third}) == 3
    # The taken record is untouched; each allocated id reads back with its own title.
    untouched = env.api.get(f"{G12}/lineItems/bs-li-1").json()["lineItem"]
    assert untouched["title"] == "Essay bs-li-1"
    for allocated, sent in zip((first, second, third), items, strict=True):
        got = env.api.get(f"{G12}/lineItems/{allocated}").json()["lineItem"]
        assert got["sourcedId"] == allocated and got["title"] == sent["title"]


def test_post_results_for_line_item(env: Env) -> None:
    assert env.api.put(f"{G12}/lineItems/br-li",
                       json={"lineItem": env.line_item("br-li")}).status_code == 201
    results = [env.result("br-r-1", "br-li", score=71.0)]
    pairs = _pairs(env.api.post(f"{G12}/lineItems/br-li/results", json={"results": results}))
    assert pairs == [{"suppliedSourcedId": "br-r-1", "allocatedSourcedId": "br-r-1"}]
    got = env.api.get(f"{G12}/results/br-r-1").json()["result"]
    assert got["score"] == 71.0 and got["lineItem"]["sourcedId"] == "br-li"


def test_post_results_for_academic_session_for_class(env: Env) -> None:
    ids = env.ids
    assert env.api.put(f"{G12}/lineItems/ba-li",
                       json={"lineItem": env.line_item("ba-li")}).status_code == 201
    # The line item's grading period (q1) and the term above it are both accepted.
    for session, sid in ((ids["q1"], "ba-r-1"), (ids["term"], "ba-r-2")):
        url = f"{G12}/classes/{ids['class']}/academicSessions/{session}/results"
        body = {"results": [env.result(sid, "ba-li", **{"class": None})]}
        pairs = _pairs(env.api.post(url, json=body))
        assert pairs == [{"suppliedSourcedId": sid, "allocatedSourcedId": sid}]
        got = env.api.get(f"{G12}/results/{sid}").json()["result"]
        assert got["class"]["sourcedId"] == ids["class"]
    # Another term's grading period does not hold the line item.
    other = ids["other_term_period"]
    url = f"{G12}/classes/{ids['class']}/academicSessions/{other}/results"
    response = env.api.post(url, json={"results": [env.result("ba-r-3", "ba-li")]})
    assert response.status_code == 400, response.text
    assert _description(response).startswith("path_matches_record: results[0] (sourcedId "
                                              "ba-r-3): academicSession")


def test_one_bad_record_stores_nothing(env: Env) -> None:
    klass = env.ids["class"]
    before = env.store.content_hash()
    items = [env.line_item("bn-li-1"), env.line_item("bn-li-2", category=None),
             env.line_item("bn-li-3", dueDate="2027-07-01T00:00:00Z")]
    response = env.api.post(f"{G12}/classes/{klass}/lineItems", json={"lineItems": items})
    assert response.status_code == 422, response.text
    text = _description(response)
    assert text.startswith("dates_within_class_terms: lineItems[2] (sourcedId bn-li-3): "), text
    # Neither the good records nor the Uncategorized category of the second are stored.
    assert env.store.content_hash() == before
    assert env.api.get(f"{G12}/lineItems/bn-li-1").status_code == 404

    results = [env.result("bn-r-1", "br-li-none"), env.result("bn-r-2", "br-li-none")]
    response = env.api.post(f"{G12}/lineItems/br-li-none/results", json={"results": results})
    assert response.status_code == 404, response.text
    assert "br-li-none" in _description(response)
    assert env.store.content_hash() == before


def test_path_must_match_each_record(env: Env) -> None:
    ids = env.ids
    before = _count(env, "lineItems")
    items = [env.line_item("bp-li-1"),
             env.line_item("bp-li-2", **{"class": env.ref("classes", ids["other_class"],
                                                          "class")})]
    response = env.api.post(f"{G12}/classes/{ids['class']}/lineItems",
                            json={"lineItems": items})
    assert response.status_code == 400, response.text
    assert _description(response) == (
        f"path_matches_record: lineItems[1] (sourcedId bp-li-2): class {ids['other_class']} "
        f"differs from the path's {ids['class']}")
    assert _count(env, "lineItems") == before
    assert env.api.put(f"{G12}/lineItems/bp-li",
                       json={"lineItem": env.line_item("bp-li")}).status_code == 201
    assert env.api.put(f"{G12}/lineItems/bp-li-x",
                       json={"lineItem": env.line_item("bp-li-x")}).status_code == 201
    response = env.api.post(f"{G12}/lineItems/bp-li/results",
                            json={"results": [env.result("bp-r", "bp-li-x")]})
    assert response.status_code == 400
    assert "path_matches_record: results[0]" in _description(response)
    assert env.api.get(f"{G12}/results/bp-r").status_code == 404


def test_malformed_bulk_bodies_get_400(env: Env) -> None:
    url = f"{G12}/classes/{env.ids['class']}/lineItems"
    for body, rule in (({"lineItem": env.line_item("bm-li")}, "envelope"),
                       ({"lineItems": {}}, "envelope"),
                       ({"lineItems": [env.line_item("bm-li", sourcedId=None)]}, "envelope"),
                       ({"lineItems": [env.line_item("bm-li", dueDate="soon")]}, "schema")):
        response = env.api.post(url, json=body)
        assert response.status_code == 400, response.text
        assert _description(response).startswith(rule), _description(response)
    assert _pairs(env.api.post(url, json={"lineItems": []})) == []


def test_createpost_scope_is_required(env: Env) -> None:
    headers = {"Authorization": f"Bearer {_token(env.url, 'putter')}"}
    klass = env.ids["class"]
    response = httpx.post(f"{env.url}{G12}/classes/{klass}/lineItems", headers=headers,
                          json={"lineItems": [env.line_item("bx-li")]})
    assert response.status_code == 403, response.text
    assert "gradebook.createpost" in _description(response)
    # The same connection may PUT.
    response = httpx.put(f"{env.url}{G12}/lineItems/bx-li", headers=headers,
                         json={"lineItem": env.line_item("bx-li")})
    assert response.status_code == 201
