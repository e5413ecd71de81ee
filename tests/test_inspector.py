"""The inspector over real HTTP (no browser): what it keeps and costs, who may see it, and
what its pages refuse. The browser tests are in test_inspector_browser.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx
import pytest

from harness.cli import build_parser
from harness.cli.serve import _inspector
from harness.consumer.live import verdicts_so_far
from harness.embedded import free_port, serve_in_thread
from mock_provider.app import create_app
from mock_provider.connections import default_connection
from mock_provider.inspector import Inspector, InspectorOptions, is_loopback
from mock_provider.inspector.feed import LiveFeed
from mock_provider.inspector.syncs import Syncs
from mock_provider.middleware.recorder import Recording
from mock_provider.serve import ServeOptions
from mock_provider.store import Store

from .conftest import make_district

USERS = "/ims/oneroster/rostering/v1p2/users"
SECRET = "inspector-secret-never-shown"


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


@contextmanager
def served(district: Path, options: InspectorOptions | None = None,
           recording: Recording | None = None, port: int | None = None
           ) -> Iterator[tuple[httpx.Client, Inspector]]:
    inspector = Inspector(options)
    with Store(district) as store:
        app = create_app(store, [default_connection("cid", SECRET)], inspector=inspector,
                         recording=recording)
        with serve_in_thread(app, port=port) as url, \
                httpx.Client(base_url=url, timeout=10) as client:
            yield client, inspector


def _kept(inspector: Inspector, count: int) -> list[dict]:
    """The kept records once ``count`` are there: one is published just after its answer's
    last byte, so a client may read the answer a moment before."""
    deadline = time.monotonic() + 5
    while len(inspector.feed.recent()) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return inspector.feed.recent()


def _bearer(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                         auth=("cid", SECRET))
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def test_unwatched_requests_are_counted_but_no_body_is_kept(district: Path) -> None:
    with served(district) as (client, inspector):
        bearer = _bearer(client)
        for offset in (0, 20, 60):  # 20..39 is never read: a gap of 20
            assert client.get(USERS, params={"limit": 20, "offset": offset},
                              headers=bearer).status_code == 200
        records = _kept(inspector, 4)
        assert [r["path"] for r in records] == [USERS, USERS, USERS, "/oauth2/token"]
        assert not any(r["detail"] for r in records)
        assert inspector.feed.detail(records[0]["seq"]) is None
        assert [r["count"] for r in records[:3]] == [20, 20, 20]  # from the paging headers
        activity = inspector.activity.of("default")
        assert (activity.requests, activity.tokens_issued, activity.errors) == (4, 1, 0)
        walk = inspector.syncs.of("default").all_walks()[0]
        assert (walk.read, walk.total, walk.gaps, walk.overlaps) == (60, 139, 20, 0)
        assert walk.sizes == "20 x 3"


def test_a_token_request_detail_masks_the_secret_and_the_token(district: Path) -> None:
    with served(district) as (client, inspector):
        subscriber = inspector.feed.subscribe()  # as an open page does
        try:
            answer = client.post("/oauth2/token", data={
                "grant_type": "client_credentials", "client_id": "cid", "client_secret": SECRET})
            bearer = {"Authorization": f"Bearer {answer.json()['access_token']}"}
            client.get(USERS, params={"limit": 2}, headers=bearer)
            token_seq, users_seq = (r["seq"] for r in reversed(_kept(inspector, 2)))
            shown = client.get(f"/inspector/exchanges/{token_seq}").text
            assert SECRET not in shown and bearer["Authorization"][7:] not in shown
            detail = json.loads(shown)
            assert detail["detail"]["request_body"]["client_secret"] == "***"
            assert '"access_token": "token-1"' in detail["detail"]["answer_body"]
            users = client.get(f"/inspector/exchanges/{users_seq}").json()
            assert users["detail"]["request_headers"]["authorization"] == "Bearer token-1"
            assert "Bearer token-1" in users["curl"] and users["record"]["count"] == 2
        finally:
            inspector.feed.unsubscribe(subscriber)


def test_a_slow_page_loses_records_and_the_loss_is_counted_without_waiting() -> None:
    async def scenario() -> tuple[int, int]:
        feed = LiveFeed(queue_size=3)
        slow = feed.subscribe()
        for n in range(10):
            feed.publish({"n": n})  # never awaits: the API is never held up
        return slow.queue.qsize(), slow.dropped

    assert asyncio.run(scenario()) == (3, 7)


def test_syncs_count_overlaps_and_429s_waited_out() -> None:
    syncs = Syncs()

    def page(at: float, offset: int, status: int = 200, count: int = 10) -> None:
        syncs.observe({"connection": "c", "method": "GET", "path": USERS, "at": at,
                       "query": f"limit=10&offset={offset}", "status": status,
                       "total": 25 if status == 200 else None,
                       "count": count if status == 200 else None,
                       "retry_after": "1" if status == 429 else None}, False)

    page(0.0, 0)
    page(0.1, 10, status=429)
    page(1.2, 5)  # waited out, but went back 5 records: an overlap
    page(1.3, 15, count=10)
    page(1.4, 25, count=0)
    walk = syncs.of("c").all_walks()[0]
    assert (walk.read, walk.overlaps, walk.gaps, walk.rate_limited, walk.complete) == \
        (30, 5, 0, 1, True)
    assert (syncs.of("c").rate_limited, syncs.of("c").waited_out) == (1, 1)


def test_off_loopback_every_page_needs_the_admin_token(district: Path) -> None:
    with served(district, InspectorOptions(admin_token="adm1n")) as (client, _):
        refused = client.get("/inspector/traffic")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"].startswith("Basic")
        assert refused.json()["imsx_codeMajor"] == "failure"
        assert "admin token" in refused.json()["imsx_description"]
        assert client.get("/inspector/events", auth=("any", "wrong")).status_code == 401
        assert client.get("/inspector/traffic", auth=("any", "adm1n")).status_code == 200
        assert client.get("/inspector/connections",
                          headers={"Authorization": "Bearer adm1n"}).status_code == 200


def test_the_serve_command_turns_the_inspector_on_only_where_it_is_safe(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0"])
    options = ServeOptions(district=tmp_path / "d.sqlite")
    inspector, why = _inspector(args, options)
    assert inspector is None and why is not None and "--admin" in why
    with_token = ServeOptions(district=tmp_path / "d.sqlite", admin_token="t")
    inspector, _ = _inspector(args, with_token)
    assert inspector is not None and inspector.options.admin_token == "t"
    off = build_parser().parse_args(["serve", "--no-inspector"])
    assert _inspector(off, options) == (None, None)


def test_forms_need_the_page_token_and_bad_days_are_explained(district: Path) -> None:
    with served(district) as (client, inspector):
        forged = client.post("/inspector/district/tick", data={"days": "1"})
        assert forged.status_code == 403 and "form" in forged.json()["imsx_description"]
        bad = client.post("/inspector/district/tick",
                          data={"days": "-3", "form_token": inspector.form_token})
        assert bad.status_code == 400 and "whole number from 1 to 366" in bad.text
        unknown = client.post("/inspector/faults",
                              data={"scenario": "nope", "form_token": inspector.form_token})
        assert unknown.status_code == 400


def test_a_read_only_inspector_refuses_to_change_the_district(district: Path) -> None:
    with served(district, InspectorOptions(actions=False)) as (client, inspector):
        assert "Tick" not in client.get("/inspector/district").text
        refused = client.post("/inspector/district/tick",
                              data={"days": "1", "form_token": inspector.form_token})
        assert refused.status_code == 403 and "read-only" in refused.text


def test_reports_are_listed_and_served_but_nothing_outside_them(district: Path,
                                                                tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "provider-run").mkdir(parents=True)
    (reports / "provider-run" / "report.html").write_text("<h1>verdicts</h1>", "utf-8")
    (tmp_path / "secret.txt").write_text("not yours", "utf-8")
    with served(district, InspectorOptions(reports_dir=reports)) as (client, _):
        listing = client.get("/inspector/reports").text
        assert "/inspector/reports/provider-run/report.html" in listing
        assert client.get("/inspector/reports/provider-run/report.html").text == \
            "<h1>verdicts</h1>"
        assert client.get("/inspector/reports/%2E%2E/secret.txt").status_code == 404
        assert client.get("/inspector/reports/../secret.txt").status_code == 404


def test_the_recording_never_holds_inspector_pages(district: Path, tmp_path: Path) -> None:
    recording = Recording(tmp_path / "r.ndjson")
    with served(district, recording=recording) as (client, _):
        client.get("/inspector/traffic")
        client.get("/openapi.json")
    recording.close()
    paths = [json.loads(line).get("path") for line in
             (tmp_path / "r.ndjson").read_text("utf-8").splitlines()]
    assert "/openapi.json" in paths and not any(p and "inspector" in p for p in paths)


def test_on_loopback_a_request_for_another_host_name_is_refused(district: Path) -> None:
    with served(district) as (client, _):
        assert client.get("/inspector/traffic", headers={"Host": "localhost"}).status_code == 200
        rebound = client.get("/inspector/traffic", headers={"Host": "attacker.example:8000"})
        assert rebound.status_code == 403 and "loopback" in rebound.text


def test_syncs_shows_the_consumer_verdicts_on_the_recording_so_far(district: Path,
                                                                    tmp_path: Path) -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    path = tmp_path / "recording.ndjson"
    recording = Recording(path, {"scenario": "serve", "version": "1.2", "origin": origin,
                                 "base_url": origin, "token_url": origin + "/oauth2/token",
                                 "max_limit": 50_000, "phases": ["full"]})
    options = InspectorOptions(verdicts=partial(verdicts_so_far, path))
    with served(district, options, recording, port) as (client, _):
        bearer = _bearer(client)
        client.get(USERS, params={"limit": 100}, headers=bearer)
        client.get(USERS, params={"limit": 100, "offset": 100}, headers=bearer)
        page = client.get("/inspector/syncs").text
    recording.close()
    assert 'id="verdicts"' in page and "OR-CON-PAGE-001" in page
    assert "CONFORMANT" in page  # the verdict line, as check consumer prints it
    plain = client_page_without_recording(district)
    assert "--record FILE" in plain and 'id="verdicts"' not in plain


def client_page_without_recording(district: Path) -> str:
    with served(district) as (client, _):
        return client.get("/inspector/syncs").text
