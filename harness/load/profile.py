"""The sync-night profile: which vendors sync, how, and for how long. Read from TOML, or made
from ``--users N --duration S`` for a quick run. Pure data, no Locust: the command line checks a
profile (one line per problem) before any load process starts.

A profile file::

    [night]
    duration = 600          # seconds the night lasts at most
    until = "finished"      # "duration" (the default): run the whole duration; "finished":
                            # stop as soon as every vendor's first sync finished
    window = 900            # seconds from the start by which every vendor's first sync must
                            # finish (default: the duration)
    ramp_up = 30            # seconds over which the vendors start (default 0: all at once)
    pause = 60              # seconds a vendor waits before syncing again (default 0)

    [vendors.full-sync]     # walks the core collections to the end
    count = 10
    page_size = 1000
    concurrency = 5         # requests in flight per connection, 1 to 5 (default 5)

    [vendors.delta-sync]    # dateLastModified> since its last run (the first: since_hours ago)
    count = 5
    page_size = 500
    since_hours = 24

    [vendors.help-desk]     # lookups by e-mail and username, class rosters
    count = 3
    lookups = 20

    [vendors.grade-passback]  # line items and results PUT for its classes, then read back
    count = 2
    classes = 3
    students = 30

    [mock]                  # only with --mock
    size = "small"          # or students = N
    workers = 2             # serve --workers N (default 1: served inside the command)
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("full-sync", "delta-sync", "help-desk", "grade-passback")
MAX_IN_FLIGHT = 5  # Infinite Campus asks each connection for at most five requests at once
UNTIL = ("duration", "finished")
MAX_PAGE_SIZE = 50_000

# What each kind reads, in the order a consumer syncs them (parents before children).
FULL_SYNC_COLLECTIONS = ("orgs", "academicSessions", "courses", "classes", "users",
                         "enrollments")
DELTA_COLLECTIONS = ("classes", "users", "enrollments")

# Per-kind settings, their defaults, and the smallest value each may take.
_KIND_KEYS: dict[str, dict[str, tuple[int, int]]] = {
    "full-sync": {"page_size": (100, 1), "concurrency": (MAX_IN_FLIGHT, 1)},
    "delta-sync": {"page_size": (100, 1), "concurrency": (MAX_IN_FLIGHT, 1),
                   "since_hours": (24, 1)},
    "help-desk": {"lookups": (10, 1), "concurrency": (MAX_IN_FLIGHT, 1)},
    "grade-passback": {"classes": (2, 1), "students": (20, 1), "concurrency": (MAX_IN_FLIGHT, 1)},
}
_NIGHT_KEYS = ("duration", "until", "window", "ramp_up", "pause")
_MOCK_KEYS = ("size", "students", "workers", "seed")


class ProfileError(ValueError):
    """A profile that cannot run: one line naming the file's key."""


@dataclass(frozen=True)
class Vendors:
    """The vendors of one kind: how many, and how each syncs."""

    kind: str
    count: int
    settings: dict[str, int] = field(default_factory=dict)

    def get(self, key: str) -> int:
        return self.settings.get(key, _KIND_KEYS[self.kind][key][0])


