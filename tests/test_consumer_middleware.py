"""The fault and recorder middleware over real HTTP: each fault on its schedule and in the
spec's shape, and a recording that holds what a judge needs but never a secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.embedded import serve_in_thread
from mock_provider.app import create_app
from mock_provider.connections import default_connection
from mock_provider.middleware.faults import FaultPlan
from mock_provider.middleware.recorder import Recording
from mock_provider.oauth1 import sign_oauth1
from mock_provider.store import Store

from .conftest import make_district

USERS = "/ims/oneroster/rostering/v1p2/users"
SECRET = "s3cret-value-never-logged"


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


class Served:
    def __init__(self, url: str, recording_path: Path) -> None:
        self.url = url
        self.recording_path = recording_path
        self.client = httpx.Client(base_url=url, timeout=10)

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def token(self) -> str:
        answer = self.client.post("/oauth2/token", data={"grant_type": "client_credentials"},
                                  auth=("cid", SECRET))
        assert answer.status_code == 200
        return answer.json()["access_token"]

    def get(self, token: str, path: str = USERS, **params: object) -> httpx.Response:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.recording_path.read_text().splitlines()]

    def exchanges(self) -> list[dict]:
        return [line for line in self.lines() if line["type"] == "exchange"]


@pytest.fixture
def serve(district: Path, tmp_path: Path) -> Iterator:
    stores: list[Store] = []
    recordings: list[Recording] = []

    def start(plan: FaultPlan, on_drift=None):
        store = Store(district)
        stores.append(store)
        recording = Recording(tmp_path / f"rec{len(recordings)}.ndjson", {"scenario": "test"})
        recordings.append(recording)
        app = create_app(store, [default_connection("cid", SECRET)], recording=recording,
                         faults=plan, on_drift=on_drift)
        return app, recording

    yield start
    for recording in recordings:
        recording.close()
    for store in stores:
        store.close()


def test_token_stops_working_after_its_uses(serve) -> None:
    app, recording = serve(FaultPlan(token_uses=2))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        token = served.token()
        assert [served.get(token).status_code for _ in range(3)] == [200, 200, 401]
        refused = served.get(token)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
        assert refused.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0][
            "imsx_codeMinorFieldValue"] == "unauthorisedrequest"
        assert served.get(served.token()).status_code == 200  # a new token works again
    faults = [e["fault"] for e in served.exchanges() if e["path"] == USERS]
    assert faults == [None, None, "token-expired", "token-expired", None]


V11_USERS = "/ims/oneroster/v1p1/users"


def _signed(served: Served, nonce: str) -> httpx.Response:
    url = f"{served.url}{V11_USERS}?limit=5"
    header = sign_oauth1("GET", url, "cid", SECRET, nonce=nonce)
    return served.client.get(url, headers={"Authorization": header})


def test_every_nth_signature_is_refused_as_a_replay_until_signed_anew(serve) -> None:
    app, recording = serve(FaultPlan(nonce_refusal_every=3))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        assert [_signed(served, n).status_code for n in ("a1", "a2")] == [200, 200]
        refused = _signed(served, "a3")
        assert refused.status_code == 401
        assert refused.json()["statusInfoSet"][0]["imsx_description"] == \
            "oauth_nonce was already used"
        assert _signed(served, "a3").status_code == 401  # the refused nonce stays refused
        assert _signed(served, "a4").status_code == 200  # signed anew: accepted
        token = served.token()
        assert [served.get(token).status_code for _ in range(4)] == [200] * 4  # bearer: untouched
    recording.close()
    text = recording.path.read_text()
    assert SECRET not in text and "oauth_signature" not in text and "cid" not in text
    signed = [e for e in served.exchanges() if e["path"] == V11_USERS]
    assert [e["fault"] for e in signed] == [None, None, "nonce-refused", "nonce-refused", None]
    assert all(e["auth"] == "oauth1" and e["token"] is None for e in signed)
    assert signed[0]["oauth1"]["nonce"] == "a1"
    assert signed[0]["oauth1"]["signature_method"] == "HMAC-SHA256"
    assert abs(int(signed[0]["oauth1"]["timestamp"]) - time.time()) < 60
    assert set(signed[0]["oauth1"]) == {"nonce", "timestamp", "signature_method", "version"}


def test_a_capped_page_keeps_the_signature_the_client_made(serve) -> None:
    """The provider caps the page after checking the request, so the signature over the limit
    the client asked for still holds."""
    app, recording = serve(FaultPlan(page_cap=3))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        page = _signed(served, "b1")
        assert page.status_code == 200, page.text
        assert len(page.json()["users"]) == 3


def test_rate_limit_window_answers_429_until_retry_after_passes(serve) -> None:
    app, recording = serve(FaultPlan(rate_limit_every=3, retry_after=1.0))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        token = served.token()
        assert [served.get(token).status_code for _ in range(2)] == [200, 200]
        limited = served.get(token)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert served.get(token).status_code == 429  # still inside the window
        time.sleep(1.05)
        assert served.get(token).status_code == 200


def test_server_errors_and_page_cap(serve) -> None:
    app, recording = serve(FaultPlan(server_error_every=2, page_cap=7))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        token = served.token()
        first = served.get(token, limit=50)
        assert first.status_code == 200
        assert len(first.json()["users"]) == 7
        assert 'offset=7>; rel="next"' in first.headers["link"]
        total = int(first.headers["x-total-count"])
        assert total > 7
        second = served.get(token, limit=50)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "0"  # the provider's word: retry at once
        served.get(token, limit=5)
        fourth = served.get(token, limit=5)
        assert fourth.status_code == 500 and "retry-after" not in fourth.headers
        assert len(served.get(token, limit=5).json()["users"]) == 5  # under the cap


def test_paging_headers_can_be_withheld_and_are_noted_for_the_judge(serve) -> None:
    app, recording = serve(FaultPlan(paging_headers=False))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        page = served.get(served.token(), limit=5)
        assert page.status_code == 200 and len(page.json()["users"]) == 5
        assert "x-total-count" not in page.headers and "link" not in page.headers
    [read] = [e for e in served.exchanges() if e["path"] == USERS]
    assert "x-total-count" not in read["response_headers"]
    assert int(read["withheld"]["x-total-count"]) > 5
    assert 'rel="next"' in read["withheld"]["link"]


def test_drift_runs_once_after_the_deeper_pages(serve) -> None:
    calls: list[float] = []
    app, recording = serve(FaultPlan(drift_after=2), on_drift=lambda: calls.append(1))
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        token = served.token()
        for offset in (0, 10, 20, 30, 40):
            assert served.get(token, limit=10, offset=offset).status_code == 200
    assert len(calls) == 1
    assert [e["fault"] for e in served.exchanges() if e["path"] == USERS] == [
        None, None, "drift", None, None]


def test_recording_masks_secrets_and_keeps_what_the_judge_needs(serve) -> None:
    app, recording = serve(FaultPlan())
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        form = served.client.post("/oauth2/token", data={
            "grant_type": "client_credentials", "client_id": "cid", "client_secret": SECRET})
        token = form.json()["access_token"]
        page = served.get(token, limit=5)
        served.get(token, path=USERS + "/no-such-id")
    recording.close()
    text = recording.path.read_text()
    assert SECRET not in text and token not in text
    header, token_request, read, missing = served.lines()
    assert header["format"] == "oneroster-harness-recording" and header["scenario"] == "test"
    assert token_request["auth"] == "form" and token_request["body"]["client_secret"] == "***"
    assert token_request["issued"] == "token-1"
    assert read["token"] == "token-1" and read["envelope"] == "users" and read["count"] == 5
    assert read["ids"] == [u["sourcedId"] for u in page.json()["users"]]
    assert read["response_headers"]["x-total-count"] == page.headers["x-total-count"]
    assert missing["status"] == 404 and missing["code_minor"] == "unknownobject"
    assert read["start"] <= read["end"] <= missing["start"]


def test_parallel_requests_overlap_in_the_recording(serve) -> None:
    """Twenty requests sent at once show as many in flight; one after another show one."""
    app, recording = serve(FaultPlan())
    with serve_in_thread(app) as url, Served(url, recording.path) as served:
        token = served.token()
        barrier = threading.Barrier(20)

        def fetch(offset: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                barrier.wait(timeout=10)
                client.get(USERS, params={"limit": 5, "offset": offset},
                           headers={"Authorization": f"Bearer {token}"})

        threads = [threading.Thread(target=fetch, args=(i * 5,)) for i in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    pages = [e for e in served.exchanges() if e["path"] == USERS]
    assert len(pages) == 20
    most = max(sum(1 for other in pages if other["start"] <= e["start"] < other["end"])
               for e in pages)
    assert most > 5
