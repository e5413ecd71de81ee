"""Consumer certification end to end: the example consumers (tests/consumers/example.py) run
as real processes against the mock over loopback HTTP under each scenario. The good one passes
every scenario; each bad one is caught by exactly the checks that name its mistake; a
recording judged again offline gives the same verdict."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from rich.console import Console

from harness.cli import main
from harness.consumer.certify import Certification, certify
from harness.consumer.command import run_command
from harness.consumer.judge import CONSUMER_CHECKS, judge
from harness.consumer.recording import load
from harness.consumer.roster import load_roster
from harness.consumer.scenarios import SCENARIOS, Scenario
from harness.consumer.session import RunOptions, run_scenario
from mock_provider.district import parse_quirks

from .conftest import make_district
from .test_cli import serving

EXAMPLE = Path(__file__).parent / "consumers" / "example.py"
STUDENTS = 60

# The checks each scenario must exercise (not skip) for the good consumer.
EXERCISED = {
    "full-sync": {"OR-CON-PAGE-001", "OR-CON-AUTH-002", "OR-CON-RESULT-001"},
    "delta-sync": {"OR-CON-DELTA-001", "OR-CON-DELTA-002", "OR-CON-RESULT-001"},
    "token-expiry": {"OR-CON-AUTH-003"},
    "rate-limit": {"OR-CON-RATE-001"},
    "flaky": {"OR-CON-RETRY-001"},
    "short-pages": {"OR-CON-PAGE-001"},
    "minimal-paging": {"OR-CON-PAGE-001", "OR-CON-RESULT-001"},
    "page-drift": {"OR-CON-PAGE-001"},
    "quirky-data": {"OR-CON-RESULT-001"},
    "grade-passback": {"OR-CON-GRADE-001", "OR-CON-GRADE-002", "OR-CON-GRADE-003"},
    "campus": {"OR-CON-GRADE-005"},
    "v1p1": {"OR-CON-PAGE-001", "OR-CON-RESULT-001", "OR-CON-GRADE-005"},
    "credential-expiry": {"OR-CON-AUTH-007", "OR-CON-AUTH-008", "OR-CON-RESULT-001"},
    "rollover": {"OR-CON-YEAR-001", "OR-CON-YEAR-002", "OR-CON-RESULT-001"},
}

# Each bad example, the scenario that exposes it, and exactly the checks that must fail.
BAD = {
    "ignores-pagination": ("full-sync", {"OR-CON-PAGE-001", "OR-CON-RESULT-001"}),
    "ignores-429": ("rate-limit", {"OR-CON-RATE-001", "OR-CON-RUN-001", "OR-CON-PAGE-001",
                                   "OR-CON-RESULT-001"}),
    # It gives up between collections, so the walks it started were complete.
    "no-token-refresh": ("token-expiry", {"OR-CON-AUTH-003", "OR-CON-RUN-001",
                                          "OR-CON-RESULT-001"}),
    "dates-outside-term": ("grade-passback", {"OR-CON-GRADE-001", "OR-CON-GRADE-002",
                                              "OR-CON-RUN-001"}),
    "parallel-20": ("full-sync", {"OR-CON-CONC-001"}),
    # Without Link it takes the first page for the last: users and enrollments cut short.
    "follows-link-only": ("minimal-paging", {"OR-CON-PAGE-001", "OR-CON-RESULT-001"}),
    # Drops Campus's 1.1 user ids (s200123) as malformed: its roster has no users.
    "expects-guids": ("v1p1", {"OR-CON-RESULT-001"}),
    # Ten token requests with an expired secret; it still stops with the provider's words.
    "hammers-token": ("credential-expiry", {"OR-CON-AUTH-008"}),
    # A plain delta after the rollover: last year's sessions, classes, enrollments stay.
    "keeps-old-year": ("rollover", {"OR-CON-YEAR-002", "OR-CON-RESULT-001"}),
}


@pytest.fixture(scope="module")
def districts(districts_dir: Path) -> dict[str, Path]:
    return {"": make_district(districts_dir, 42, STUDENTS),
            "all": make_district(districts_dir, 42, STUDENTS, parse_quirks("all"))}


def _district_for(districts: dict[str, Path]):
    def district_for(scenario: Scenario) -> Path:
        return districts[scenario.quirks]
    return district_for


def _certify(districts: dict[str, Path], tmp_path: Path, scenario: str,
             bad: str | None = None, *options: str):
    command = [sys.executable, str(EXAMPLE), *(["--bad", bad] if bad else []), *options]
    plan = Certification([SCENARIOS[scenario]], command, tmp_path, 120,
                         tmp_path / "roster.json", _district_for(districts))
    [summary] = certify(plan, Console(file=io.StringIO(), width=120))
    return summary


def test_several_scenarios_print_one_line_each(districts, tmp_path: Path) -> None:
    """What `--scenario all` shows on the console: a verdict line per scenario naming its
    report, not every check's table (that is in the reports)."""
    out = io.StringIO()
    command = [sys.executable, str(EXAMPLE)]
    plan = Certification([SCENARIOS["full-sync"], SCENARIOS["campus"]], command, tmp_path, 120,
                         tmp_path / "roster.json", _district_for(districts))
    certify(plan, Console(file=out, width=300, soft_wrap=True))
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 2, out.getvalue()
    for line, name in zip(lines, ("full-sync", "campus"), strict=True):
        assert line.startswith(f"CONFORMANT: consumer, scenario {name} (OneRoster 1.2) - ")
        assert line.endswith(f"; report: {tmp_path / f'consumer-{name}' / 'report.html'}")
        assert (tmp_path / f"consumer-{name}" / "results.json").is_file()


