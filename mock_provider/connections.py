"""Connections: the client credentials a district hands to vendors, and what each may see.

A connection is what Infinite Campus calls a OneRoster connection: one client id and secret,
one OneRoster version, the scopes it may be granted, a connection type ("supported" vendors get
rostering, grade book and assessments; "unsupported" ones rostering only), optional school
scoping and an optional expiry date for the credentials.

Connections are read from the ``serve --config`` file (see ``mock_provider.config``), one
``[[connection]]`` table each::

    [[connection]]
    name = "lms"                      # required, unique; shown in logs and errors
    client_id = "lms-client"          # required, unique
    client_secret = "s3cret"          # required, non-empty
    version = "1.2"                   # "1.2", "1.1" or "any" (default "any")
    connection_type = "supported"     # "supported" (default) or "unsupported" (rostering only)
    scopes = ["roster.readonly", "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.delete"]
                                      # short names expand to the URIs of the version ("any":
                                      # both versions' URIs); omitted: every scope the version
                                      # and connection type allow
    schools = ["0210", "school-7"]    # school sourcedIds or identifiers; omitted: all schools
    expires = 2026-06-30              # TOML date (or "YYYY-MM-DD"); credentials stop after it
    token_lifetime = 3600             # seconds an access token lives (default 3600)
    vendor_key = "vk:vs"              # "key:secret" for x-vendor-authorization (Campus flavor)
    oauth1 = false                    # also accept OAuth 1.0a signatures on 1.1 (default false)
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from .config_values import ConfigValueError, check_table

SCOPE_PREFIX_V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
SCOPE_PREFIX_V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"

# Short names per version, spec-notes §0.8 (1.2) and §6.2 (1.1).
SHORT_SCOPES_V12 = (
    "roster-core.readonly", "roster.readonly", "roster-demographics.readonly",
    "gradebook-core.readonly", "gradebook.readonly", "gradebook.createput",
    "gradebook.createpost", "gradebook.delete",
    "assessment.readonly", "assessment.createput", "assessment.delete",
    "resource-core.readonly", "resource.readonly",
)
SHORT_SCOPES_V11 = (
    "roster-core.readonly", "roster.readonly", "roster-demographics.readonly",
    "resource.readonly", "gradebook.readonly", "gradebook.createput", "gradebook.delete",
)
ALL_SCOPES_V12 = frozenset(SCOPE_PREFIX_V12 + short for short in SHORT_SCOPES_V12)
ALL_SCOPES_V11 = frozenset(SCOPE_PREFIX_V11 + short for short in SHORT_SCOPES_V11)

VERSIONS = ("1.2", "1.1", "any")
CONNECTION_TYPES = ("supported", "unsupported")
DEFAULT_TOKEN_LIFETIME = 3600


class ConnectionValueError(ConfigValueError):
    """One bad field of a Connection; ``key`` names the field."""


def is_write_or_grade_scope(scope: str) -> bool:
    """Grade book and assessment scopes: what an "unsupported" (rostering-only) connection lacks."""
    short = scope.rsplit("/", 1)[-1]
    return short.startswith(("gradebook", "assessment"))


def allowed_scopes(version: str, connection_type: str = "supported") -> frozenset[str]:
    """Every scope URI a connection of this version and type may be granted."""
    pool = {"1.2": ALL_SCOPES_V12, "1.1": ALL_SCOPES_V11}.get(
        version, ALL_SCOPES_V12 | ALL_SCOPES_V11)
    if connection_type == "unsupported":
        return frozenset(s for s in pool if not is_write_or_grade_scope(s))
    return pool


def expand_scope(name: str, version: str) -> frozenset[str]:
    """A short name ("roster.readonly") or full URI -> the URIs it stands for in ``version``.

    Raises ConnectionValueError("scopes", ...) for a name no version in reach defines."""
    pool = allowed_scopes(version)
    if "://" in name:
        if name not in pool:
            raise ConnectionValueError("scopes", f"unknown scope {name!r} for version {version}")
        return frozenset({name})
    expanded = frozenset(uri for uri in pool if uri.rsplit("/", 1)[-1] == name)
    if not expanded:
        raise ConnectionValueError("scopes", f"unknown scope {name!r} for version {version}")
    return expanded


def _mask(value: str | None) -> str:
    return "None" if value is None else "'***'"


@dataclass(frozen=True)
class Connection:
    """One set of client credentials and what they may reach. Validated on construction."""

    name: str
    client_id: str
    client_secret: str
    scopes: frozenset[str]
    version: str = "any"
    connection_type: str = "supported"
    schools: frozenset[str] | None = None
    expires: date | None = None
    token_lifetime: int = DEFAULT_TOKEN_LIFETIME
    vendor_key: str | None = None
    oauth1: bool = False

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ConnectionValueError("client_id", "client_id must not be empty")
        if not self.client_secret:
            raise ConnectionValueError("client_secret", "client_secret must not be empty")
        if self.version not in VERSIONS:
            raise ConnectionValueError("version", f"version must be one of {VERSIONS}")
        if not self.scopes:
            raise ConnectionValueError("scopes", "a connection needs at least one scope")
        if self.connection_type not in CONNECTION_TYPES:
            raise ConnectionValueError(
                "connection_type", f"connection_type must be one of {CONNECTION_TYPES}")
        foreign = sorted(self.scopes - allowed_scopes(self.version))
        if foreign:
            raise ConnectionValueError(
                "scopes", f"scope {foreign[0]!r} does not exist in version {self.version}")
        if self.connection_type == "unsupported":
            # Campus: roster-only credentials can never be used for the grade book.
            barred = sorted(filter(is_write_or_grade_scope, self.scopes))
            if barred:
                raise ConnectionValueError("scopes", "an unsupported (rostering-only) "
                                           f"connection cannot have {barred[0]!r}")
        if self.token_lifetime <= 0:
            raise ConnectionValueError("token_lifetime", "token_lifetime must be positive")
        if self.vendor_key is not None:
            key, _, secret = self.vendor_key.partition(":")
            if not key or not secret:
                raise ConnectionValueError("vendor_key", "vendor_key must look like 'key:secret'")
        if self.oauth1 and self.version == "1.2":
            raise ConnectionValueError("oauth1", "OAuth 1.0a exists only for version 1.1 or any")

    def __repr__(self) -> str:
        # Secrets never reach logs, reports or tracebacks.
        return (f"Connection(name={self.name!r}, client_id={self.client_id!r}, "
                f"client_secret={_mask(self.client_secret)}, version={self.version!r}, "
                f"connection_type={self.connection_type!r}, scopes=<{len(self.scopes)} scopes>, "
                f"schools={self.schools!r}, expires={self.expires!r}, "
                f"token_lifetime={self.token_lifetime!r}, vendor_key={_mask(self.vendor_key)}, "
                f"oauth1={self.oauth1!r})")

    def expired(self, today: date) -> bool:
        """True once ``today`` is past the expiry date (the date itself still works)."""
        return self.expires is not None and today > self.expires


def default_connection(client_id: str | None = None,
                       client_secret: str | None = None) -> Connection:
    """A connection with full access to every version, scope and school, secrets generated
    when not given (so a bare ``serve`` is usable and never ships a well-known secret)."""
    return Connection(
        name="default",
        client_id=client_id or f"client-{secrets.token_hex(4)}",
        client_secret=client_secret or secrets.token_urlsafe(24),
        scopes=allowed_scopes("any"),
        version="any",
        oauth1=True,
    )


# --- TOML ------------------------------------------------------------------------------

_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,), "client_id": (str,), "client_secret": (str,), "version": (str,),
    "connection_type": (str,), "scopes": (list,), "schools": (list,), "expires": (date, str),
    "token_lifetime": (int,), "vendor_key": (str,), "oauth1": (bool,),
}
_REQUIRED = ("name", "client_id", "client_secret")


def connection_from_table(table: dict[str, Any]) -> Connection:
    """One ``[[connection]]`` table -> Connection; raises ConfigValueError naming the key."""
    check_table(table, _KEYS, _REQUIRED)
    version = table.get("version", "any")
    connection_type = table.get("connection_type", "supported")
    if version not in VERSIONS:  # checked here too: scope expansion depends on it
        raise ConnectionValueError("version", f"version must be one of {VERSIONS}")
    if "scopes" in table:
        scopes = frozenset().union(*(expand_scope(s, version) for s in table["scopes"]))
    else:
        scopes = allowed_scopes(version, connection_type)
    expires = table.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise ConnectionValueError("expires", "expected a date YYYY-MM-DD") from None
    schools = table.get("schools")
    return Connection(
        name=table["name"], client_id=table["client_id"], client_secret=table["client_secret"],
        scopes=scopes, version=version, connection_type=connection_type,
        schools=None if schools is None else frozenset(schools), expires=expires,
        token_lifetime=table.get("token_lifetime", DEFAULT_TOKEN_LIFETIME),
        vendor_key=table.get("vendor_key"), oauth1=table.get("oauth1", False),
    )
