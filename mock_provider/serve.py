"""Running the mock: build the app from options, in one process or in several uvicorn workers.

Workers share the one SQLite file and a token-signing key passed through the environment, so
a token issued by one worker is accepted by every other.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .app import create_app
from .config import ConfigFile, load_config
from .connections import default_connection
from .district.tick import TickReport, advance
from .flavors import Profile, profile_for
from .inspector import Inspector
from .middleware.faults import FaultPlan
from .middleware.recorder import Recording
from .settings import Settings
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
    # Grade-book settings from the command line, over the config file's [gradebook] table:
    # rules are switched off in addition to the file's, a number given replaces the file's.
    disabled_rules: tuple[str, ...] = ()
    max_title_length: int | None = None
    update_status: int | None = None

    @property
    def profile(self) -> Profile:
        return profile_for(self.flavor, self.app_name)

    def to_environment(self) -> dict[str, str]:
        env = {"DISTRICT": str(self.district), "MAX_LIMIT": str(self.max_limit),
               "FLAVOR": self.flavor, "APP_NAME": self.app_name,
               "DISABLED_RULES": ",".join(self.disabled_rules)}
        for name, value in (("CONFIG", self.config), ("CLIENT_ID", self.client_id),
                            ("CLIENT_SECRET", self.client_secret),
                            ("TOKEN_KEY", self.token_key), ("ADMIN_TOKEN", self.admin_token),
                            ("MAX_TITLE_LENGTH", self.max_title_length),
                            ("UPDATE_STATUS", self.update_status)):
            if value is not None:
                env[name] = str(value)
        return {ENV_PREFIX + k: v for k, v in env.items()}

    @classmethod
    def from_environment(cls) -> ServeOptions:
        def get(name: str) -> str | None:
            return os.environ.get(ENV_PREFIX + name)

        def number(name: str) -> int | None:
            value = get(name)
            return int(value) if value else None

        config = get("CONFIG")
        return cls(district=Path(get("DISTRICT") or ""), config=Path(config) if config else None,
                   client_id=get("CLIENT_ID"), client_secret=get("CLIENT_SECRET"),
                   token_key=get("TOKEN_KEY"), max_limit=number("MAX_LIMIT") or 50_000,
                   flavor=get("FLAVOR") or "standard", app_name=get("APP_NAME") or "district",
                   admin_token=get("ADMIN_TOKEN"),
                   disabled_rules=tuple(filter(None, (get("DISABLED_RULES") or "").split(","))),
                   max_title_length=number("MAX_TITLE_LENGTH"),
                   update_status=number("UPDATE_STATUS"))


def config_for(options: ServeOptions) -> ConfigFile:
    """The config file's connections and settings, or the one default connection without it."""
    if options.config is not None:
        return load_config(options.config)
    return ConfigFile([default_connection(options.client_id, options.client_secret)])


def settings_for(options: ServeOptions, gradebook: Mapping[str, Any]) -> Settings:
    """The mock's settings: the options over the config file's [gradebook] values."""
    values = {**gradebook,
              "disabled_rules": frozenset(gradebook.get("disabled_rules", ()))
              | frozenset(options.disabled_rules)}
    if options.max_title_length is not None:
        values["max_title_length"] = options.max_title_length
    if options.update_status is not None:
        values["update_status"] = options.update_status
    return Settings(profile=options.profile, max_limit=options.max_limit, **values)


def with_credentials(options: ServeOptions) -> ServeOptions:
    """Options whose default connection has fixed credentials (generated when not given), so
    every worker and the start-up banner agree on them."""
    if options.config is not None:
        return options
    return replace(options, client_id=options.client_id or f"mock-{secrets.token_hex(4)}",
                   client_secret=options.client_secret or secrets.token_urlsafe(24))


def build_app(options: ServeOptions, config: ConfigFile | None = None,
              recording: Recording | None = None, faults: FaultPlan | None = None,
              inspector: Inspector | None = None) -> Starlette:
    config = config or config_for(options)
    key = bytes.fromhex(options.token_key) if options.token_key else None
    settings = settings_for(options, config.gradebook)
    store = Store(options.district)
    return create_app(store, config.connections, settings,
                      TokenIssuer(signing_key=key), admin_token=options.admin_token,
                      recording=recording, faults=faults, on_drift=lambda: drift(store),
                      inspector=inspector, close_store=True)


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
