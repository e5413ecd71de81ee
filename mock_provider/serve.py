"""Running the mock: build the app from options, in one process or in several uvicorn workers.

Workers share the one SQLite file and a token-signing key passed through the environment, so
a token issued by one worker is accepted by every other.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from starlette.applications import Starlette

from .app import Settings, create_app
from .connections import Connection, default_connection, load_connections
from .district.changes import TickReport, advance
from .middleware.faults import FaultPlan
from .middleware.recorder import Recording
from .profiles import Profile, profile_for
from .store import Store
from .tokens import TokenIssuer
from .writer import open_writer

ENV_PREFIX = "ONEROSTER_MOCK_"
DRIFT_DAYS = 7


@dataclass(frozen=True)
class ServeOptions:
    district: Path
    config: Path | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_key: str | None = None  # hex; signed tokens when set (needed with several workers)
    max_limit: int = 50_000
    flavor: str = "standard"
    app_name: str = "district"
    admin_token: str | None = None  # None: the /admin routes are off

    @property
    def profile(self) -> Profile:
        return profile_for(self.flavor, self.app_name)

    def to_environment(self) -> dict[str, str]:
        env = {"DISTRICT": str(self.district), "MAX_LIMIT": str(self.max_limit),
               "FLAVOR": self.flavor, "APP_NAME": self.app_name}
        for name, value in (("CONFIG", self.config), ("CLIENT_ID", self.client_id),
                            ("CLIENT_SECRET", self.client_secret),
                            ("TOKEN_KEY", self.token_key), ("ADMIN_TOKEN", self.admin_token)):
            if value is not None:
                env[name] = str(value)
        return {ENV_PREFIX + k: v for k, v in env.items()}

    @classmethod
    def from_environment(cls) -> ServeOptions:
        def get(name: str) -> str | None:
            return os.environ.get(ENV_PREFIX + name)

        config = get("CONFIG")
        return cls(district=Path(get("DISTRICT") or ""), config=Path(config) if config else None,
                   client_id=get("CLIENT_ID"), client_secret=get("CLIENT_SECRET"),
                   token_key=get("TOKEN_KEY"), max_limit=int(get("MAX_LIMIT") or 50_000),
                   flavor=get("FLAVOR") or "standard", app_name=get("APP_NAME") or "district",
                   admin_token=get("ADMIN_TOKEN"))


def connections_for(options: ServeOptions) -> list[Connection]:
    if options.config is not None:
        return load_connections(options.config)
    return [default_connection(options.client_id, options.client_secret)]


def with_credentials(options: ServeOptions) -> ServeOptions:
    """Options whose default connection has fixed credentials (generated when not given), so
    every worker and the start-up banner agree on them."""
    if options.config is not None:
        return options
    return replace(options, client_id=options.client_id or f"mock-{secrets.token_hex(4)}",
                   client_secret=options.client_secret or secrets.token_urlsafe(24))


def build_app(options: ServeOptions, connections: list[Connection] | None = None,
              recording: Recording | None = None, faults: FaultPlan | None = None) -> Starlette:
    key = bytes.fromhex(options.token_key) if options.token_key else None
    settings = Settings(profile=options.profile, max_limit=options.max_limit)
    store = Store(options.district)
    return create_app(store, connections or connections_for(options), settings,
                      TokenIssuer(signing_key=key), admin_token=options.admin_token,
                      recording=recording, faults=faults, on_drift=lambda: drift(store))


def drift(store: Store, days: int = DRIFT_DAYS) -> TickReport:
    """What a ``drift`` fault (and a consumer scenario between its phases) does to a served
    district: its clock moves and records change while clients are reading."""
    conn = open_writer(store.path)
    try:
        report = advance(conn, days)
    finally:
        conn.close()
    store.meta["clock"] = report.new_clock
    return report


def app_from_environment() -> Starlette:
    """The app factory uvicorn's workers call (``--factory``)."""
    return build_app(ServeOptions.from_environment())
