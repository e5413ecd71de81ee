"""One exchange type for live and recorded traffic: a consumer's recorded request and the same
request sent by the checker show the same evidence, with every secret masked."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from harness.consumer.recording import load
from harness.embedded import free_port
from harness.exchange import Exchange
from harness.target import Target
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.middleware.recorder import Recording
from mock_provider.store import Store

from .conftest import make_district
from .live_server import live_server

SECRET = "cl1ent-s3cret"
VENDOR_SECRET = "v3ndor-s3cret"
CONNECTION = Connection(name="lms", client_id="lms", client_secret=SECRET,
                        scopes=ALL_SCOPES_V12)
USERS = "/ims/oneroster/rostering/v1p2/users"
LINE_ITEM = "/ims/oneroster/gradebook/v1p2/lineItems/li-from-the-consumer"


@pytest.fixture(scope="module")
def store(districts_dir: Path):
    with Store(make_district(districts_dir, 42, 60)) as opened:
        yield opened


def test_recorded_and_live_exchanges_show_the_same_masked_evidence(store: Store,
                                                                   tmp_path: Path) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    recording = Recording(tmp_path / "traffic.ndjson", {"origin": origin})
    app = create_app(store, [CONNECTION], recording=recording)
    with live_server(app, port=port) as url, httpx.Client(base_url=url) as consumer:
        token = consumer.post("/oauth2/token", data={"grant_type": "client_credentials"},
                              auth=("lms", SECRET)).json()["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        consumer.get(USERS, params={"limit": 2}, headers=bearer)
        consumer.put(LINE_ITEM, json={"lineItem": {"title": "It's due"}},
                     headers={**bearer, "x-vendor-authorization": f"vk:{VENDOR_SECRET}"})
        with Target(url, f"{url}/oauth2/token", "lms", SECRET) as checker:
            live = checker.get("/users", {"limit": 2})
    recording.close()
    posted, got, put = load(tmp_path / "traffic.ndjson").exchanges[:3]

    assert isinstance(got, Exchange) and got.url == f"{origin}{USERS}?limit=2"
    assert got.evidence().curl == live.evidence().curl == (
        f"curl -s -H 'Authorization: Bearer ***' '{origin}{USERS}?limit=2'")
    assert '"token": "token-1"' in got.evidence().excerpt  # the label, never the token
    assert posted.evidence().curl.startswith("curl -s -X POST -H 'Authorization: Basic ***'")
    assert put.evidence().curl.startswith(
        "curl -s -X PUT -H 'Authorization: Bearer ***' -H 'x-vendor-authorization: ***' "
        "-H 'Content-Type: application/json' --data ")
    assert """'{"lineItem":{"title":"It'\\''s due"}}'""" in put.evidence().curl
    shown = repr([e.evidence() for e in (posted, got, put, live)])
    assert token not in shown and SECRET not in shown and VENDOR_SECRET not in shown


def test_an_answer_that_is_not_json_reads_as_none() -> None:
    answer = Exchange("GET", "http://p/x", 200, httpx.Headers({"X-Total-Count": "3"}),
                      "<html>", "bearer")
    assert answer.json() is None and answer.ok and answer.header("x-total-count") == "3"
    gone = Exchange("GET", "http://p/x", None, httpx.Headers(), "no answer: timed out")
    assert gone.json() is None and not gone.ok and gone.evidence().status is None