# Scenarios that wait out real time (rate-limit windows, retries, many short pages): 3-4 s each.
SLOW_SCENARIOS = frozenset({"rate-limit", "flaky", "short-pages"})


@pytest.mark.parametrize("scenario", [
    pytest.param(s, marks=pytest.mark.slow) if s in SLOW_SCENARIOS else s for s in SCENARIOS])
def test_good_consumer_passes_every_scenario(districts, tmp_path: Path, scenario: str) -> None:
    summary = _certify(districts, tmp_path, scenario)
    statuses = {r.id: r.status for r in summary.results}
    failed = {r.id: r.message for r in summary.results if r.status != "passed"
              and r.status != "skipped"}
    assert failed == {}
    assert {i for i in EXERCISED[scenario] if statuses[i] != "passed"} == set()
    assert statuses["OR-CON-RUN-001"] == "passed"
    assert summary.version == SCENARIOS[scenario].version  # the good example speaks it
    messages = {r.id: r.message for r in summary.results}
    if scenario == "flaky":  # both rules met: the provider's Retry-After, and our own backoff
        assert re.search(r"\([1-9]\d* with Retry-After, [1-9]\d* without\)",
                         messages["OR-CON-RETRY-001"]), messages["OR-CON-RETRY-001"]
    if scenario == "credential-expiry":  # one token request, refused; it said why and stopped
        assert "invalid_client" in messages["OR-CON-AUTH-007"]
        assert messages["OR-CON-AUTH-008"] == \
            "attempts with the refused credentials: 1 in the delta run"


@pytest.mark.parametrize("bad", list(BAD))
def test_each_bad_consumer_is_caught_by_its_checks(districts, tmp_path: Path, bad: str) -> None:
    scenario, expected = BAD[bad]
    summary = _certify(districts, tmp_path, scenario, bad)
    failed = {r.id for r in summary.results if r.status == "failed"}
    assert failed == expected
    assert not summary.conformant


# Scenarios the example runs in with --oauth1 (OneRoster 1.1, every request signed), and the
# options it gets there; the checks each must exercise besides AUTH-004 and AUTH-005.
OAUTH1 = {
    "token-expiry": ((), {"OR-CON-AUTH-006"}),  # replayed-nonce refusals, signed anew
    "grade-passback": ((), {"OR-CON-GRADE-002", "OR-CON-GRADE-003"}),  # 1.1 writes
    # Campus 1.1 ids on a 1.1 connection, signed with the older method.
    "v1p1": (("--signature-method", "HMAC-SHA1"), {"OR-CON-RESULT-001"}),
    "credential-expiry": ((), {"OR-CON-AUTH-007", "OR-CON-AUTH-008"}),  # signatures refused
}
BEARER_CHECKS = ("OR-CON-AUTH-001", "OR-CON-AUTH-002", "OR-CON-AUTH-003")


