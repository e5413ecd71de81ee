"""One night on Locust, headless and in this process: alone (a local runner), as the master of
workers, or as a worker. Imports Locust (and gevent's patching): only the load process
(``python -m harness.load``) imports it.

The master waits for its workers, sends them the plan (a Locust custom message, before the
spawn message, so every vendor finds it), and gathers what their vendors saw: as it goes with
each statistics report, and a last time when they stop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gevent
from locust import runners as locust_runners
from locust.env import Environment
from locust.runners import Runner
from locust.stats import CSV_STATS_INTERVAL_SEC, StatsCSVFileWriter

from .consumers import CONTEXT, USER_CLASSES
from .ledger import Ledger, NightLog
from .plan import Plan
from .timeline import PERCENTILES, Timeline

STEP = 0.25  # seconds between looks at the night's progress
STOP_GRACE = 10.0  # seconds the master waits for its workers' last reports
CSV_PREFIX = "locust"
PLAN_MESSAGE, FINAL_MESSAGE = "night-plan", "night-final"


class NightError(Exception):
    """The night could not run (workers never came, the master went away): one line."""


@dataclass
class Outcome:
    log: NightLog
    timeline: Timeline
    started: float  # epoch seconds
    seconds: float
    stopped_because: str
    csv_files: list[Path]


def _classes(plan: Plan) -> list[type]:
    """The user classes with their counts fixed (the dispatcher reads ``fixed_count``)."""
    chosen = []
    for vendors in plan.night.vendors:
        user_class = USER_CLASSES[vendors.kind]
        user_class.fixed_count = vendors.count
        chosen.append(user_class)
    return chosen


def _all_synced(log: NightLog, vendors: int) -> bool:
    firsts = [syncs[0] for syncs in log.vendors().values()]
    return len(firsts) >= vendors and all(s.finished or s.error for s in firsts)


def _watch(plan: Plan, log: NightLog, drain: Callable[[], None], started: float,
           timeline: Timeline, environment: Environment, sample_every: float) -> str:
    """Until the night is over: its duration, or every first sync finished."""
    night = plan.night
    next_sample = started + sample_every
    for _ in range(int(night.duration / STEP) + 2):
        gevent.sleep(STEP)
        drain()
        now = time.time()
        if now >= next_sample:
            timeline.sample(environment.stats.entries, now, environment.runner.user_count)
            next_sample = now + sample_every
        if night.until == "finished" and _all_synced(log, night.users):
            return "every vendor's sync finished"
        if now - started >= night.duration:
            break
    return f"the {night.duration:g} s duration ran out"


def _csv_writer(environment: Environment, report_dir: Path
                ) -> tuple[StatsCSVFileWriter, gevent.Greenlet, list[Path]]:
    """Locust's own CSV writer, rewriting its files every second until killed."""
    base = str(report_dir / CSV_PREFIX)
    writer = StatsCSVFileWriter(environment, list(PERCENTILES), base, full_history=True)
    names = ["_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv"]
    return writer, gevent.spawn(writer), [Path(base + n) for n in names]


def run_local(plan: Plan, report_dir: Path) -> Outcome:
    ledger, log = Ledger(), NightLog()
    CONTEXT.plan, CONTEXT.ledger = plan, ledger
    environment = Environment(user_classes=_classes(plan))
    runner = environment.create_local_runner()
    return _drive(plan, report_dir, environment, runner, log,
                  drain=lambda: log.apply(ledger.drain()), sample_every=1.0)


