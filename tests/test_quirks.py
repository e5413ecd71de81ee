"""Opt-in data-quality quirks: each appears exactly where its manifest says, and nowhere else."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mock_provider.district import QUIRKS, parse_quirks
from mock_provider.district.quirks import ODD
from mock_provider.store import Store

from .conftest import make_district


def _has_duplicate_username(users: list[dict]) -> set[str]:
    counts = Counter(u.get("username") for u in users if u.get("username"))
    return {u["sourcedId"] for u in users if u.get("username") and counts[u["username"]] > 1}


# quirk -> (table, which records show it)
SHOWS: dict[str, tuple[str, Callable[[list[dict]], set[str]]]] = {
    "username-spaces": ("users", lambda rs: {r["sourcedId"] for r in rs
                                             if " " in r.get("username", "")}),
    "missing-email": ("users", lambda rs: {r["sourcedId"] for r in rs if "email" not in r}),
    "null-email": ("users", lambda rs: {r["sourcedId"] for r in rs if r.get("email") == "NULL"}),
    "missing-username": ("users", lambda rs: {r["sourcedId"] for r in rs if "username" not in r}),
    "tobedeleted-no-roles": ("users", lambda rs: {r["sourcedId"] for r in rs
                                                  if r["status"] == "tobedeleted"
                                                  and not r["roles"]}),
    "duplicate-usernames": ("users", _has_duplicate_username),
    "long-codes": ("classes", lambda rs: {r["sourcedId"] for r in rs
                                          if len(r.get("classCode", "")) > 50}),
    "odd-characters": ("classes", lambda rs: {r["sourcedId"] for r in rs
                                              if set(r["title"]) & set(ODD)}),
    "leading-zero-ids": ("orgs", lambda rs: {r["sourcedId"] for r in rs
                                             if r["type"] == "school"
                                             and r["identifier"].startswith("0")}),
}


@pytest.fixture(scope="module")
def quirky_store(districts_dir: Path) -> Iterator[Store]:
    with Store(make_district(districts_dir, 42, 4_000, frozenset(QUIRKS))) as store:
        yield store


def test_every_quirk_has_a_detector() -> None:
    assert set(SHOWS) == set(QUIRKS)


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_each_quirk_appears_exactly_as_its_manifest_says(quirky_store: Store, quirk: str) -> None:
    entry = quirky_store.quirk_manifest()[quirk]
    table, shows = SHOWS[quirk]
    listed = entry["sourcedIds"]
    assert entry["count"] == len(listed) > 0
    assert entry["kind"] == table
    assert shows(list(quirky_store.iter_records(table))) == set(listed)


@pytest.mark.parametrize("quirk", sorted(QUIRKS))
def test_without_quirks_the_district_shows_none(zoned_store: Store, quirk: str) -> None:
    table, shows = SHOWS[quirk]
    assert shows(list(zoned_store.iter_records(table))) == set()
    assert zoned_store.quirk_manifest() == {}


def test_duplicate_usernames_span_two_buildings(quirky_store: Store) -> None:
    ids = quirky_store.quirk_manifest()["duplicate-usernames"]["sourcedIds"]
    users = {u["sourcedId"]: u for u in quirky_store.iter_records("users")}
    for first, second in zip(ids[::2], ids[1::2], strict=True):
        assert users[first]["username"] == users[second]["username"]
        assert users[first]["roles"][0]["org"] != users[second]["roles"][0]["org"]


def test_quirk_names_are_parsed_strictly() -> None:
    assert parse_quirks("all") == frozenset(QUIRKS)
    assert parse_quirks(" null-email, long-codes ") == {"null-email", "long-codes"}
    assert parse_quirks(None) == frozenset()
    with pytest.raises(ValueError, match="unknown quirk 'nope'"):
        parse_quirks("null-email,nope")