@dataclass(frozen=True)
class Night:
    vendors: tuple[Vendors, ...]
    duration: float
    until: str = "duration"
    window: float | None = None
    ramp_up: float = 0.0
    pause: float = 0.0
    mock: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # the file it came from, or "--users N"

    @property
    def users(self) -> int:
        return sum(v.count for v in self.vendors)

    @property
    def sync_window(self) -> float:
        return self.window if self.window is not None else self.duration

    def of(self, kind: str) -> Vendors | None:
        return next((v for v in self.vendors if v.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Night:
        vendors = tuple(Vendors(v["kind"], v["count"], dict(v["settings"]))
                        for v in data["vendors"])
        return cls(**{**data, "vendors": vendors})


def quick_night(users: int, duration: float, page_size: int | None = None) -> Night:
    """``--users N``: the kinds dealt round-robin (full sync first), so every kind shows up
    from four users on."""
    counts = dict.fromkeys(KINDS, 0)
    for index in range(users):
        counts[KINDS[index % len(KINDS)]] += 1
    sized = {"page_size": page_size} if page_size else {}
    vendors = tuple(Vendors(kind, n, dict(sized) if kind in ("full-sync", "delta-sync") else {})
                    for kind, n in counts.items() if n)
    return Night(vendors, float(duration), source=f"--users {users}")


def _number(table: dict[str, Any], key: str, where: str, smallest: float) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProfileError(f"{where}.{key} must be a number, got {value!r}")
    if value < smallest:
        raise ProfileError(f"{where}.{key} must be at least {smallest:g}, got {value!r}")
    return float(value)


def _whole(table: dict[str, Any], key: str, where: str, smallest: int) -> int:
    value = _number(table, key, where, smallest)
    if value != int(value):
        raise ProfileError(f"{where}.{key} must be a whole number, got {value:g}")
    return int(value)


def _unknown(table: dict[str, Any], known: tuple[str, ...], where: str) -> None:
    extra = sorted(set(table) - set(known))
    if extra:
        raise ProfileError(f"{where} has no key {extra[0]!r}; known: {', '.join(known)}")


def _vendors(kind: str, table: Any) -> Vendors:
    where = f"[vendors.{kind}]"
    if not isinstance(table, dict):
        raise ProfileError(f"{where} must be a table")
    keys = _KIND_KEYS[kind]
    _unknown(table, ("count", *keys), where)
    count = _whole(table, "count", where, 0) if "count" in table else 1
    settings = {key: _whole(table, key, where, smallest)
                for key, (_, smallest) in keys.items() if key in table}
    if settings.get("concurrency", 1) > MAX_IN_FLIGHT:
        raise ProfileError(f"{where}.concurrency is at most {MAX_IN_FLIGHT} (Infinite Campus "
                           "asks each connection for no more)")
    if settings.get("page_size", 1) > MAX_PAGE_SIZE:
        raise ProfileError(f"{where}.page_size is at most {MAX_PAGE_SIZE}")
    return Vendors(kind, count, settings)


def night_from_toml(data: dict[str, Any], source: str = "") -> Night:
    """A parsed profile file -> Night (ProfileError naming the first bad key)."""
    _unknown(data, ("night", "vendors", "mock"), "the profile")
    night = data.get("night", {})
    vendors_table = data.get("vendors", {})
    mock = data.get("mock", {})
    for name, table in (("[night]", night), ("[vendors]", vendors_table), ("[mock]", mock)):
        if not isinstance(table, dict):
            raise ProfileError(f"{name} must be a table")
    _unknown(night, _NIGHT_KEYS, "[night]")
    _unknown(mock, _MOCK_KEYS, "[mock]")
    unknown = sorted(set(vendors_table) - set(KINDS))
    if unknown:
        raise ProfileError(f"[vendors.{unknown[0]}] is not a kind; kinds: {', '.join(KINDS)}")
    vendors = tuple(_vendors(kind, vendors_table[kind]) for kind in KINDS
                    if kind in vendors_table)
    vendors = tuple(v for v in vendors if v.count)
    if not vendors:
        raise ProfileError("the profile has no vendors: add a [vendors.full-sync] table with "
                           "count = 1 or more")
    if "duration" not in night:
        raise ProfileError("[night].duration is missing (the most seconds the night may last)")
    until = night.get("until", "duration")
    if until not in UNTIL:
        raise ProfileError(f"[night].until must be one of {', '.join(UNTIL)}, got {until!r}")
    values = {key: _number(night, key, "[night]", 1 if key in ("duration", "window") else 0)
              for key in ("duration", "window", "ramp_up", "pause") if key in night}
    if "workers" in mock:
        _number(mock, "workers", "[mock]", 1)
    if "size" in mock and not isinstance(mock["size"], str):
        raise ProfileError(f"[mock].size must be a size name, got {mock['size']!r}")
    return Night(vendors, values["duration"], until, values.get("window"),
                 values.get("ramp_up", 0.0), values.get("pause", 0.0), dict(mock), source)


def read_night(path: Path) -> Night:
    """The profile at ``path`` (ProfileError when it is missing or wrong)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"cannot read the profile {path}: {exc.strerror or exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path} is not valid TOML: {exc}") from None
    try:
        return night_from_toml(data, str(path))
    except ProfileError as exc:
        raise ProfileError(f"{path}: {exc}") from None


__all__ = ["DELTA_COLLECTIONS", "FULL_SYNC_COLLECTIONS", "KINDS", "MAX_IN_FLIGHT", "Night",
           "ProfileError", "Vendors", "night_from_toml", "quick_night", "read_night"]
