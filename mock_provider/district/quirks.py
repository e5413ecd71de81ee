"""Opt-in data-quality quirks seen in real districts' OneRoster data.

With no quirks the district is fully conformant. Each quirk touches a small, deterministic
share of records (at least one per zone) and every touched record is listed in the store's
``quirks`` table, so a consumer test knows exactly what to expect.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .people import Person
from .schedule import Section

QUIRKS: dict[str, str] = {
    "username-spaces": "usernames containing a space (Schoology does not sync these users)",
    "missing-email": "users without an e-mail address",
    "null-email": "users whose e-mail is the literal text NULL",
    "duplicate-usernames": "the same username on two users in different buildings",
    "tobedeleted-no-roles": "students marked tobedeleted who come back with no roles",
    "missing-username": "users without a username",
    "long-codes": "class codes longer than 50 characters",
    "odd-characters": "class titles and codes with characters like ` \\ : * ? \" < > | ' # , % &",
    "leading-zero-ids": "school identifiers written with leading zeros ('0210')",
}

ODD = "`\\:*?\"<>|'#,%&"
Hit = tuple[str, str, str]


def parse_quirks(text: str | Sequence[str] | None) -> frozenset[str]:
    """Quirk names from ``a,b`` or a list; ``all`` means every quirk."""
    if text is None:
        return frozenset()
    parts = text.split(",") if isinstance(text, str) else list(text)
    names = {p.strip() for p in parts if p.strip()}
    if "all" in names:
        return frozenset(QUIRKS)
    unknown = sorted(names - set(QUIRKS))
    if unknown:
        raise ValueError(f"unknown quirk {unknown[0]!r}; known quirks: all, {', '.join(QUIRKS)}")
    return frozenset(names)


def _pick(rng: random.Random, items: Sequence, rate: float, taken: set[int]) -> list:
    """A share of ``items`` (at least one) not already touched by another quirk."""
    free = [i for i in range(len(items)) if id(items[i]) not in taken]
    if not free:
        return []
    chosen = rng.sample(free, max(1, min(len(free), round(len(items) * rate))))
    chosen.sort()
    for i in chosen:
        taken.add(id(items[i]))
    return [items[i] for i in chosen]


def _space_in_username(p: Person) -> None:
    p.username = f"{p.given.lower()} {p.family.lower()}"


def _no_email(p: Person) -> None:
    p.email = None


def _null_email(p: Person) -> None:
    p.email = "NULL"


def _no_username(p: Person) -> None:
    p.username = None


def _deleted_without_roles(p: Person) -> None:
    p.status, p.enabled, p.roles = "tobedeleted", False, []


# quirk -> (share of the people it touches, students only?, what it does to one person)
PEOPLE_QUIRKS: dict[str, tuple[float, bool, Callable[[Person], None]]] = {
    "username-spaces": (0.01, False, _space_in_username),
    "missing-email": (0.01, False, _no_email),
    "null-email": (0.005, False, _null_email),
    "missing-username": (0.005, False, _no_username),
    "tobedeleted-no-roles": (0.01, True, _deleted_without_roles),
}


def apply_people_quirks(rng: random.Random, quirks: frozenset[str],
                        people: list[Person]) -> list[Hit]:
    hits: list[Hit] = []
    taken: set[int] = set()
    students = [p for p in people if p.role == "student"]
    for name, (share, students_only, apply) in PEOPLE_QUIRKS.items():
        if name not in quirks:
            continue
        for person in _pick(rng, students if students_only else people, share, taken):
            apply(person)
            hits.append((name, "users", person.sourced_id))
    if "duplicate-usernames" in quirks:
        hits += _duplicate_usernames(rng, people, taken)
    return hits


def _duplicate_usernames(rng: random.Random, people: list[Person], taken: set[int]) -> list[Hit]:
    hits: list[Hit] = []
    pairs = max(1, round(len(people) * 0.002))
    for first in _pick(rng, people, pairs / max(1, len(people)), taken):
        home = first.roles[0][2] if first.roles else None
        elsewhere = [p for p in people if id(p) not in taken and p.roles
                     and p.roles[0][2] != home and p.username]
        candidates = elsewhere or [p for p in people if id(p) not in taken and p.username]
        if not candidates or not first.username:
            continue
        second = rng.choice(candidates)
        taken.add(id(second))
        second.username = first.username
        hits.append(("duplicate-usernames", "users", first.sourced_id))
        hits.append(("duplicate-usernames", "users", second.sourced_id))
    return hits


def apply_section_quirks(rng: random.Random, quirks: frozenset[str],
                         sections: list[Section]) -> list[Hit]:
    hits: list[Hit] = []
    taken: set[int] = set()
    if "long-codes" in quirks:
        for s in _pick(rng, sections, 0.03, taken):
            s.code_override = f"{s.code}-{s.course.title.upper().replace(' ', '-')}-" + "X" * 40
            hits.append(("long-codes", "classes", s.sourced_id))
    if "odd-characters" in quirks:
        for s in _pick(rng, sections, 0.02, taken):
            chars = "".join(rng.sample(ODD, 4))
            s.title_override = f"{s.course.title} {chars}"
            s.code_override = f"{s.code}{chars[:2]}"
            hits.append(("odd-characters", "classes", s.sourced_id))
    return hits
