"""The command line as a user runs it: real files, and a real subprocess where the work is
real (generating, serving, ticking). Bad arguments, which end in one line and exit code 2
before any work starts, are judged in process through ``harness.cli.main``: the same code
path without an interpreter start each; one test runs the installed console script."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from harness.cli import main

from .live_server import free_port


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true", "COLUMNS": "120"}
    env.pop("ONEROSTER_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@dataclass(frozen=True)
class Outcome:
    """What ``main`` did in process, shaped like a finished subprocess."""

    returncode: int | str | None
    stdout: str
    stderr: str


@pytest.fixture()
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """``main(args)`` in process, in ``tmp_path``, with the environment ``run`` gives."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.setenv("COLUMNS", "120")
    for name in ("ONEROSTER_DATA_DIR", "ONEROSTER_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    def call(*args: str) -> Outcome:
        capsys.readouterr()
        try:
            code: int | str | None = main(list(args))
        except SystemExit as exc:  # argparse's own exits, should main ever let one through
            code = exc.code
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return call


def assert_usage_error(result: subprocess.CompletedProcess[str] | Outcome, message: str) -> None:
    """Exit code 2 and one line on stderr that says ``message``, never a traceback."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("oneroster-harness: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_the_installed_console_script_reports_a_usage_error(tmp_path: Path) -> None:
    """The entry point pip installs, in its own process: the in-process tests below judge the
    same ``main``."""
    script = Path(sys.executable).with_name("oneroster-harness")
    assert script.is_file(), f"no console script next to {sys.executable}"
    env = {**os.environ, "CI": "true", "COLUMNS": "120"}
    done = subprocess.run([str(script), "generate", "--size", "huge"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert_usage_error(done, "invalid choice: 'huge'")


def test_version_prints_the_installed_version_and_exits_0(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("oneroster-harness")
    done = subprocess.run([str(script), "--version"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"oneroster-harness \d+\.\d+\.\d+\S*\n", done.stdout), done.stdout


def test_generate_writes_a_district_then_reuses_it(tmp_path: Path) -> None:
    first = run("generate", "--seed", "3", "--size", "tiny", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "enrollments" in first.stdout and "generated in" in first.stdout
    files = list((tmp_path / ".districts").glob("district-*.sqlite"))
    assert len(files) == 1
    second = run("generate", "--seed", "3", "--size", "tiny", cwd=tmp_path)
    assert second.returncode == 0
    assert "(reused)" in second.stdout
    assert list((tmp_path / ".districts").glob("district-*.sqlite")) == files


def test_generate_prints_the_quirk_manifest(tmp_path: Path) -> None:
    result = run("generate", "--students", "80", "--quirks", "null-email,long-codes",
                 "--out", "q.sqlite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "null-email" in result.stdout and "long-codes" in result.stdout
    assert (tmp_path / "q.sqlite").is_file()


def test_generate_exports_csv_to_a_folder_and_a_zip(tmp_path: Path) -> None:
    folder = run("generate", "--out", "d.sqlite", "--csv", "csv", cwd=tmp_path)
    assert folder.returncode == 0, folder.stderr
    assert (tmp_path / "csv" / "manifest.csv").is_file()
    assert (tmp_path / "csv" / "roles.csv").is_file()
    for name in ("resources", "classResources", "courseResources", "userResources"):
        assert (tmp_path / "csv" / f"{name}.csv").is_file(), name
    zipped = run("generate", "--out", "d.sqlite", "--csv", "out.zip", "--csv-version", "1.1",
                 "--delta-since", "2026-10-01", cwd=tmp_path)
    assert zipped.returncode == 0, zipped.stderr
    assert "delta" in zipped.stdout
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        manifest = archive.read("manifest.csv").decode()
    assert "oneroster.version,1.1" in manifest
    assert "delta" in manifest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate", "--size", "huge"], "invalid choice: 'huge'"),
        (["generate", "--seed", "forty"], "expected a whole number"),
        (["generate", "--students", "0"], "at least 1"),
        (["generate", "--students", "1e3"], "expected a whole number"),
        (["generate", "--size", "tiny", "--students", "50"], "not both"),
        (["generate", "--quirks", "bad-quirk"], "unknown quirk 'bad-quirk'"),
        (["generate", "--delta-since", "2026-10-01"], "add --csv"),
        (["generate", "--csv", "x", "--delta-since", "yesterday"], "expected a date"),
        (["generate", "--csv-version", "2.0"], "invalid choice: '2.0'"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_code_2(cli: Callable[..., Outcome],
                                                     args: list[str], message: str) -> None:
    assert_usage_error(cli(*args), message)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    assert run("generate", "--seed", "1", "--out", "mine.sqlite", cwd=tmp_path).returncode == 0
    before = (tmp_path / "mine.sqlite").read_bytes()
    other = run("generate", "--seed", "2", "--out", "mine.sqlite", cwd=tmp_path)
    assert other.returncode == 2
    assert "holds a different district (seed 1" in other.stderr
    assert (tmp_path / "mine.sqlite").read_bytes() == before

    (tmp_path / "notes.txt").write_text("not a district")
    clash = run("generate", "--out", "notes.txt", cwd=tmp_path)
    assert clash.returncode == 2
    assert "is not a finished district file" in clash.stderr
    assert (tmp_path / "notes.txt").read_text() == "not a district"


def _get_when_up(url: str) -> httpx.Response:
    for _ in range(200):
        try:
            return httpx.get(url)
        except httpx.ConnectError:
            time.sleep(0.05)
    raise AssertionError(f"nothing answered at {url}")


VENDOR = ("--client-id", "vendor", "--client-secret", "vendor-secret")


@contextmanager
def serving(tmp_path: Path, *extra: str, credentials: tuple[str, ...] = VENDOR
            ) -> Iterator[tuple[int, str]]:
    """`oneroster-harness serve` in a subprocess: yields its port and start-up banner."""
    port = free_port()
    env = {**os.environ, "CI": "true", "COLUMNS": "200"}
    command = [sys.executable, "-m", "harness", "serve", "--port", str(port), "--size", "tiny",
               *credentials, *extra]
    with subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            banner = ""
            for _ in range(20):
                line = process.stdout.readline()
                banner += line
                if "serving until stopped" in line or not line:
                    break
            # A public document, so a recording of the consumer holds no failed token request.
            _get_when_up(f"http://127.0.0.1:{port}/openapi.json")
            yield port, banner
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr


def test_serve_prints_where_and_how_to_connect_then_serves(tmp_path: Path) -> None:
    with serving(tmp_path) as (port, banner):
        assert f"http://127.0.0.1:{port}/ims/oneroster/rostering/v1p2" in banner
        match = re.search(r"token URL:\s+(\S+)", banner)
        assert match and match.group(1) == f"http://127.0.0.1:{port}/oauth2/token"
        assert "vendor-secret" in banner
        response = httpx.post(match.group(1), data={"grant_type": "client_credentials"},
                              auth=("vendor", "vendor-secret"))
        bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
        students = httpx.get(
            f"http://127.0.0.1:{port}/ims/oneroster/rostering/v1p2/students", headers=bearer)
        assert students.status_code == 200
        assert students.headers["X-Total-Count"] == "60"
        inspector = re.search(r"inspector:\s+(\S+)", banner)
        assert inspector and inspector.group(1) == f"http://127.0.0.1:{port}/inspector"
        traffic = httpx.get(inspector.group(1), follow_redirects=True)
        assert traffic.status_code == 200 and "<h1>Traffic</h1>" in traffic.text
        # The base URL it prints is the one check provider takes, as printed.
        base = re.search(r"base URL:\s+(\S+)", banner)
        assert base and base.group(1) == f"http://127.0.0.1:{port}"
        assert main(["check", "provider", "--base-url", base.group(1), "--token-url",
                     match.group(1), "--client-id", "vendor", "--client-secret",
                     "vendor-secret", "--only", "OR-CORE-001", "--report-dir",
                     str(tmp_path / "r")]) == 0


@pytest.mark.slow
def test_tick_and_rollover_change_a_running_mock_and_refuse_a_wrong_token(tmp_path: Path) -> None:
    with serving(tmp_path, "--admin-token", "adm1n") as (port, banner):
        assert "admin token adm1n" in banner
        url = f"http://127.0.0.1:{port}"
        ticked = run("tick", "--url", url, "--admin-token", "adm1n", "--days", "7",
                     cwd=tmp_path)
        assert ticked.returncode == 0, ticked.stderr
        assert "2026-11-02T07:00:00Z -> 2026-11-09T07:00:00Z" in ticked.stdout
        assert "withdrawals" in ticked.stdout
        rolled = run("rollover", "--url", url, "--admin-token", "adm1n", cwd=tmp_path)
        assert rolled.returncode == 0, rolled.stderr
        assert "school year 2027 -> 2028" in rolled.stdout
        again = run("rollover", "--url", url, "--admin-token", "adm1n", "--json",
                    cwd=tmp_path)
        assert again.returncode == 0 and '"schoolYear": 2029' in again.stdout
        reset = run("reset", "--url", url, "--admin-token", "adm1n", cwd=tmp_path)
        assert reset.returncode == 0, reset.stderr
        assert "school year 2027, clock 2026-11-02T07:00:00Z" in reset.stdout
        wrong = run("tick", "--url", url, "--admin-token", "nope", cwd=tmp_path)
        assert wrong.returncode == 2
        assert len(wrong.stderr.strip().splitlines()) == 1
        assert "401" in wrong.stderr


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_changed_district_says_so_and_is_never_taken_for_the_generated_one(
        tmp_path: Path) -> None:
    """What a user did: serve, tick, restart serve, export CSV. The restart says the district
    moved on; the export is the generated district byte for byte; --fresh starts over."""
    before = run("generate", "--csv", str(tmp_path / "before"), cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    with serving(tmp_path, "--admin-token", "adm1n") as (port, banner):
        assert "changed since generation" not in banner
        ticked = run("tick", "--url", f"http://127.0.0.1:{port}", "--admin-token", "adm1n",
                     "--days", "3", cwd=tmp_path)
        assert ticked.returncode == 0, ticked.stderr
    with serving(tmp_path) as (port, banner):
        assert ("changed since generation: clock 2026-11-05T07:00:00Z (generated "
                "2026-11-02T07:00:00Z), 1 tick, 0 rollovers, 0 grade-book writes; served as it "
                "is (--fresh starts from the generated district)") in banner

    after = run("generate", "--csv", str(tmp_path / "after"), cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert "(reused)" not in after.stdout and "has changed since generation" in after.stdout
    assert _files(tmp_path / "after") == _files(tmp_path / "before")
    again = run("generate", "--csv", str(tmp_path / "again"), cwd=tmp_path)
    assert "generated.sqlite (reused)" in again.stdout
    assert _files(tmp_path / "again") == _files(tmp_path / "before")

    with serving(tmp_path, "--fresh") as (port, banner):
        assert "--fresh: back to the generated district (it had clock 2026-11-05" in banner
    with serving(tmp_path) as (port, banner):
        assert "changed since generation" not in banner
    reused = run("generate", cwd=tmp_path)
    assert re.search(r"district-\S+-g\d+\.sqlite \(reused\)", reused.stdout), reused.stdout


def test_tick_without_a_server_or_token_is_a_usage_error(cli: Callable[..., Outcome]) -> None:
    assert_usage_error(cli("tick"), "--admin-token")
    assert_usage_error(cli("tick", "--url", f"http://127.0.0.1:{free_port()}",
                           "--admin-token", "x"), "cannot reach")


def test_serve_refuses_a_port_in_use_with_one_line(cli: Callable[..., Outcome]) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = cli("serve", "--port", str(port))
    assert_usage_error(result, f"cannot listen on 127.0.0.1:{port}")


def _serve(cli: Callable[..., Outcome], *args: str) -> Outcome:
    """``serve`` on a free port (the default 8000 may be taken on a shared machine, which is
    another error); a ``--port`` in ``args`` wins."""
    return cli("serve", "--port", str(free_port()), *args)


def test_serve_reports_a_bad_connections_file_in_one_line(tmp_path: Path,
                                                          cli: Callable[..., Outcome]) -> None:
    (tmp_path / "conn.toml").write_text('[[connection]]\nname = "a"\n')
    assert_usage_error(_serve(cli, "--config", "conn.toml"), "conn.toml")


@pytest.mark.parametrize("args, message", [
    (("--record", "r.ndjson", "--workers", "2"), "need one server process"),
    (("--faults", "flaky", "--workers", "2"), "need one server process"),
    (("--faults", "nonsense"), "invalid choice: 'nonsense'"),
    (("--record", "no/such/dir/r.ndjson", "--size", "tiny", "--port", str(free_port())),
     "cannot write no/such/dir/r.ndjson"),
    (("--disable-rule", "no_such_rule"), "argument --disable-rule: unknown rule 'no_such_rule'"),
    (("--disable-rule", "schema"), "rule 'schema' checks the request's shape and cannot be"),
    (("--max-title-length", "0"), "max_title_length must be a whole number of at least 1, got 0"),
    (("--max-title-length", "long"), "argument --max-title-length: expected a whole number"),
    (("--update-status", "204"), "update_status must be 200 or 201, got 204"),
])
def test_serve_options_refuse_bad_input(cli: Callable[..., Outcome], args: tuple,
                                        message: str) -> None:
    assert_usage_error(_serve(cli, *args), message)


@pytest.mark.parametrize("table, message", [
    ("update_status = 204", "[gradebook] key 'update_status': update_status must be 200 or 201"),
    ("max_title_length = 0", "[gradebook] key 'max_title_length': max_title_length must be"),
    ('max_title_length = "50"', "[gradebook] key 'max_title_length': expected int, got str"),
    ('disabled_rules = ["nope"]', "[gradebook] key 'disabled_rules': unknown rule 'nope'"),
    ('disabled_rules = "title_required"', "[gradebook] key 'disabled_rules': expected list"),
    ("colour = 1", "[gradebook] key 'colour': unknown key"),
])
def test_serve_reports_a_bad_gradebook_table_in_one_line(tmp_path: Path,
                                                         cli: Callable[..., Outcome],
                                                         table: str, message: str) -> None:
    (tmp_path / "conn.toml").write_text(CONFIG + "\n[gradebook]\n" + table + "\n")
    assert_usage_error(_serve(cli, "--config", "conn.toml"), "conn.toml: " + message)


CONFIG = """[[connection]]
name = "vendor"
client_id = "vendor"
client_secret = "vendor-secret"
"""


def _shows_the_gradebook_settings(port: int) -> None:
    """On a mock serving title_unique_in_class off, titles of at most 20 characters and 201 for
    a replacing PUT, real writes show each of the three."""
    origin = f"http://127.0.0.1:{port}"
    token = httpx.post(f"{origin}/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("vendor", "vendor-secret")).json()["access_token"]
    with httpx.Client(base_url=f"{origin}/ims/oneroster/gradebook/v1p2",
                      headers={"Authorization": f"Bearer {token}"}) as api:
        (served,) = api.get("/lineItems", params={"limit": 1}).json()["lineItems"]
        assert len(served["title"]) <= 20
        replaced = api.put(f"/lineItems/{served['sourcedId']}", json={"lineItem": served})
        assert replaced.status_code == 201, replaced.text
        twin = {**served, "sourcedId": "same-title"}
        assert api.put("/lineItems/same-title", json={"lineItem": twin}).status_code == 201
        long = {**served, "sourcedId": "long-title", "title": "t" * 21}
        refused = api.put("/lineItems/long-title", json={"lineItem": long})
        assert refused.status_code == 422
        assert refused.json()["imsx_description"].startswith("title_max_length: ")


def test_serve_options_reach_the_running_mock(tmp_path: Path) -> None:
    with serving(tmp_path, "--disable-rule", "title_unique_in_class",
                 "--max-title-length", "20", "--update-status", "201") as (port, _):
        _shows_the_gradebook_settings(port)


def test_config_gradebook_table_reaches_the_running_mock(tmp_path: Path) -> None:
    (tmp_path / "mock.toml").write_text(
        CONFIG + '[gradebook]\ndisabled_rules = ["title_unique_in_class"]\n'
        "max_title_length = 20\nupdate_status = 201\n")
    with serving(tmp_path, "--config", "mock.toml", credentials=()) as (port, banner):
        assert "connection vendor: client id vendor" in banner
        _shows_the_gradebook_settings(port)
