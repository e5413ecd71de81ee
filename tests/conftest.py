"""Shared fixtures: small real districts built once per test session into temp files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mock_provider.district import DistrictSpec, build_district
from mock_provider.store import Store


def make_district(root: Path, seed: int, students: int, quirks: frozenset[str] = frozenset(),
                  workers: int | None = None) -> Path:
    path = root / f"district-{seed}-{students}-{'-'.join(sorted(quirks)) or 'plain'}.sqlite"
    if not path.exists():
        build_district(DistrictSpec(seed=seed, students=students, size="custom", quirks=quirks),
                       path, workers=workers)
    return path


@pytest.fixture(scope="session")
def districts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("districts")


@pytest.fixture(scope="session")
def tiny_store(districts_dir: Path) -> Store:
    """One high school, 60 students: the ``tiny`` size."""
    return Store(make_district(districts_dir, 42, 60))


@pytest.fixture(scope="session")
def zoned_store(districts_dir: Path) -> Store:
    """A K-12 district with elementary, middle and high schools (several buildings)."""
    return Store(make_district(districts_dir, 42, 4_000))
