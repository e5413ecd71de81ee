"""The inspector in a real browser: Debian's Chromium driven by Playwright against a real
``serve`` subprocess on 127.0.0.1 with a tiny district. Each test saves a screenshot under
reports/screenshots/.

CI installs Chromium (.ci/run) and these tests must run there: with CI=true a missing browser
fails them. Elsewhere they are skipped, saying how to install it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "reports" / "screenshots"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SECRET = "lms-secret-do-not-show"
EXPIRES = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
CONFIG = f"""
[[connection]]
name = "lms"
client_id = "lms-client"
client_secret = "{SECRET}"
expires = "{EXPIRES}"

[[connection]]
name = "roster-app"
client_id = "roster-client"
client_secret = "roster-secret"
connection_type = "unsupported"
"""
ROSTERING = "/ims/oneroster/rostering/v1p2"


def _need_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"no browser at {CHROMIUM}: CI must install Debian's chromium package "
                    "(.ci/run does: apt-get install -y chromium)")
    pytest.skip(f"no browser at {CHROMIUM}: install it with 'apt-get install -y chromium' to "
                "run the inspector's browser tests")


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where serve runs: its connections file, its district, the reports it lists."""
    work = tmp_path_factory.mktemp("inspector")
    (work / "connections.toml").write_text(CONFIG, encoding="utf-8")
    (work / "reports" / "provider-mock").mkdir(parents=True)
    (work / "reports" / "provider-mock" / "report.html").write_text(
        "<!doctype html><title>r</title><h1>OneRoster 1.2 conformance: the mock</h1>", "utf-8")
    return work


@pytest.fixture(scope="module")
def server(work: Path) -> Iterator[str]:
    """`oneroster-harness serve` with two connections, inspector on; yields its origin."""
    _need_browser()
    port = free_port()
    command = [sys.executable, "-m", "harness", "serve", "--port", str(port), "--size", "tiny",
               "--config", "connections.toml"]
    env = {**os.environ, "COLUMNS": "200"}
    with subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            origin = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{origin}/inspector/traffic").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "serve did not start within 60 s"
                time.sleep(0.1)
            yield origin
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=15)
    assert "Traceback" not in stderr


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(5000)
    try:
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=False)
        context.close()


def _token(origin: str, client_id: str = "lms-client", secret: str = SECRET) -> str:
    answer = httpx.post(f"{origin}/oauth2/token", data={"grant_type": "client_credentials"},
                        auth=(client_id, secret))
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def _open_live(page: Any, origin: str, where: str = "traffic") -> None:
    page.goto(f"{origin}/inspector/{where}")
    page.wait_for_selector("#live.on")  # the event stream is open: the mock keeps detail


def test_a_consumer_request_shows_in_traffic_within_a_second_with_its_token_masked(
        server: str, page: Any) -> None:
    _open_live(page, server)
    token = _token(server)
    httpx.get(f"{server}{ROSTERING}/users", params={"limit": 7},
              headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    asked = time.monotonic()
    row = page.locator("#traffic tbody tr", has_text=f"{ROSTERING}/users").first
    row.wait_for(timeout=1000)
    assert time.monotonic() - asked < 1.0
    assert "lms" in row.inner_text() and "200" in row.inner_text()
    assert row.locator("td").nth(7).inner_text() == "7"  # the page size
    row.focus()
    page.keyboard.press("Enter")  # the keyboard opens it as a click does
    headers = page.locator("#req-headers")
    headers.wait_for()
    page.wait_for_function("document.querySelector('#req-headers').textContent.length > 0")
    shown = headers.inner_text()
    assert "Bearer token-" in shown and token not in shown
    curl = page.locator("#curl").input_value()
    assert curl.startswith("curl -X GET") and "Bearer token-" in curl and token not in curl
    assert token not in page.content() and SECRET not in page.content()
    assert '"users"' in page.locator("#ans-body").inner_text()


def test_a_filter_narrows_the_traffic_list(server: str, page: Any) -> None:
    token = _token(server)
    bearer = {"Authorization": f"Bearer {token}"}
    httpx.get(f"{server}{ROSTERING}/schools", headers=bearer).raise_for_status()
    assert httpx.get(f"{server}{ROSTERING}/users/no-such-user",
                     headers=bearer).status_code == 404
    _token(server, "roster-client", "roster-secret")
    page.goto(f"{server}/inspector/traffic")
    rows = page.locator("#traffic tbody tr:visible")
    page.wait_for_function("document.querySelectorAll('#traffic tbody tr').length >= 4")
    everything = rows.count()
    page.select_option("#f-status", "4xx")
    assert 1 <= rows.count() < everything
    assert all(text.startswith("4") for text in rows.locator("td.status").all_inner_texts())
    page.select_option("#f-status", "")
    page.fill("#f-path", "/schools")
    assert rows.count() >= 1
    assert all("/schools" in text for text in rows.locator("td.path").all_inner_texts())
    page.fill("#f-path", "")
    page.select_option("#f-connection", "roster-app")
    assert rows.count() >= 1
    assert set(rows.locator("td:nth-child(2)").all_inner_texts()) == {"roster-app"}
    assert "connection=roster-app" in page.url  # the filter is in the address to share


def test_tick_moves_the_clock_and_a_delta_read_then_returns_the_changed_records(
        server: str, page: Any) -> None:
    page.goto(f"{server}/inspector/district")
    before = page.locator("#clock").inner_text()
    bearer = {"Authorization": f"Bearer {_token(server)}"}
    delta = {"filter": f"dateLastModified>'{before}'", "limit": 1000}

    def changed() -> list[dict]:
        answer = httpx.get(f"{server}{ROSTERING}/users", params=delta, headers=bearer)
        answer.raise_for_status()
        return list(answer.json()["users"])

    assert changed() == []
    page.fill("#days", "7")
    page.click("#tick")
    page.wait_for_selector("#change")
    after = page.locator("#clock").inner_text()
    assert after > before
    assert f"{before} → {after}" in page.locator("#change").inner_text()
    users = changed()
    assert users and all(u["dateLastModified"] > before for u in users)


def test_switching_rate_limit_on_makes_429s_appear(server: str, page: Any) -> None:
    page.goto(f"{server}/inspector/faults")
    page.check("#scenario-rate-limit")
    page.click("#switch-faults")
    assert page.locator("#current-faults").inner_text() == "rate-limit"
    try:
        _open_live(page, server)
        page.select_option("#f-status", "4xx")
        bearer = {"Authorization": f"Bearer {_token(server)}"}
        statuses = [httpx.get(f"{server}{ROSTERING}/orgs", headers=bearer).status_code
                    for _ in range(12)]
        assert 429 in statuses
        limited = page.locator("#traffic tbody tr:visible", has_text="rate-limit").first
        limited.wait_for(timeout=2000)
        assert "429" in limited.inner_text()
        # Refused before the auth middleware saw it, and still put down to its connection.
        assert limited.locator("td").nth(1).inner_text() == "lms"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "rate-limit-traffic.png"))
    finally:
        page.goto(f"{server}/inspector/faults")
        page.check("#scenario-off")
        page.click("#switch-faults")
    assert page.locator("#current-faults").inner_text() == "off"


