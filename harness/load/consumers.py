"""The consumers as Locust users: one user is one vendor with its own connection (its own
token, at most five requests in flight), syncing as its kind does, again after a pause until
the night ends (or once, when the night runs until every sync finished). Imports Locust (and so
gevent's patching): only the load process imports this module.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import gevent
from gevent.pool import Group
from locust import User, constant, task

from .connection import Refused, VendorConnection
from .ledger import Ledger, Sync
from .plan import Plan
from .profile import KINDS
from .syncs import Provider, delta_sync, full_sync, grade_passback, help_desk, since


@dataclass
class Context:
    """What every vendor of this process shares; set before any user starts."""

    plan: Plan | None = None
    ledger: Ledger | None = None
    worker_index: int = 0
    workers: int = 1


CONTEXT = Context()
_slots: dict[str, itertools.count] = {kind: itertools.count() for kind in KINDS}


def together(jobs: Iterable[Callable[[], None]]) -> None:
    """Run the jobs as greenlets and wait for all; the first failure is raised. Stopping the
    vendor (GreenletExit) stops its jobs too."""
    group = Group()
    greenlets = [group.spawn(job) for job in jobs]
    try:
        group.join(raise_error=False)
    finally:
        # Dead before the vendor closes its connection (when the night ends mid-sync).
        group.kill(block=True, timeout=5)
    for greenlet in greenlets:
        if greenlet.exception is not None:
            raise greenlet.exception


class Vendor(User):
    abstract = True
    kind = ""
    wait_time = constant(0)

    def on_start(self) -> None:
        plan, ledger = CONTEXT.plan, CONTEXT.ledger
        assert plan is not None and ledger is not None, "the plan arrives before the vendors"
        # Vendors numbered across workers: worker i takes slots i, i + n, i + 2n, ...
        slot = CONTEXT.worker_index + CONTEXT.workers * next(_slots[self.kind])
        self.vendor = f"{self.kind}-{slot + 1}"
        self.vendors = plan.night.of(self.kind)
        assert self.vendors is not None
        client_id, secret = plan.pair(self.kind, slot)
        self.provider = Provider(plan.base_url, plan.version)
        self.ledger = ledger
        self.rng = random.Random(self.vendor)
        self.number = 0
        self.watermark = since(self.vendors.get("since_hours")) \
            if self.kind == "delta-sync" else ""
        self.connection = VendorConnection(
            self.vendor, plan.token_url, client_id, secret, ledger=ledger,
            on_request=self._timed, concurrency=self.vendors.get("concurrency"),
            timeout=plan.timeout)

    def on_stop(self) -> None:
        self.connection.close()

    def _timed(self, method: str, name: str, ms: float, size: int,
               failure: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=method, name=name, response_time=ms, response_length=size,
            exception=failure, context={"vendor": self.vendor})

    @task
    def sync(self) -> None:
        plan = CONTEXT.plan
        assert plan is not None
        if plan.night.until == "finished" and self.number:
            gevent.sleep(1.0)  # one sync each: the night ends when every vendor's has
            return
        self.number += 1
        record = self.ledger.begin(self.vendor, self.kind, self.number)
        started = time.time()
        try:
            self.run_once(record)
            if record.error is None:
                record.finished = time.time()
        except Refused as exc:
            record.error = str(exc)
        except (KeyError, TypeError, ValueError) as exc:
            # An answer shaped unlike OneRoster (a record without its keys): this sync
            # failed, the vendor carries on.
            record.error = f"unexpected answer: {type(exc).__name__}: {exc}"
        finally:
            self.ledger.touch(record)
        if self.kind == "delta-sync":
            # The next delta asks from this one's start, a minute early for clock skew.
            self.watermark = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started - 60))
        gevent.sleep(plan.night.pause)

    def run_once(self, record: Sync) -> None:
        conn, provider, vendors = self.connection, self.provider, self.vendors
        if self.kind == "full-sync":
            full_sync(conn, provider, record, together, vendors.get("page_size"))
        elif self.kind == "delta-sync":
            delta_sync(conn, provider, record, together, vendors.get("page_size"),
                       self.watermark)
        elif self.kind == "help-desk":
            help_desk(conn, provider, record, together, vendors.get("lookups"), self.rng)
        else:
            grade_passback(conn, provider, record, together, vendors.get("classes"),
                           vendors.get("students"), self.rng)


def _user_class(kind: str) -> type[Vendor]:
    name = "".join(part.title() for part in kind.split("-"))
    return type(name, (Vendor,), {"kind": kind, "__module__": __name__})


USER_CLASSES: dict[str, type[Vendor]] = {kind: _user_class(kind) for kind in KINDS}

__all__ = ["CONTEXT", "USER_CLASSES", "Context", "Vendor", "together"]