@pytest.mark.parametrize("scenario", list(OAUTH1))
def test_an_oauth1_consumer_is_judged_by_its_signatures(districts, tmp_path: Path,
                                                         scenario: str) -> None:
    options, exercised = OAUTH1[scenario]
    summary = _certify(districts, tmp_path, scenario, None, "--oauth1", *options)
    results = {r.id: r for r in summary.results}
    assert [r.message for r in summary.failed] == []
    for check in BEARER_CHECKS:
        assert results[check].status == "skipped"
        assert results[check].message == "not applicable: the consumer signs with OAuth 1.0a"
    for check in {"OR-CON-AUTH-004", "OR-CON-AUTH-005", "OR-CON-RUN-001", *exercised}:
        assert results[check].status == "passed", (check, results[check].message)
    method = options[1] if options else "HMAC-SHA256"
    assert f"({method})" in results["OR-CON-AUTH-004"].message
    directory = tmp_path / f"consumer-{scenario}"
    text = (directory / "recording.ndjson").read_text()
    assert "oauth_signature" not in text and '"nonce":' in text
    assert "OneRoster 1.1" in (directory / "consumer.log").read_text()
    # The reports name the version the consumer spoke and cite 1.1 where its rules differ.
    assert summary.version == "1.1"
    assert json.loads((directory / "results.json").read_text())["version"] == "1.1"
    assert "OneRoster 1.1 conformance" in (directory / "report.html").read_text()
    assert results["OR-CON-PAGE-001"].rule.startswith("OneRoster 1.1")


def test_a_consumer_that_resends_a_signature_is_caught(districts, tmp_path: Path) -> None:
    # The first grade-book write fails with 503: its retry goes out with the same signature.
    summary = _certify(districts, tmp_path, "grade-passback", "reuses-nonce", "--oauth1")
    assert {r.id for r in summary.failed} == {"OR-CON-AUTH-004"}
    [finding] = summary.failed
    assert "reused a nonce already sent" in finding.message


def test_recording_judged_offline_gives_the_same_verdict(districts, tmp_path: Path) -> None:
    summary = _certify(districts, tmp_path, "full-sync", "ignores-pagination")
    recording = tmp_path / "consumer-full-sync" / "recording.ndjson"
    roster = load_roster(tmp_path / "roster.json")
    again = judge(load(recording), roster, target=summary.target)
    assert [(r.id, r.status, r.message) for r in again.results] == [
        (r.id, r.status, r.message) for r in summary.results]
    report_dir = tmp_path / "offline"
    code = main(["check", "consumer", "--recording", str(recording),
                 "--result", str(tmp_path / "roster.json"), "--report-dir", str(report_dir)])
    assert code == 1
    results = json.loads((report_dir / "results.json").read_text())
    assert {r["id"]: r["status"] for r in results["results"]} == {
        r.id: r.status for r in summary.results}


