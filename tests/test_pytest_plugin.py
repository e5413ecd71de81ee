"""The pytest plugin: the catalogue as tests against the mock or a URL, and the fixtures."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.runner import select
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.store import Store

from .broken_providers import JSON, Defect, TokenGate
from .conftest import make_district
from .live_server import free_port, live_server

# Every test here runs pytest in a subprocess over the whole catalogue or a mock: 2-7 s each.
pytestmark = pytest.mark.slow


def _pytest(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_catalogue_passes_on_the_embedded_mock(tmp_path: Path) -> None:
    done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-mock")
    assert done.returncode == 0, done.stdout + done.stderr
    # OR-AUTH-006 waits out only short-lived tokens; the mock's live an hour. OR-AUTH-009
    # judges OAuth 1.0a signing.
    assert f"{len(select(None)) - 2} passed, 2 skipped" in done.stdout


def test_without_a_provider_the_run_fails_in_one_line(tmp_path: Path) -> None:
    """A CI job that forgot the options goes red, with one line saying what to add."""
    done = _pytest(tmp_path, "--pyargs", "harness.conformance")
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert done.stderr.strip().splitlines() == [
        "ERROR: no provider to check: give --oneroster-base-url with --oneroster-token-url, "
        "--oneroster-client-id and --oneroster-client-secret (or --oneroster-token), or "
        "--oneroster-mock for the embedded mock"]
    assert "skipped" not in done.stdout and "passed" not in done.stdout


def _said_once(done: subprocess.CompletedProcess[str], words: str) -> None:
    """The run stopped (not passed), said ``words`` once, and no traceback or per-check
    failure."""
    output = done.stdout + done.stderr
    assert done.returncode not in (0, 5), output
    assert output.count(words) == 1, output
    assert "Traceback" not in output and "FAILED" not in output and "ERROR at" not in output
    assert len(output.strip().splitlines()) <= 5, output


def test_a_wrong_secret_is_reported_once(tmp_path: Path, districts_dir: Path) -> None:
    connection = Connection(name="v", client_id="v", client_secret="v-secret",
                            scopes=ALL_SCOPES_V12)
    store = Store(make_district(districts_dir, 42, 60))
    with live_server(create_app(store, [connection])) as url:
        done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                       "--oneroster-token-url", f"{url}/oauth2/token",
                       "--oneroster-client-id", "v", "--oneroster-client-secret", "wrong")
    store.close()
    _said_once(done, "invalid_client")
    assert "wrong" not in done.stdout + done.stderr


def test_an_unreachable_provider_is_reported_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                   "--oneroster-token-url", f"{url}/oauth2/token",
                   "--oneroster-client-id", "v", "--oneroster-client-secret", "s")
    _said_once(done, "cannot reach")


def test_a_broken_provider_fails_the_matching_test(tmp_path: Path, districts_dir: Path) -> None:
    connection = Connection(name="v", client_id="v", client_secret="v-secret",
                            scopes=ALL_SCOPES_V12)
    app = create_app(Store(make_district(districts_dir, 42, 60)), [connection],
                     close_store=True)
    with live_server(Defect(app, drop_header=b"x-total-count")) as url:
        done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                       "--oneroster-token-url", f"{url}/oauth2/token",
                       "--oneroster-client-id", "v", "--oneroster-client-secret", "v-secret")
    assert done.returncode == 1
    assert f"1 failed, {len(select(None)) - 3} passed, 2 skipped" in done.stdout
    assert "OR-PAGE-002" in done.stdout and "v-secret" not in done.stdout


def test_vendors_can_use_the_mock_fixtures_in_their_own_tests(tmp_path: Path) -> None:
    (tmp_path / "test_vendor.py").write_text(
        "def test_students_sync(oneroster_client):\n"
        "    page = oneroster_client.get('/ims/oneroster/rostering/v1p2/students?limit=5')\n"
        "    assert page.status_code == 200\n"
        "    assert len(page.json()['users']) == 5\n")
    done = _pytest(tmp_path, "test_vendor.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_static_token_is_enough(tmp_path: Path, districts_dir: Path) -> None:
    connection = Connection(name="v", client_id="v", client_secret="v-secret",
                            scopes=ALL_SCOPES_V12)
    store = Store(make_district(districts_dir, 42, 60))
    with live_server(create_app(store, [connection])) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("v", "v-secret")).json()["access_token"]
        done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                       "--oneroster-token", token)
    store.close()
    assert done.returncode == 0, done.stdout[-2000:]
    # OR-AUTH-003 to 006, 010, 011 and 012 need client credentials (a token URL, lifetimes,
    # tokens of other scopes, token answers), OR-AUTH-009 OAuth 1.0a signing: skipped.
    assert f"{len(select(None)) - 8} passed, 8 skipped" in done.stdout
    assert token not in done.stdout


def test_oauth1_signing_runs_the_catalogue_on_1_1(tmp_path: Path, districts_dir: Path) -> None:
    connection = Connection(name="v", client_id="v-key", client_secret="v-s3cret",
                            scopes=ALL_SCOPES_V11, version="1.1", oauth1=True)
    store = Store(make_district(districts_dir, 42, 60))
    with live_server(create_app(store, [connection])) as url:
        done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                       "--oneroster-oauth1", "--oneroster-version", "1.1",
                       "--oneroster-client-id", "v-key", "--oneroster-client-secret",
                       "v-s3cret", "-rs")
    store.close()
    assert done.returncode == 0, done.stdout[-3000:]
    skipped = {why: int(n) for n, why in re.findall(r"SKIPPED \[(\d+)\] \S+ (.*)", done.stdout)}
    # Only what OAuth 1.0a or 1.1 cannot do is skipped: the checks of OAuth 2.0 and bearer
    # tokens, 1.2's several roles per user. OR-API-001 runs over the 1.1 document.
    assert skipped == {"the run does not use OAuth 2.0 client credentials": 7,
                       "the run does not use bearer tokens": 1,
                       "1.1 users have a single role": 1}, done.stdout[-3000:]
    assert f"{len(select(None)) - 9} passed, 9 skipped" in done.stdout
    assert "v-s3cret" not in done.stdout


@pytest.mark.parametrize("argv, message", [
    (["--oneroster-base-url", "http://127.0.0.1:9", "--oneroster-oauth1",
      "--oneroster-client-id", "k", "--oneroster-client-secret", "s"],
     "OAuth 1.0a signing is OneRoster 1.1 only: add --oneroster-version 1.1"),
    (["--oneroster-base-url", "http://127.0.0.1:9", "--oneroster-client-id", "k"],
     "give --oneroster-token-url, --oneroster-client-secret (or --oneroster-token, or "
     "--oneroster-mock to check the embedded mock)"),
    (["--oneroster-mock", "--oneroster-signature-method", "HMAC-SHA1"],
     "--oneroster-signature-method applies to OAuth 1.0a: add --oneroster-oauth1"),
])
def test_incomplete_provider_options_stop_pytest_in_one_line(tmp_path: Path, argv: list[str],
                                                              message: str) -> None:
    done = _pytest(tmp_path, "--pyargs", "harness.conformance", *argv)
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert done.stderr.strip() == f"ERROR: {message}"


def test_a_token_that_shows_up_in_a_finding_is_masked(tmp_path: Path,
                                                      districts_dir: Path) -> None:
    # A token no header can carry: the HTTP library quotes it in its error, and the finding
    # carries that error; the plugin must mask it as `check provider` does.
    halves = ("tok-A1b2C3d4A1b2C3d4A1b2C3d4.*+?", "X-Injected: ^$[]{}()|\\d Z9y8X7w6Z9y8X7w6")

    def wicked(form: dict[str, str], headers: dict[str, str]) -> tuple[int, list, bytes]:
        body = {"access_token": "\r\n".join(halves), "token_type": "bearer", "expires_in": 60}
        return 200, JSON, json.dumps(body).encode()

    connection = Connection(name="v", client_id="v", client_secret="v-secret",
                            scopes=ALL_SCOPES_V12)
    app = create_app(Store(make_district(districts_dir, 42, 60)), [connection],
                     close_store=True)
    with live_server(TokenGate(app, wicked)) as url:
        done = _pytest(tmp_path, "--pyargs", "harness.conformance", "--oneroster-base-url", url,
                       "--oneroster-token-url", f"{url}/oauth2/token",
                       "--oneroster-client-id", "v", "--oneroster-client-secret", "v-secret",
                       "-k", "OR-AUTH-012 or OR-CORE-001", "-rA")
    shown = done.stdout + done.stderr
    assert "OR-AUTH-012" in shown, shown
    for half in halves:
        for part in (half[:20], half[-16:]):
            assert part not in shown, f"{part!r} shows"
    assert "v-secret" not in shown
