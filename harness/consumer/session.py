"""Run one scenario: the mock on a loopback port with the scenario's faults and a recorder, the
consumer's command once per phase (or a consumer elsewhere until stopped), the district's
changes between phases, and at the end the district's roster for the judge."""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx

from mock_provider.app import Settings, create_app
from mock_provider.connections import Connection, allowed_scopes
from mock_provider.flavors import profile_for
from mock_provider.inspector import PREFIX as INSPECTOR
from mock_provider.inspector import Inspector, InspectorOptions
from mock_provider.middleware.recorder import Recording
from mock_provider.oauth1 import MAX_AGE as OAUTH1_MAX_AGE
from mock_provider.oauth1 import MAX_AHEAD as OAUTH1_MAX_AHEAD
from mock_provider.store import Store, copy_district

from ..embedded import free_port, serve_in_thread
from .changes import catch_up_clock, expire_credentials, rollover, tick
from .command import run_command
from .live import verdicts_so_far
from .scenarios import MAX_CONCURRENCY, Scenario

ROSTER_TABLES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments",
                 "demographics")
MAX_LIMIT = 50_000
OAUTH1_METHODS = ("HMAC-SHA256", "HMAC-SHA1")


@dataclass(frozen=True)
class Endpoints:
    """What a consumer is told, as environment variables. ``base_url`` is for the scenario's
    OneRoster ``version``."""

    base_url: str
    base_url_v11: str
    token_url: str
    client_id: str
    client_secret: str
    vendor_key: str | None
    version: str = "1.2"

    def environment_preview(self) -> dict[str, str]:
        """The connection settings, for a consumer that runs elsewhere."""
        env = {"ONEROSTER_BASE_URL": self.base_url, "ONEROSTER_TOKEN_URL": self.token_url,
               "ONEROSTER_CLIENT_ID": self.client_id,
               "ONEROSTER_CLIENT_SECRET": self.client_secret}
        if self.version != "1.2":
            env["ONEROSTER_VERSION"] = self.version
        if self.vendor_key:
            env["ONEROSTER_VENDOR_KEY"] = self.vendor_key
        return env

    def environment(self, scenario: Scenario, phase: str, state_dir: Path,
                    result_file: Path | None) -> dict[str, str]:
        env = {
            "ONEROSTER_BASE_URL": self.base_url,
            "ONEROSTER_BASE_URL_V11": self.base_url_v11,
            "ONEROSTER_TOKEN_URL": self.token_url,
            "ONEROSTER_CLIENT_ID": self.client_id,
            "ONEROSTER_CLIENT_SECRET": self.client_secret,
            "ONEROSTER_OAUTH1_CONSUMER_KEY": self.client_id,
            "ONEROSTER_OAUTH1_CONSUMER_SECRET": self.client_secret,
            "ONEROSTER_VERSION": self.version,
            "ONEROSTER_SCENARIO": scenario.name,
            "ONEROSTER_SYNC_PHASE": phase,
            "ONEROSTER_GRADEBOOK": scenario.gradebook,
            "ONEROSTER_STATE_DIR": str(state_dir),
        }
        if self.vendor_key:
            env["ONEROSTER_VENDOR_KEY"] = self.vendor_key
        if result_file is not None:
            env["ONEROSTER_RESULT_FILE"] = str(result_file)
        return env


@dataclass(frozen=True)
class RunOptions:
    command: Sequence[str] | None  # None: serve until stopped, for a consumer elsewhere
    time_limit: float = 600.0  # seconds per run of the command
    result_file: Path | None = None
    log_file: Path | None = None
    announce: Callable[[Endpoints], None] | None = None  # told where the mock is
    stop: threading.Event | None = None  # set it to end a session without a command
    # Told the inspector's URL while the mock serves (the pages are read-only: the scenario
    # owns the clock and the faults); None: no inspector.
    show_inspector: Callable[[str], None] | None = None


