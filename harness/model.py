"""What a conformance run produces: one result per check, with the evidence behind it."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

STATUSES = ("passed", "failed", "warning", "skipped")


@dataclass(frozen=True)
class Evidence:
    """One exchange a verdict rests on, safe to print: secrets are already masked."""

    method: str
    url: str
    status: int | None
    excerpt: str
    curl: str


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    rule: str  # the spec section or partner rule the check enforces
    severity: str  # error | warning
    status: str  # passed | failed | warning | skipped
    message: str
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    items: tuple[str, ...] = ()  # every offending item the check found (the message names a few)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Access:
    """How the checker got in to a provider: ``auth`` is "oauth2", "bearer" or "oauth1"; for
    client credentials, how the client authenticated ("basic" or "form") and the scopes asked
    for and granted (space-separated; None when none were asked or named); for OAuth 1.0a, the
    signature method the run used. ``notes`` say what had to be retried on the way in."""

    auth: str
    client_authentication: str | None = None
    scope_asked: str | None = None
    scope_granted: str | None = None
    signature_method: str | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line for a console or a report header."""
        if self.auth == "oauth2":
            how = "OAuth 2.0 client credentials"
            if self.client_authentication:
                how += " sent " + ("with HTTP Basic" if self.client_authentication == "basic"
                                   else "as form fields")
            asked = len((self.scope_asked or "").split())
            granted = self.scope_granted
            how += f"; {asked} scope{'s' if asked != 1 else ''} asked for" if asked else \
                "; no scope asked for"
            if granted is not None:
                how += f", {len(granted.split())} granted"
            return how
        if self.auth == "oauth1":
            return f"OAuth 1.0a signed with {self.signature_method}"
        return "a static bearer token"


@dataclass(frozen=True)
class RunSummary:
    target: str
    version: str
    results: tuple[CheckResult, ...]
    seconds: float
    started: str = ""  # when the run began, ISO 8601 UTC
    profile: str = ""  # the profiles the checks were chosen and graded by
    seed: int | None = None  # what seeded the generated checks
    access: Access | None = None  # how the checker got in (None: not recorded)

    @property
    def failed(self) -> list[CheckResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def conformant(self) -> bool:
        """No failed check of error severity (warnings never fail a run)."""
        return not any(r.severity == "error" for r in self.failed)

    def counts(self) -> dict[str, int]:
        return {status: sum(r.status == status for r in self.results) for status in STATUSES}


def utc_now() -> str:
    """The current time, ISO 8601 UTC to the second (for a report's header)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
