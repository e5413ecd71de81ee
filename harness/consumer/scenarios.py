"""The scenarios a consumer is certified under: each a named, deterministic script of how the
mock provider behaves while the consumer syncs."""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_provider.middleware.faults import FaultPlan

from ..target import MAX_CONCURRENCY

__all__ = ["FAULT_SCENARIOS", "MAX_CONCURRENCY", "SCENARIOS", "Scenario", "scenarios_for"]

LATENCY = 0.02  # seconds every answer takes, as over a network: parallel requests overlap


def _faults(**plan: object) -> FaultPlan:
    return FaultPlan(latency=LATENCY, **plan)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    faults: FaultPlan = field(default_factory=_faults)
    phases: tuple[str, ...] = ("full",)  # the command runs once per phase
    tick_days: int = 0  # the district's clock moves this far between phases
    rollover: bool = False  # the district moves to its next school year between phases
    credentials_expire: bool = False  # the connection's credentials expire between phases
    quirks: str = ""  # data-quality quirks switched on ("all" or a comma list)
    flavor: str = "standard"
    version: str = "1.2"  # "1.1": a 1.1-only connection (1.1 scopes and paths; no 1.2)
    connection_type: str = "supported"  # "unsupported": rostering only
    gradebook: str = "none"  # "write": the consumer is expected to write grades
    vendor_key: bool = False  # the connection has a Campus vendor key
    # The faults the consumer must meet for the scenario to prove anything (OR-CON-RUN-002):
    # each a fault note, "note:status" for one answer of it, "a|b" for either.
    must_meet: tuple[str, ...] = ()


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("full-sync", "a plain full sync of a well-behaved district"),
    Scenario("delta-sync", "a full sync; the district changes (new students, withdrawals, "
             "schedule and name changes); then a delta sync that must see every change",
             phases=("full", "delta"), tick_days=7),
    Scenario("token-expiry", "every access token stops working after 7 requests, mid-walk "
             "(signing with OAuth 1.0a: every 7th signature is refused as a replayed nonce)",
             _faults(token_uses=7, nonce_refusal_every=7),
             must_meet=("token-expired|nonce-refused",)),
    Scenario("rate-limit", "every 9th request opens a one-second window answered with 429 and "
             "Retry-After", _faults(rate_limit_every=9, retry_after=1.0),
             must_meet=("rate-limit",)),
    Scenario("flaky", "every 7th request fails with 500 or 503 and every 5th is 0.3 s slow",
             _faults(server_error_every=7, slow_every=5, slow_seconds=0.3),
             must_meet=("server-error:503", "server-error:500")),
    Scenario("short-pages", "the provider silently caps pages at 7 records, whatever limit "
             "was asked; Link and X-Total-Count stay true", _faults(page_cap=7),
             must_meet=("page-cap",)),
    Scenario("minimal-paging", "the provider sends neither X-Total-Count nor Link (both only "
             "recommended): a walk ends only on a short or empty page",
             _faults(paging_headers=False)),
    Scenario("page-drift", "after the third page past the first, the district changes while "
             "the consumer is still walking", _faults(drift_after=3), tick_days=7,
             must_meet=("drift",)),
    Scenario("quirky-data", "every data-quality quirk a real district has, switched on",
             quirks="all"),
    Scenario("grade-passback", "the consumer writes line items and results; its first write "
             "fails once with 503 and must be retried with the same sourcedId",
             _faults(fail_first_write=True), gradebook="write", must_meet=("write-failed",)),
    Scenario("campus", "Infinite Campus: its URL layout and token URL, a rostering-only "
             "connection with a vendor key; grade-book writes are refused",
             flavor="infinite-campus", connection_type="unsupported", vendor_key=True),
    Scenario("credential-expiry", "a full sync; then the connection's client secret "
             "expires (the token endpoint answers invalid_client) and the next run must stop "
             "with an error, without data requests or a storm of token requests",
             phases=("full", "delta"), credentials_expire=True),
    Scenario("rollover", "a full sync; then the district moves to its next school year as "
             "Infinite Campus does (last year's sessions, classes and enrollments stop being "
             "served, without tobedeleted); the next run must bring the new year and keep "
             "nothing of the old one active", phases=("full", "delta"), rollover=True),
    Scenario("v1p1", "Infinite Campus OneRoster 1.1: a rostering-only 1.1 connection (bearer "
             "tokens with 1.1 scopes, or OAuth 1.0a signatures), 1.1 shapes and Campus's 1.1 "
             "ids (users such as s200123)", flavor="infinite-campus", version="1.1",
             connection_type="unsupported"),
)}


# The scenarios whose provider misbehaves (``serve --faults NAME`` serves their faults).
FAULT_SCENARIOS = tuple(name for name, scenario in SCENARIOS.items()
                        if scenario.faults != _faults())


def scenarios_for(name: str) -> list[Scenario]:
    """The scenario called ``name``, or every scenario for ``all``."""
    if name == "all":
        return list(SCENARIOS.values())
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}; choose one of "
                         f"{', '.join([*SCENARIOS, 'all'])}")
    return [SCENARIOS[name]]