def served_roster(store: Store, connection: Connection, settings: Settings,
                  version: str = "1.2") -> dict[str, dict[str, str]]:
    """sourcedId -> status of every record ``connection`` can read, per collection, in
    OneRoster ``version``, asked of a plain instance of the mock (so flavor rules, its ids and
    school scoping apply, and neither faults nor the recorder see it): what the consumer's
    own roster is compared with."""
    app = create_app(store, [connection], settings)
    base = settings.profile.prefixes[version] + (
        "/ims/oneroster/v1p1" if version == "1.1" else "/ims/oneroster/rostering/v1p2")
    roster: dict[str, dict[str, str]] = {}
    with serve_in_thread(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post(settings.profile.token_url_path,
                             data={"grant_type": "client_credentials"},
                             auth=(connection.client_id, connection.client_secret))
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        for table in ROSTER_TABLES:
            records: dict[str, str] = {}
            offset = 0
            while True:
                page = client.get(f"{base}/{table}", headers=headers,
                                  params={"limit": MAX_LIMIT, "offset": offset})
                if page.status_code != 200:
                    break
                found = page.json()[table]
                records.update({r["sourcedId"]: r.get("status", "active") for r in found})
                offset += len(found)
                if not found or offset >= int(page.headers["x-total-count"]):
                    roster[table] = records
                    break
    return roster


def _connection(scenario: Scenario) -> Connection:
    vendor = f"vk-{secrets.token_hex(4)}:{secrets.token_urlsafe(12)}" if scenario.vendor_key \
        else None
    # The command is always handed OAuth 1.0a keys (the client id and secret), so the
    # connection accepts signed 1.1 requests as well as bearer tokens.
    version = "1.1" if scenario.version == "1.1" else "any"
    return Connection(name="consumer", client_id=f"consumer-{secrets.token_hex(4)}",
                      client_secret=secrets.token_urlsafe(24),
                      scopes=allowed_scopes(version, scenario.connection_type), version=version,
                      connection_type=scenario.connection_type, vendor_key=vendor, oauth1=True)


def run_scenario(scenario: Scenario, district: Path, recording_path: Path,
                 options: RunOptions) -> Path:
    """Run ``scenario`` against a copy of ``district``; the recording is written to
    ``recording_path`` (NDJSON), which is returned."""
    with tempfile.TemporaryDirectory(prefix="oneroster-consumer-") as work:
        workdir = Path(work)
        # A scenario changes its district (ticks, grade writes): the cached file stays as
        # generated.
        path = copy_district(district, workdir / "district.sqlite")
        if scenario.tick_days:
            catch_up_clock(path)
        log = options.log_file or workdir / "consumer.log"
        state_dir = workdir / "consumer-state"
        state_dir.mkdir()
        connection = _connection(scenario)
        profile = profile_for(scenario.flavor)
        port = free_port()
        origin = f"http://127.0.0.1:{port}"
        endpoints = Endpoints(origin + profile.prefixes[scenario.version],
                              origin + profile.prefixes["1.1"],
                              origin + profile.token_url_path, connection.client_id,
                              connection.client_secret, connection.vendor_key, scenario.version)
        recording = Recording(recording_path, {
            "scenario": scenario.name, "summary": scenario.summary, "flavor": scenario.flavor,
            "version": scenario.version, "origin": origin, "base_url": endpoints.base_url,
            "token_url": endpoints.token_url, "max_limit": MAX_LIMIT,
            "max_concurrency": MAX_CONCURRENCY, "connection_type": scenario.connection_type,
            "gradebook": scenario.gradebook, "vendor_key": bool(connection.vendor_key),
            "oauth1": {"signature_methods": list(OAUTH1_METHODS), "max_age": OAUTH1_MAX_AGE,
                       "max_ahead": OAUTH1_MAX_AHEAD},
            "phases": list(scenario.phases), "quirks": scenario.quirks,
            "command": list(options.command) if options.command else None,
            "started": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")})
        store = Store(path)
        try:
            # Both methods: OneRoster 1.1 asks for HMAC-SHA256, and client libraries in use
            # sign with HMAC-SHA1.
            settings = Settings(profile=profile, max_limit=MAX_LIMIT, allow_oauth1_sha1=True)
            connections = [connection]  # the mock looks it up here on every request
            faulty = not scenario.faults.empty
            inspector = Inspector(InspectorOptions(
                actions=False, reports_dir=recording_path.parent.parent,
                fault_scenarios={scenario.name: (scenario.summary, scenario.faults)}
                if faulty else {}, fault_scenario=scenario.name if faulty else None,
                verdicts=partial(verdicts_so_far, recording_path))) \
                if options.show_inspector else None
            app = create_app(store, connections, settings, recording=recording,
                             faults=scenario.faults, on_drift=lambda: tick(
                                 path, store, recording, scenario.tick_days or 1),
                             inspector=inspector)
            with serve_in_thread(app, port=port):
                if options.show_inspector:
                    options.show_inspector(origin + INSPECTOR)
                if options.announce:
                    options.announce(endpoints)
                for index, phase in enumerate(scenario.phases):
                    recording.phase = phase
                    recording.event("phase")
                    if index > 0:
                        _between_runs(scenario, path, store, recording, connections)
                    env = endpoints.environment(scenario, phase, state_dir, options.result_file)
                    if options.command is None:
                        _wait(options)
                        recording.event("external", phase=phase)
                        continue
                    run = run_command(options.command, env, options.time_limit, log,
                                      _secrets(connection))
                    recording.event("command", exit_code=run.exit_code,
                                    timed_out=run.timed_out, seconds=run.seconds,
                                    time_limit=options.time_limit,
                                    output_bytes=run.output_bytes, last_line=run.last_line)
            # In the version the consumer read, since a flavor's ids may differ by version
            # (Infinite Campus's 1.1 user ids); else the scenario's.
            version = "1.1" if scenario.version == "1.1" or recording.versions == {"1.1"} \
                else "1.2"
            recording.event("roster", version=version,
                            records=served_roster(store, connection, settings, version))
            recording.event("end")
        finally:
            recording.close()
            store.close()
    return recording_path


def _between_runs(scenario: Scenario, path: Path, store: Store, recording: Recording,
                  connections: list[Connection]) -> None:
    """What the scenario changes before the consumer's next run."""
    if scenario.tick_days:
        tick(path, store, recording, scenario.tick_days)
    if scenario.rollover:
        rollover(path, store, recording)
    if scenario.credentials_expire:
        expire_credentials(connections, recording)


def _secrets(connection: Connection) -> tuple[str, ...]:
    """What must never reach a recording from the consumer's own output."""
    vendor_secret = (connection.vendor_key or "").partition(":")[2]
    return tuple(s for s in (connection.client_secret, connection.vendor_key, vendor_secret)
                 if s)


def _wait(options: RunOptions) -> None:
    stop = options.stop or threading.Event()
    deadline = time.monotonic() + options.time_limit
    try:
        while not stop.wait(0.2) and time.monotonic() < deadline:
            pass
    except KeyboardInterrupt:
        pass
