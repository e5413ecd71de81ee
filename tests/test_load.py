"""``oneroster-harness load``: sync nights on Locust against the mock and against broken
providers on loopback, judged for correctness under load. Locust patches the standard library
with gevent when imported, so every night runs in a subprocess (as the command itself runs its
load process): nothing here imports Locust."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.cli import main
from harness.embedded import free_port
from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V11, ALL_SCOPES_V12, Connection
from mock_provider.middleware.faults import FaultPlan
from mock_provider.store import Store

from .broken_providers import (
    Broken,
    QueryDefect,
    SometimesSlow,
    pages_overlap,
    server_errors_after,
    throttled_without_retry_after,
)
from .conftest import make_district
from .live_server import live_server

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60  # seconds any one load process may take here


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness", "load", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "CI": "true", "PYTHONPATH": str(ROOT)}


def _load(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(_command(*args), capture_output=True, text=True, env=_env(),
                          timeout=LIMIT, cwd=ROOT)


def _verdicts(report_dir: Path) -> dict[str, str]:
    data = json.loads((report_dir / "results.json").read_text())
    return {r["id"]: r["status"] for r in data["results"]}


@pytest.fixture(scope="module")
def district(districts_dir: Path) -> Path:
    return make_district(districts_dir, 42, 60)


@pytest.mark.slow
def test_a_night_against_the_mock_holds_up_and_writes_every_report(tmp_path: Path,
                                                                   district: Path) -> None:
    reports = tmp_path / "reports"
    done = _load("--mock", "--users", "4", "--duration", "6", "--page-size", "25",
                 "--students", "60", "--data-dir", str(district.parent),
                 "--report-dir", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = _verdicts(reports)
    assert set(verdicts) == {f"OR-NIGHT-00{n}" for n in range(1, 8)}
    assert set(verdicts.values()) == {"passed"}, verdicts
    # junit.xml as `check` writes it: one testcase per verdict, none failed.
    suite = ET.parse(reports / "junit.xml").getroot()
    assert suite.get("tests") == "7" and suite.get("failures") == "0"
    night = json.loads((reports / "night.json").read_text())
    kinds = {s["kind"] for s in night["log"]["syncs"] if s["finished"]}
    assert kinds == {"full-sync", "delta-sync", "help-desk", "grade-passback"}
    users_walks = [w for s in night["log"]["syncs"] for w in s["walks"]
                   if s["kind"] == "full-sync" and w["collection"] == "users" and w["finished"]]
    assert users_walks and all(w["distinct"] == w["total"] > 25 for w in users_walks)
    # What the district serves, read once before the night, is what each full sync read.
    assert night["district"]["users"] == users_walks[0]["distinct"]
    assert set(night["district"]) == {"orgs", "academicSessions", "courses", "classes",
                                      "users", "enrollments"}
    # Locust's own statistics, one row per operation.
    stats = (reports / "locust_stats.csv").read_text()
    for operation in ("users page", "users by email", "results/{id}", "users delta page"):
        assert f",{operation}," in stats
    assert (reports / "locust_stats_history.csv").stat().st_size > 0
    # The HTML page draws its charts itself: inline SVG, nothing fetched from a network.
    html = (reports / "report.html").read_text()
    assert html.count("<svg") >= 6 and "<polyline" in html
    assert "<script" not in html and 'src="http' not in html and "<link" not in html
    for title in ("Requests per second", "p95 response time per operation",
                  "Errors per second", "Syncs"):
        assert title in html
    assert "HELD UP: embedded mock (" in done.stdout


@pytest.mark.slow
def test_a_night_in_oneroster_1_1_reads_and_writes_the_1_1_paths(tmp_path: Path,
                                                                 district: Path) -> None:
    reports = tmp_path / "reports"
    done = _load("--mock", "--version", "1.1", "--users", "4", "--duration", "3",
                 "--students", "60", "--data-dir", str(district.parent),
                 "--report-dir", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(_verdicts(reports).values()) == {"passed"}
    stats = (reports / "locust_stats.csv").read_text()
    assert ",lineItems/{id}," in stats and ",users by username," in stats
    night = json.loads((reports / "night.json").read_text())
    assert any(s["read_back"] for s in night["log"]["syncs"] if s["kind"] == "grade-passback")


@pytest.mark.slow
def test_a_profile_night_on_serve_workers_ends_when_every_sync_finished(tmp_path: Path,
                                                                        district: Path) -> None:
    profile = tmp_path / "night.toml"
    profile.write_text("[night]\nduration = 40\nuntil = 'finished'\nwindow = 30\n"
                       "ramp_up = 1\n[vendors.full-sync]\ncount = 3\npage_size = 40\n"
                       "[vendors.grade-passback]\ncount = 1\n"
                       "[mock]\nworkers = 2\nstudents = 60\n")
    reports = tmp_path / "reports"
    done = _load("--mock", "--profile", str(profile), "--data-dir", str(district.parent),
                 "--report-dir", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(serve --workers 2)" in done.stdout
    night = json.loads((reports / "night.json").read_text())
    assert night["stopped_because"] == "every vendor's sync finished"
    # One sync each, every one inside the window; each vendor with its own connection.
    syncs = night["log"]["syncs"]
    assert sorted(s["vendor"] for s in syncs) == [
        "full-sync-1", "full-sync-2", "full-sync-3", "grade-passback-1"]
    assert all(s["finished"] for s in syncs)
    assert set(_verdicts(reports).values()) == {"passed"}


@pytest.mark.slow
def test_a_distributed_night_runs_on_a_master_and_two_workers(tmp_path: Path,
                                                              district: Path) -> None:
    port = str(free_port())
    reports = tmp_path / "reports"
    master = subprocess.Popen(
        _command("--master", "--expect-workers", "2", "--master-port", port, "--worker-wait",
                 "30", "--mock", "--users", "4", "--duration", "6", "--students", "60",
                 "--data-dir", str(district.parent), "--report-dir", str(reports)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=ROOT)
    workers = [subprocess.Popen(
        _command("--worker", "--master-host", "127.0.0.1", "--master-port", port),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env(), cwd=ROOT)
        for _ in range(2)]
    try:
        out, _ = master.communicate(timeout=LIMIT)
        worker_outs = [w.communicate(timeout=20)[0] for w in workers]
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=5)
    assert master.returncode == 0, out
    assert [w.returncode for w in workers] == [0, 0], worker_outs
    assert set(_verdicts(reports).values()) == {"passed"}
    night = json.loads((reports / "night.json").read_text())
    assert night["mode"] == "master"
    vendors = {s["vendor"] for s in night["log"]["syncs"]}
    # Each worker numbers its vendors from its own index: both workers' vendors reported.
    assert len(vendors) == 4 and {v.rsplit("-", 1)[1] for v in vendors} == {"1", "2"}
    # The master's statistics and charts hold what the workers' vendors sent.
    assert ",users page," in (reports / "locust_stats.csv").read_text()
    assert night["timeline"]["operations"]["GET users page"]


@pytest.mark.slow
def test_a_worker_without_a_master_gives_up_in_one_line() -> None:
    port = str(free_port())  # nothing listens there
    done = _load("--worker", "--master-host", "127.0.0.1", "--master-port", port,
                 "--worker-wait", "1")
    assert done.returncode == 2
    assert done.stderr == (f"oneroster-harness: error: no master answered at "
                           f"127.0.0.1:{port} within 1 s\n")


def _broken_night(tmp_path: Path, district: Path, wrap: Callable, *extra: str,
                  token_lifetime: int = 3600, faults: FaultPlan | None = None
                  ) -> tuple[subprocess.CompletedProcess, Path]:
    connection = Connection(name="vendor", client_id="vendor", client_secret="vendor-secret",
                            scopes=ALL_SCOPES_V12 | ALL_SCOPES_V11, token_lifetime=token_lifetime)
    store = Store(district)
    reports = tmp_path / "reports"
    try:
        with live_server(wrap(create_app(store, [connection], faults=faults))) as url:
            done = _load("--base-url", url, "--token-url", f"{url}/oauth2/token",
                         "--client-id", "vendor", "--client-secret", "vendor-secret",
                         "--report-dir", str(reports), *extra)
    finally:
        store.close()
    return done, reports


@pytest.mark.slow
def test_pages_that_repeat_a_record_fail_the_records_verdict(tmp_path: Path,
                                                             district: Path) -> None:
    done, reports = _broken_night(
        tmp_path, district, lambda app: QueryDefect(app, request=pages_overlap("users")),
        "--users", "2", "--duration", "4", "--page-size", "20")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "DID NOT HOLD UP: http://127.0.0.1:" in done.stdout
    verdicts = _verdicts(reports)
    assert verdicts["OR-NIGHT-002"] == "failed"
    assert {k for k, v in verdicts.items() if v == "failed"} == {"OR-NIGHT-002"}
    items = next(r for r in json.loads((reports / "results.json").read_text())["results"]
                 if r["id"] == "OR-NIGHT-002")["items"]
    # The second page starts one record early: that record is read twice, in every walk.
    assert items and all(i.startswith(("full-sync-", "delta-sync-")) and
                         i.endswith(" users: 1 record read twice (e.g. " f"{i[-37:-1]})")
                         for i in items), items


@pytest.mark.slow
def test_server_errors_after_a_while_fail_the_5xx_verdict(tmp_path: Path,
                                                          district: Path) -> None:
    done, reports = _broken_night(
        tmp_path, district, lambda app: Broken(app, request=server_errors_after(30)),
        "--users", "1", "--duration", "4")
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = _verdicts(reports)
    assert verdicts["OR-NIGHT-004"] == "failed"
    # Retried, the walks still reach their end and read each record once.
    assert verdicts["OR-NIGHT-001"] == verdicts["OR-NIGHT-002"] == "passed"
    failures = (reports / "locust_failures.csv").read_text()
    assert "500" in failures


@pytest.mark.slow
def test_answers_later_than_the_timeout_fail_the_timeouts_verdict(tmp_path: Path,
                                                                  district: Path) -> None:
    done, reports = _broken_night(
        tmp_path, district, lambda app: SometimesSlow(app, every=25, seconds=2.5),
        "--users", "1", "--duration", "4", "--timeout", "1")
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = _verdicts(reports)
    assert verdicts["OR-NIGHT-005"] == "failed"
    # Retried, the walks still reach their end.
    assert verdicts["OR-NIGHT-001"] == verdicts["OR-NIGHT-002"] == "passed"


@pytest.mark.slow
def test_pages_capped_below_the_size_asked_are_walked_to_the_end(tmp_path: Path,
                                                                 district: Path) -> None:
    # The spec lets a provider serve fewer records than `limit` asks: the walk goes on to
    # X-Total-Count instead of taking the short page for the last one.
    done, reports = _broken_night(tmp_path, district, lambda app: app, "--users", "1",
                                  "--duration", "3", "--page-size", "50",
                                  faults=FaultPlan(page_cap=7))
    assert done.returncode == 0, done.stdout + done.stderr
    night = json.loads((reports / "night.json").read_text())
    users = [w for s in night["log"]["syncs"] for w in s["walks"]
             if w["collection"] == "users" and w["finished"]]
    assert users and all(w["distinct"] == w["total"] == 139 and w["pages"] == 20
                         for w in users)


@pytest.mark.slow
def test_a_429_without_retry_after_fails_the_throttling_verdict(tmp_path: Path,
                                                                district: Path) -> None:
    done, reports = _broken_night(
        tmp_path, district, lambda app: Broken(app, request=throttled_without_retry_after(15)),
        "--users", "1", "--duration", "3")
    assert done.returncode == 1, done.stdout + done.stderr
    verdicts = _verdicts(reports)
    assert verdicts["OR-NIGHT-006"] == "failed"
    assert verdicts["OR-NIGHT-004"] == "passed"


class InFlight:
    """Counts the OneRoster requests being answered at once (each answered ``latency`` late,
    so a vendor's parallel requests overlap) and the bearer tokens they carried."""

    def __init__(self, app, latency: float = 0.05) -> None:
        self.app, self.latency = app, latency
        self.now = self.most = 0
        self.tokens: set[bytes] = set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or "/ims/oneroster/" not in scope["path"]:
            await self.app(scope, receive, send)
            return
        self.tokens.add(dict(scope["headers"]).get(b"authorization", b""))
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(self.latency)
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@pytest.mark.slow
def test_a_vendor_keeps_five_requests_in_flight_and_renews_its_token(tmp_path: Path,
                                                                      district: Path) -> None:
    seen: list[InFlight] = []

    def counted(app):
        seen.append(InFlight(app))
        return seen[-1]

    # One full-sync vendor walks six collections side by side; its token lives 2 s.
    done, reports = _broken_night(tmp_path, district, counted, "--users", "1", "--duration",
                                  "5", "--page-size", "10", token_lifetime=2)
    assert done.returncode == 0, done.stdout + done.stderr
    verdicts = _verdicts(reports)
    assert verdicts["OR-NIGHT-003"] == "skipped"  # no grade-passback vendor
    assert {v for k, v in verdicts.items() if k != "OR-NIGHT-003"} == {"passed"}
    assert seen[0].most == 5
    assert len(seen[0].tokens) >= 2  # renewed before it ran out, never refused for it


@pytest.mark.slow
def test_retry_after_is_honoured_and_429s_that_carry_it_pass(tmp_path: Path,
                                                             district: Path) -> None:
    done, reports = _broken_night(
        tmp_path, district, lambda app: app, "--users", "1", "--duration", "4",
        faults=FaultPlan(rate_limit_every=40, retry_after=1.0))
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((reports / "results.json").read_text())["results"]
    throttling = next(r for r in results if r["id"] == "OR-NIGHT-006")
    assert throttling["status"] == "passed"
    assert throttling["message"].endswith("429 answers, each with Retry-After")
    # Waiting the second out, the vendor meets a handful of 429s, not a storm of them.
    assert int(throttling["message"].split()[0]) <= 12


class TokenClients:
    """Keeps the client id of every token request (HTTP Basic)."""

    def __init__(self, app) -> None:
        self.app, self.clients = app, set()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/oauth2/token"):
            basic = dict(scope["headers"]).get(b"authorization", b"")[6:]
            self.clients.add(base64.b64decode(basic).decode().split(":")[0])
        await self.app(scope, receive, send)


@pytest.mark.slow
def test_a_connections_file_gives_each_kind_its_own_credentials(tmp_path: Path,
                                                               district: Path) -> None:
    connections = [Connection(name=n, client_id=n, client_secret=f"{n}-secret",
                              scopes=ALL_SCOPES_V12) for n in ("lms", "delta")]
    file = tmp_path / "connections.toml"
    file.write_text("".join(f'[[connection]]\nname = "{c.name}"\nclient_id = "{c.client_id}"\n'
                            f'client_secret = "{c.client_secret}"\nkind = "{kind}"\n'
                            for c, kind in zip(connections, ("full-sync", "delta-sync"),
                                               strict=True)))
    store = Store(district)
    try:
        app = TokenClients(create_app(store, connections))
        with live_server(app) as url:
            done = _load("--base-url", url, "--token-url", f"{url}/oauth2/token",
                         "--connections", str(file), "--users", "2", "--duration", "3",
                         "--report-dir", str(tmp_path / "reports"))
    finally:
        store.close()
    assert done.returncode == 0, done.stdout + done.stderr
    assert app.clients == {"lms", "delta"}
    file.write_text('[[connection]]\nclient_id = "lms"\nclient_secret = "s"\n'
                    'kind = "full-sync"\n')
    refused = _load("--base-url", "http://127.0.0.1:9", "--token-url", "http://127.0.0.1:9/t",
                    "--connections", str(file), "--users", "2")
    assert refused.returncode == 2
    assert refused.stderr.endswith("has no connection for the delta-sync vendors (give one "
                                   "with that kind, or one without a kind)\n")


# --- usage errors: one line, exit 2, before any load process starts ---------------------------


@pytest.mark.parametrize(("argv", "message"), [
    (["--worker"], "--worker needs --master-host"),
    (["--worker", "--master-host", "h", "--mock"], "a worker takes the plan from its master; "
     "drop --mock"),
    (["--master-host", "h"], "--master-host is for --worker"),
    (["--expect-workers", "2", "--mock"], "--expect-workers applies to --master"),
    (["--users", "2"], "give --base-url (or --mock"),
    (["--base-url", "http://127.0.0.1:9"], "give --token-url, --client-id, --client-secret"),
    (["--mock", "--base-url", "http://127.0.0.1:9"], "drop --base-url"),
    (["--profile", "missing.toml"], "cannot read the profile missing.toml"),
])
def test_bad_options_are_one_line_and_exit_2(argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_a_bad_profile_names_its_key(tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    profile = tmp_path / "night.toml"
    profile.write_text("[night]\nduration = 60\n[vendors.full-sync]\ncount = 2\n"
                       "concurrency = 9\n")
    assert main(["load", "--mock", "--profile", str(profile)]) == 2
    err = capsys.readouterr().err
    assert "[vendors.full-sync].concurrency is at most 5" in err
    profile.write_text("[night]\nduration = 60\nuntil = 'dawn'\n[vendors.full-sync]\n")
    assert main(["load", "--mock", "--profile", str(profile), "--users", "3"]) == 2
    assert "--users is for runs without a profile" in capsys.readouterr().err


def test_a_wrong_secret_or_an_unwritable_report_dir_is_one_line_before_the_night(
        tmp_path: Path, district: Path, capsys: pytest.CaptureFixture[str]) -> None:
    connection = Connection(name="vendor", client_id="vendor", client_secret="vendor-secret",
                            scopes=ALL_SCOPES_V12)
    store = Store(district)
    try:
        with live_server(create_app(store, [connection])) as url:
            flags = ["load", "--base-url", url, "--token-url", f"{url}/oauth2/token",
                     "--client-id", "vendor", "--users", "1", "--duration", "1"]
            assert main([*flags, "--client-secret", "wrong",
                         "--report-dir", str(tmp_path / "r")]) == 2
            err = capsys.readouterr().err
            assert err.startswith("oneroster-harness: error: ") and err.count("\n") == 1
            assert "invalid_client" in err and "wrong" not in err
            blocker = tmp_path / "a-file"
            blocker.write_text("")
            assert main([*flags, "--client-secret", "vendor-secret",
                         "--report-dir", str(blocker / "reports")]) == 2
            assert "cannot write reports to" in capsys.readouterr().err
    finally:
        store.close()
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_without_locust_the_command_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import harness.cli.load as load_command

    monkeypatch.setattr(load_command.importlib.util, "find_spec",
                        lambda name: None if name == "locust" else object())
    assert main(["load", "--mock"]) == 2
    assert capsys.readouterr().err == (
        "oneroster-harness: error: load runs on Locust, which is not installed: "
        "pip install 'oneroster-harness[load]'\n")
