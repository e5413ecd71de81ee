"""The plan of one night: where the provider is, each kind's credentials, and the profile. The
command line makes it, hands it to the load process in the environment (never on a command line
others can read), and a master sends it to its workers. Pure data, no Locust."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

from .profile import Night

PLAN_VARIABLE = "ONEROSTER_LOAD_PLAN"


@dataclass(frozen=True)
class Plan:
    base_url: str
    token_url: str
    version: str
    night: Night
    # kind -> the (client id, secret) pairs its vendors take in turn: one per vendor against
    # the mock, the one pair given for every vendor against a provider at a URL.
    credentials: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    timeout: float = 10.0
    target: str = ""  # what the reports call the provider
    # Against the mock: how many records of each core collection the district serves (read
    # by one quiet client before the night), what each full sync must read.
    district: dict[str, int] = field(default_factory=dict)

    def pair(self, kind: str, slot: int) -> tuple[str, str]:
        pool = self.credentials.get(kind) or self.credentials["*"]
        return pool[slot % len(pool)]

    def to_json(self) -> str:
        return json.dumps({
            "base_url": self.base_url, "token_url": self.token_url, "version": self.version,
            "night": self.night.to_dict(), "timeout": self.timeout, "target": self.target,
            "credentials": {k: [list(p) for p in v] for k, v in self.credentials.items()},
            "district": self.district})

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data: dict[str, Any] = json.loads(text)
        return cls(data["base_url"], data["token_url"], data["version"],
                   Night.from_dict(data["night"]),
                   {k: [(a, b) for a, b in v] for k, v in data["credentials"].items()},
                   data["timeout"], data["target"], data.get("district", {}))


def plan_from_environment() -> Plan | None:
    text = os.environ.get(PLAN_VARIABLE)
    return Plan.from_json(text) if text else None


__all__ = ["PLAN_VARIABLE", "Plan", "plan_from_environment"]
