"""Judging a consumer: the consumer checks over one recording, giving a RunSummary like the
provider checker's, so the same reports serve both."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from mock_provider.middleware.recorder import version_used
from specs.catalogue import collection_envelopes

from ..engine import REGISTRY, Check, CheckFunction, Finding, run_all
from ..model import CheckResult, RunSummary, utc_now
from .recording import Recorded, Recording

CONSUMER_CHECKS: dict[str, Check] = REGISTRY.of("consumer")
# A check's rule as OneRoster 1.1 words it, where that differs from the 1.2 text it was
# registered with; a consumer that spoke 1.1 is shown these.
RULES_V11: dict[str, str] = {}
PAGING_PARAMS = frozenset({"limit", "offset"})
# The last path segment of every OneRoster collection endpoint (1.1 serves the same names).
COLLECTIONS = frozenset(collection_envelopes())


@dataclass
class Judgement:
    """What the consumer checks read: the recording, and the consumer's own roster when it
    handed one back (collection -> sourcedId -> status)."""

    recording: Recording
    roster: dict[str, dict[str, str]] | None = None
    roster_error: str | None = None  # why the roster asked for could not be read

    @property
    def header(self) -> dict:
        return self.recording.header

    @cached_property
    def data(self) -> list[Recorded]:
        """The OneRoster requests (not token requests), in the order they arrived."""
        return sorted((e for e in self.recording.exchanges if e.is_oneroster),
                      key=lambda e: (e.start, e.seq))

    @cached_property
    def token_requests(self) -> list[Recorded]:
        return sorted((e for e in self.recording.exchanges if e.is_token_request),
                      key=lambda e: (e.start, e.seq))

    @cached_property
    def refused_phases(self) -> frozenset[str]:
        """The phases (runs) that began after the connection's credentials expired: what
        the consumer did there is judged by the refused-credentials checks alone."""
        return frozenset(str(e.get("phase")) for e in
                         self.recording.events_named("credentials-expired"))

    def live(self, exchanges: list[Recorded]) -> list[Recorded]:
        """``exchanges`` outside the phases whose credentials were refused."""
        return [e for e in exchanges if e.phase not in self.refused_phases]

    @cached_property
    def signed(self) -> list[Recorded]:
        """The OneRoster requests signed with OAuth 1.0a."""
        return [e for e in self.data if e.auth == "oauth1"]

    @property
    def signs_with_oauth1(self) -> bool:
        """The consumer authenticates by signing its requests, never with a bearer token:
        the checks about tokens do not apply to it."""
        return bool(self.signed) and not self.token_requests and not any(
            e.auth == "bearer" for e in self.data)

    @cached_property
    def all(self) -> list[Recorded]:
        return sorted(self.recording.exchanges, key=lambda e: (e.start, e.seq))

    @cached_property
    def walks(self) -> dict[tuple, list[Recorded]]:
        """Collection reads grouped by what was walked: phase, path and every query parameter
        except limit and offset. A read is of a collection when its answer carries
        X-Total-Count or its path ends in a collection's name (a walk that never got a page
        counts too)."""
        groups: dict[tuple, list[Recorded]] = {}
        for exchange in self.live(self.data):  # a refused run walks nothing
            if exchange.method != "GET":
                continue
            query = tuple(sorted((k, v) for k, v in exchange.params.items()
                                 if k not in PAGING_PARAMS))
            groups.setdefault((exchange.phase, exchange.path, query), []).append(exchange)
        return {key: pages for key, pages in groups.items()
                if key[1].rsplit("/", 1)[-1] in COLLECTIONS
                or any(p.ok and p.truth("x-total-count") is not None for p in pages)}

    def evidence(self, *exchanges: Recorded) -> list:
        return self.recording.evidence(*exchanges)

    def finding(self, message: str, *exchanges: Recorded) -> Finding:
        return Finding(message, evidence=self.evidence(*exchanges),
                       items=[f"#{e.seq} {e.method} {e.path}" for e in exchanges])


def consumer_check(id: str, title: str, rule: str, severity: str = "error", *,
                   phase: str = "checks", rule_v11: str | None = None
                   ) -> Callable[[CheckFunction], CheckFunction]:
    """Registers a consumer check; its docstring is what ``explain ID`` prints. ``rule`` cites
    OneRoster 1.2 (or what both versions share); ``rule_v11`` the 1.1 text where it differs."""
    if rule_v11 is not None:
        RULES_V11[id] = rule_v11
    return REGISTRY.register(id, title, rule, severity, kind="consumer", phase=phase)


def versions_used(recording: Recording) -> list[str]:
    """The OneRoster versions the consumer's requests spoke, in order ("1.1", "1.2")."""
    return sorted({v for e in recording.exchanges if (v := version_used(e.path))})


def _cited_for(versions: list[str], result: CheckResult) -> CheckResult:
    """The result with its rule in the words of the versions the consumer used."""
    v11 = RULES_V11.get(result.id)
    if v11 is None or "1.1" not in versions:
        return result
    return dataclasses.replace(result, rule=v11 if versions == ["1.1"] else
                               f"{result.rule}; {v11}")


def judge(recording: Recording, roster: dict[str, dict[str, str]] | None = None,
          target: str | None = None, roster_error: str | None = None) -> RunSummary:
    """Every consumer check over ``recording``; a check that breaks fails, never the run. The
    summary names the OneRoster version(s) the consumer used (what the scenario offered when
    it made no request)."""
    results = run_all(CONSUMER_CHECKS.values(), Judgement(recording, roster, roster_error))
    versions = versions_used(recording)
    results = [_cited_for(versions, r) for r in results]
    name = target or f"consumer, scenario {recording.header.get('scenario', '?')}"
    version = " and ".join(versions) or str(recording.header.get("version", "1.2"))
    # The session's length, not the judging's: what the report's reader wants to know.
    return RunSummary(name, version, tuple(results), round(recording.seconds, 3),
                      str(recording.header.get("started", "")) or utc_now(),
                      f"consumer scenario {recording.header.get('scenario', '?')}",
                      seed if isinstance(seed := recording.header.get("seed"), int) else None)


from . import checks  # noqa: E402,F401  (registers the consumer checks)
