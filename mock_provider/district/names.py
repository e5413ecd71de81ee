"""Name and place catalogues taken from Faker's en_US locale data.

Faker is used as a catalogue, not called per record: its weighted lists are read once and
sampled with seeded ``random.Random`` streams, which is two orders of magnitude faster than
``Faker.name()`` and keeps the same realism.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import dataclass
from functools import cache

from faker.providers.address.en_US import Provider as AddressProvider
from faker.providers.person.en_US import Provider as PersonProvider


@dataclass(frozen=True)
class WeightedList:
    values: tuple[str, ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def from_mapping(cls, mapping: dict[str, float]) -> WeightedList:
        values = tuple(mapping)
        return cls(values, tuple(itertools.accumulate(mapping[v] for v in values)))

    def sample(self, rng: random.Random, k: int) -> list[str]:
        return rng.choices(self.values, cum_weights=self.cum_weights, k=k)

    def one(self, rng: random.Random) -> str:
        return rng.choices(self.values, cum_weights=self.cum_weights, k=1)[0]


@dataclass(frozen=True)
class Catalog:
    female_first: WeightedList
    male_first: WeightedList
    last: WeightedList
    street_suffixes: tuple[str, ...]
    city_suffixes: tuple[str, ...]
    city_prefixes: tuple[str, ...]
    states: tuple[str, ...]


def _as_mapping(data: object) -> dict[str, float]:
    if isinstance(data, dict):
        return dict(data)
    return {str(v): 1.0 for v in data}  # type: ignore[attr-defined]


@cache
def catalog() -> Catalog:
    """The en_US catalogue, built once per process."""
    return Catalog(
        female_first=WeightedList.from_mapping(_as_mapping(PersonProvider.first_names_female)),
        male_first=WeightedList.from_mapping(_as_mapping(PersonProvider.first_names_male)),
        last=WeightedList.from_mapping(_as_mapping(PersonProvider.last_names)),
        street_suffixes=tuple(AddressProvider.street_suffixes),
        city_suffixes=tuple(AddressProvider.city_suffixes),
        city_prefixes=tuple(AddressProvider.city_prefixes),
        states=tuple(AddressProvider.states_abbr),
    )


_NOT_LOGIN_SAFE = re.compile(r"[^a-z0-9]")


def login_part(name: str) -> str:
    """A name reduced to what a district puts in a username: lower-case ASCII letters and digits."""
    return _NOT_LOGIN_SAFE.sub("", name.lower())


def city_name(rng: random.Random) -> str:
    cat = catalog()
    if rng.random() < 0.3:
        return f"{rng.choice(cat.city_prefixes)} {cat.last.one(rng)}"
    return f"{cat.last.one(rng)}{rng.choice(cat.city_suffixes)}"