def run_master(plan: Plan, report_dir: Path, bind_host: str, port: int, workers: int,
               wait_seconds: float) -> Outcome:
    log = NightLog()
    finals: set[str] = set()
    environment = Environment(user_classes=_classes(plan))
    runner = environment.create_master_runner(master_bind_host=bind_host, master_bind_port=port)

    def on_report(client_id: str, data: dict) -> None:
        if "night" in data:
            log.apply(data["night"])

    def on_final(environment: Environment, msg, **_) -> None:
        log.apply(msg.data)
        finals.add(msg.node_id)

    environment.events.worker_report.add_listener(on_report)
    runner.register_message(FINAL_MESSAGE, on_final)
    deadline = time.monotonic() + wait_seconds
    while runner.worker_count < workers:
        if time.monotonic() > deadline:
            runner.quit()
            raise NightError(f"{runner.worker_count} of {workers} workers connected to "
                             f"{bind_host}:{port} within {wait_seconds:g} s")
        gevent.sleep(0.2)
    runner.send_message(PLAN_MESSAGE, {"plan": plan.to_json(), "workers": runner.worker_count})
    gevent.sleep(0.5)  # the plan is in every worker before the spawn message follows it

    def after_stop() -> None:
        for _ in range(int(STOP_GRACE / STEP)):
            if len(finals) >= workers:
                return
            gevent.sleep(STEP)

    return _drive(plan, report_dir, environment, runner, log, drain=lambda: None,
                  sample_every=1.0, after_stop=after_stop)


def _drive(plan: Plan, report_dir: Path, environment: Environment, runner: Runner,
           log: NightLog, drain: Callable[[], None], sample_every: float,
           after_stop: Callable[[], None] | None = None) -> Outcome:
    report_dir.mkdir(parents=True, exist_ok=True)
    writer, csv_greenlet, csv_files = _csv_writer(environment, report_dir)
    night = plan.night
    started = time.time()
    timeline = Timeline(started)
    spawn_rate = night.users / night.ramp_up if night.ramp_up else float(night.users)
    runner.start(night.users, spawn_rate=spawn_rate)
    try:
        reason = _watch(plan, log, drain, started, timeline, environment, sample_every)
    except KeyboardInterrupt:
        reason = "interrupted (Ctrl+C)"  # judged and reported all the same
    finally:
        runner.stop()
        if after_stop is not None:
            after_stop()
        drain()
        timeline.sample(environment.stats.entries, time.time(), 0)
        seconds = time.time() - started
        # One more pass of the writer (it rewrites the totals each second), so the files hold
        # the whole night; closing them flushes it.
        gevent.sleep(CSV_STATS_INTERVAL_SEC + 0.2)
        csv_greenlet.kill(block=True)
        writer.close_files()
        runner.quit()
    return Outcome(log, timeline, started, seconds, reason, csv_files)


def run_worker(master_host: str, port: int, wait_seconds: float = 60.0) -> None:
    """Serve a master until it quits (its plan arrives as a message); NightError when no
    master answers within ``wait_seconds``."""
    locust_runners.WORKER_REPORT_INTERVAL = 1.0  # the master's charts get a point a second
    # Locust asks every CONNECT_TIMEOUT seconds, this many times, then gives up.
    locust_runners.CONNECT_RETRY_COUNT = max(1, math.ceil(
        wait_seconds / locust_runners.CONNECT_TIMEOUT)) - 1
    ledger = Ledger()
    CONTEXT.ledger = ledger
    environment = Environment(user_classes=list(USER_CLASSES.values()))
    try:
        runner = environment.create_worker_runner(master_host, port)
    except ConnectionError:
        raise NightError(f"no master answered at {master_host}:{port} within "
                         f"{wait_seconds:g} s") from None

    def on_plan(environment: Environment, msg, **_) -> None:
        CONTEXT.plan = Plan.from_json(msg.data["plan"])
        CONTEXT.workers = max(1, int(msg.data["workers"]))
        CONTEXT.worker_index = max(0, runner.worker_index)

    def on_report(client_id: str, data: dict) -> None:
        data["night"] = ledger.drain()

    def on_stop(environment: Environment, **_) -> None:
        runner.send_message(FINAL_MESSAGE, ledger.drain())

    runner.register_message(PLAN_MESSAGE, on_plan)
    environment.events.report_to_master.add_listener(on_report)
    environment.events.test_stop.add_listener(on_stop)
    runner.greenlet.join()


__all__ = ["NightError", "Outcome", "run_local", "run_master", "run_worker"]
