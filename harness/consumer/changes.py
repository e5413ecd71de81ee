"""What a scenario changes between two runs of the consumer, each written to the recording as
an event the checks read: the district's clock and records (``tick``), its school year
(``rollover``), the connection's credentials (``credentials-expired``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from mock_provider.connections import Connection
from mock_provider.district.rollover import advance_year
from mock_provider.district.tick import jump_clock
from mock_provider.middleware.recorder import Recording
from mock_provider.serve import drift
from mock_provider.store import Store
from mock_provider.writer import open_writer


def _now_stamp() -> str:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def catch_up_clock(path: Path) -> None:
    """Move the district's clock to the wall clock (never back), so what changes next is
    stamped after anything a consumer may remember as its last sync time."""
    conn = open_writer(path)
    try:
        jump_clock(conn, _now_stamp())
    finally:
        conn.close()


def tick(path: Path, store: Store, recording: Recording, days: int) -> None:
    """The district lives ``days`` days: new students, withdrawals, schedule changes."""
    catch_up_clock(path)
    report = drift(store, days)
    recording.event("tick", days=days, old_clock=report.old_clock, new_clock=report.new_clock,
                    changed=report.records)


def rollover(path: Path, store: Store, recording: Recording) -> None:
    """The district's active school year moves to the next one, as Infinite Campus does when
    a district changes it: last year's sessions, courses, classes and enrollments stop being
    served (no ``tobedeleted``: they are simply gone), the new year's appear."""
    conn = open_writer(path)
    try:
        report = advance_year(conn)
    finally:
        conn.close()
    store.meta["clock"] = report.new_clock
    store.meta["school_year"] = str(report.new_school_year)
    recording.event("rollover", old_clock=report.old_clock, new_clock=report.new_clock,
                    old_school_year=report.old_school_year,
                    school_year=report.new_school_year, counts=report.counts)


def expire_credentials(connections: list[Connection], recording: Recording) -> None:
    """The connection's credentials expired yesterday: its token requests are refused with
    ``invalid_client``, its tokens and signatures with 401. The list is the one the running
    mock looks connections up in, so this takes effect at once."""
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    connections[0] = dataclasses.replace(connections[0], expires=yesterday)
    recording.event("credentials-expired", expires=yesterday.isoformat())
