"""``load --connections FILE``: the client credentials a district gave its vendors, one set per
vendor, for a night against a provider at a URL. The same ``[[connection]]`` tables as
``serve --config`` (extra keys are ignored, so a mock's config file works as it is), with an
optional ``kind`` saying which kind of vendor takes it::

    [[connection]]
    name = "lms"
    client_id = "lms-client"
    client_secret = "s3cret"
    kind = "full-sync"        # optional: else any kind takes it, in turn

The vendors of a kind take that kind's connections in turn, else the ones without a kind.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .profile import KINDS, Night, ProfileError


def read_connections(path: Path, night: Night) -> dict[str, list[tuple[str, str]]]:
    """kind (or "*": any) -> (client id, secret) pairs; ProfileError naming the problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProfileError(f"cannot read the connections file {path}: "
                           f"{exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path} is not valid TOML: {exc}") from None
    tables = data.get("connection")
    if not isinstance(tables, list) or not tables:
        raise ProfileError(f"{path} has no [[connection]] table")
    found: dict[str, list[tuple[str, str]]] = {}
    for number, table in enumerate(tables, start=1):
        where = f"{path}: [[connection]] {number}"
        pair = (table.get("client_id"), table.get("client_secret"))
        if not all(isinstance(v, str) and v for v in pair):
            raise ProfileError(f"{where} needs client_id and client_secret")
        kind = table.get("kind", "*")
        if kind != "*" and kind not in KINDS:
            raise ProfileError(f"{where}: kind must be one of {', '.join(KINDS)}, got {kind!r}")
        found.setdefault(kind, []).append((pair[0], pair[1]))
    if "*" not in found:
        lacking = [v.kind for v in night.vendors if v.kind not in found]
        if lacking:
            raise ProfileError(f"{path} has no connection for the {lacking[0]} vendors (give "
                               "one with that kind, or one without a kind)")
    return found


__all__ = ["read_connections"]
