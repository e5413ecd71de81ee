"""The file behind ``serve --config``: the district's connections and the grade-book settings.

TOML, with one ``[[connection]]`` table per connection (keys in ``mock_provider.connections``)
and an optional ``[gradebook]`` table::

    [[connection]]
    name = "lms"
    client_id = "lms-client"
    client_secret = "s3cret"

    [gradebook]
    disabled_rules = ["title_unique_in_class"]  # rules switched off by name (default none);
                                                # the request-shape rules cannot be
    max_title_length = 100                      # longest line-item title (default 50)
    update_status = 201                         # status of a PUT that replaces: 200 (default)
                                                # or 201
    max_put_body = 65536                        # longest PUT body in bytes (default 256 KiB)
    max_post_body = 1048576                     # longest bulk POST body (default 8 MiB)

Every problem is a ``ConfigError`` of one line naming the file, the table and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config_values import ConfigValueError, check_table
from .connections import Connection, connection_from_table
from .settings import Settings

GRADEBOOK_KEYS: dict[str, tuple[type, ...]] = {
    "disabled_rules": (list,), "max_title_length": (int,), "update_status": (int,),
    "max_put_body": (int,), "max_post_body": (int,),
}


class ConfigError(Exception):
    """A config file that cannot be used: one line naming the file, table and key."""


@dataclass(frozen=True)
class ConfigFile:
    connections: list[Connection]
    # Settings keyword arguments from [gradebook], already validated; absent keys keep the
    # Settings defaults.
    gradebook: Mapping[str, Any] = field(default_factory=dict)


def _connections(path: Path, tables: object) -> list[Connection]:
    if not isinstance(tables, list) or not tables:
        raise ConfigError(f"{path}: no [[connection]] tables")
    connections: list[Connection] = []
    seen_names: set[str] = set()
    seen_ids: set[str] = set()
    for index, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: connection #{index} is not a table")
        label = table.get("name") if isinstance(table.get("name"), str) else f"#{index}"
        where = f"{path}: connection {label!r}"
        try:
            connection = connection_from_table(table)
        except ConfigValueError as exc:
            raise ConfigError(f"{where}, key {exc.key!r}: {exc}") from None
        if connection.name in seen_names:
            raise ConfigError(f"{where}, key 'name': duplicate name")
        if connection.client_id in seen_ids:
            raise ConfigError(f"{where}, key 'client_id': duplicate client_id "
                              f"{connection.client_id!r}")
        seen_names.add(connection.name)
        seen_ids.add(connection.client_id)
        connections.append(connection)
    return connections


def _gradebook(path: Path, table: object) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [gradebook] is not a table")
    values = dict(table)
    try:
        check_table(values, GRADEBOOK_KEYS)
        if "disabled_rules" in values:
            values["disabled_rules"] = frozenset(values["disabled_rules"])
        Settings(**values)
    except ConfigValueError as exc:
        raise ConfigError(f"{path}: [gradebook] key {exc.key!r}: {exc}") from None
    return values


def load_config(path: str | Path) -> ConfigFile:
    """The connections and grade-book settings of a TOML file; ConfigError otherwise."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read connections file ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"connection", "gradebook"})
    if extra:
        raise ConfigError(f"{path}: unknown top-level key {extra[0]!r} "
                          "(expected [[connection]] or [gradebook])")
    connections = _connections(path, data.get("connection"))
    gradebook = _gradebook(path, data["gradebook"]) if "gradebook" in data else {}
    return ConfigFile(connections, gradebook)


__all__ = ["ConfigError", "ConfigFile", "load_config"]