def test_connections_shows_each_credential_expiry_with_a_countdown(server: str,
                                                                   page: Any) -> None:
    _token(server)
    page.goto(f"{server}/inspector/connections")
    lms = page.locator("#connections tbody tr", has_text="lms-client")
    assert EXPIRES in lms.locator("td.expiry").inner_text()
    page.wait_for_function(
        "document.querySelector('.countdown').textContent.includes(' s left')")
    assert "29 d" in lms.locator(".countdown").inner_text() or \
        "30 d" in lms.locator(".countdown").inner_text()
    roster = page.locator("#connections tbody tr", has_text="roster-client")
    assert "rostering only" in roster.inner_text() and "never" in roster.inner_text()
    tokens_issued = int(lms.locator("td.num").first.inner_text())
    assert tokens_issued >= 1
    page.wait_for_selector("#live.on")
    _token(server)  # the page follows the traffic without being reloaded
    page.wait_for_function(
        "Number(document.querySelector('#connections tbody tr td.num').textContent) == "
        f"{tokens_issued + 1}", timeout=5000)


def test_syncs_shows_a_walk_read_against_its_total(server: str, page: Any) -> None:
    bearer = {"Authorization": f"Bearer {_token(server, 'roster-client', 'roster-secret')}"}
    total = None
    for offset in (0, 50, 100):
        answer = httpx.get(f"{server}{ROSTERING}/users", headers=bearer,
                           params={"limit": 50, "offset": offset, "sort": "familyName"})
        total = int(answer.headers["x-total-count"])
    page.goto(f"{server}/inspector/syncs")
    section = page.locator("section", has=page.locator("h2", has_text="roster-app"))
    walk = section.locator("tbody tr", has_text="sort=familyName")
    cells = walk.locator("td").all_inner_texts()
    assert cells[3] == cells[4] == str(total)  # read all of X-Total-Count
    assert cells[5] == "complete" and cells[6] == cells[7] == "0"
    assert cells[8] == f"50 x 2, {total - 100}"


def test_reports_links_each_check_run(server: str, page: Any) -> None:
    page.goto(f"{server}/inspector/reports")
    page.click("text=provider-mock")
    assert page.locator("h1").inner_text() == "OneRoster 1.2 conformance: the mock"


def test_every_page_fits_1280_wide_and_labels_every_control(server: str, page: Any) -> None:
    for where in ("traffic", "syncs", "connections", "district?school=", "faults", "reports"):
        page.goto(f"{server}/inspector/{where}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, where
        unlabelled = page.evaluate("""[...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')].filter(c => !c.labels.length)
            .map(c => c.id || c.name)""")
        assert unlabelled == [], (where, unlabelled)
    page.goto(f"{server}/inspector/district")
    first_school = page.locator("section", has=page.locator("#schools-title")).locator("a").first
    first_school.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#classes-title:has-text(' of ')")
    klass = page.locator("section", has=page.locator("#classes-title")).locator("a").first
    klass.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#roster-title:has-text(' of ')")
    assert page.locator("section", has=page.locator("#roster-title")).locator(
        "tbody tr").count() >= 1
    name = page.locator("section", has=page.locator("#roster-title")).locator(
        "tbody tr td").first.inner_text()
    page.fill("#q", name.split()[-1].upper())  # a family name, in any case
    page.keyboard.press("Enter")
    assert name in page.locator("#found").inner_text()


def test_traffic_keeps_up_with_a_burst_of_parallel_requests(server: str, page: Any) -> None:
    _open_live(page, server)
    bearer = {"Authorization": f"Bearer {_token(server)}"}

    def walk(worker: int) -> list[int]:
        with httpx.Client(base_url=server, headers=bearer) as client:
            return [client.get(f"{ROSTERING}/users", params={
                "limit": 5, "offset": worker * 100 + n, "fields": "sourcedId"}).status_code
                for n in range(100)]

    with ThreadPoolExecutor(4) as pool:
        statuses = [s for batch in pool.map(walk, range(4)) for s in batch]
    assert statuses == [200] * 400
    page.wait_for_function("[...document.querySelectorAll('#traffic tbody tr')].filter("
                           "r => r.textContent.includes('fields=sourcedId')).length >= 400",
                           timeout=5000)
    assert "lost" not in page.locator("#live").inner_text()