def test_cli_certifies_the_good_consumer_and_writes_every_report(
        districts, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data_dir = districts[""].parent
    code = main(["check", "consumer", "--scenario", "full-sync", "--students", str(STUDENTS),
                 "--data-dir", str(data_dir), "--report-dir", str(tmp_path), "--",
                 sys.executable, str(EXAMPLE)])
    out = capsys.readouterr().out
    assert code == 0, out
    directory = tmp_path / "consumer-full-sync"
    for name in ("results.json", "junit.xml", "report.html", "recording.ndjson",
                 "consumer.log"):
        assert (directory / name).is_file(), name
    assert "CONFORMANT" in out and "(OneRoster 1.2)" in out
    assert "full sync" in (directory / "consumer.log").read_text()


def test_a_runs_last_words_are_kept_with_secrets_masked(tmp_path: Path) -> None:
    log = tmp_path / "consumer.log"
    log.write_text("an earlier run\n")
    script = "import sys; print('starting'); print('bad secret s3cr3t', file=sys.stderr); " \
             "sys.exit(3)"
    run = run_command([sys.executable, "-c", script], {}, 30, log, secrets=("s3cr3t",))
    assert (run.exit_code, run.timed_out, run.last_line) == (3, False, "bad secret ***")
    assert run.output_bytes == len("starting\nbad secret s3cr3t\n")
    assert log.read_text().startswith("an earlier run\n")
    stuck = run_command([sys.executable, "-c", "import time; time.sleep(30)"], {}, 0.5, log)
    assert stuck.timed_out and stuck.exit_code is None


def test_recording_never_holds_the_secret(districts, tmp_path: Path) -> None:
    _certify(districts, tmp_path, "token-expiry")
    text = (tmp_path / "consumer-token-expiry" / "recording.ndjson").read_text()
    header = json.loads(text.splitlines()[0])
    assert header["scenario"] == "token-expiry"
    assert "client_secret\":\"***" in text or "\"auth\":\"basic\"" in text
    lines = [json.loads(line) for line in text.splitlines()]
    issued = [line["issued"] for line in lines if line.get("issued")]
    assert len(issued) >= 2  # tokens expired and were renewed
    assert all(label.startswith("token-") for label in issued)


@pytest.mark.parametrize("argv, message", [
    (["--scenario", "nope"], "unknown scenario 'nope'"),
    (["--recording", "/nonexistent/rec.ndjson"], "cannot read the recording"),
    (["--quirks", "all", "--", "true"], "the scenario decides the quirks"),
])
def test_cli_usage_errors_are_one_line(argv, message, capsys: pytest.CaptureFixture,
                                       tmp_path: Path) -> None:
    code = main(["check", "consumer", "--report-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_every_consumer_check_is_explained() -> None:
    for found in CONSUMER_CHECKS.values():
        assert found.explanation and found.rule and found.severity in ("error", "warning")


def _run_example(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, **env,
                                            "ONEROSTER_STATE_DIR": str(state),
                                            "ONEROSTER_SYNC_PHASE": "full"})


def test_a_consumer_running_elsewhere_is_judged_when_stopped(districts, tmp_path: Path) -> None:
    stop = threading.Event()
    runs: list[subprocess.CompletedProcess[str]] = []

    def consumer_elsewhere(endpoints) -> None:
        def sync() -> None:
            runs.append(_run_example(endpoints.environment_preview(), tmp_path))
            stop.set()
        threading.Thread(target=sync, daemon=True).start()

    recording = run_scenario(SCENARIOS["full-sync"], districts[""], tmp_path / "rec.ndjson",
                             RunOptions(None, 60, announce=consumer_elsewhere, stop=stop))
    assert runs and runs[0].returncode == 0, runs[0].stderr if runs else "never ran"
    summary = judge(load(recording))
    statuses = {r.id: r.status for r in summary.results}
    assert summary.conformant
    assert statuses["OR-CON-RUN-001"] == "skipped"  # no command of ours to judge
    assert statuses["OR-CON-PAGE-001"] == "passed"


def test_serve_record_then_judge_the_recording(tmp_path: Path) -> None:
    recording = tmp_path / "traffic.ndjson"
    with serving(tmp_path, "--record", str(recording)) as (port, _):
        origin = f"http://127.0.0.1:{port}"
        done = _run_example({"ONEROSTER_BASE_URL": origin,
                             "ONEROSTER_TOKEN_URL": f"{origin}/oauth2/token",
                             "ONEROSTER_CLIENT_ID": "vendor",
                             "ONEROSTER_CLIENT_SECRET": "vendor-secret"}, tmp_path)
        assert done.returncode == 0, done.stderr
    text = recording.read_text()
    assert "vendor-secret" not in text
    code = main(["check", "consumer", "--recording", str(recording),
                 "--report-dir", str(tmp_path / "reports")])
    assert code == 0
    results = json.loads((tmp_path / "reports" / "results.json").read_text())
    statuses = {r["id"]: r["status"] for r in results["results"]}
    assert statuses["OR-CON-PAGE-001"] == "passed" and statuses["OR-CON-AUTH-002"] == "passed"


def test_serve_with_faults_misbehaves_on_demand(tmp_path: Path) -> None:
    with serving(tmp_path, "--faults", "short-pages") as (port, banner):
        assert "faults:" in banner and "short-pages" in banner
        origin = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{origin}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("vendor", "vendor-secret")).json()["access_token"]
        page = httpx.get(f"{origin}/ims/oneroster/rostering/v1p2/users?limit=100",
                         headers={"Authorization": f"Bearer {token}"})
        assert page.status_code == 200 and len(page.json()["users"]) == 7
        assert int(page.headers["x-total-count"]) > 7
