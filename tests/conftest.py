"""Shared fixtures: small real districts built once per test session into temp files; and the
Hypothesis settings profiles, chosen with the environment variable ``HYPOTHESIS_PROFILE``:

* ``dev``: a tenth of the examples, for the quick loop while editing;
* ``ci`` (the default): the numbers the suite has always run, derandomized so that every run
  draws the same examples and a red CI run is red again on a laptop;
* ``thorough``: ten times the examples, randomized (a fresh draw each run; a failure prints the
  blob that replays it).

Property tests ask for ``examples(n)``, where ``n`` is their count under ``ci``, so the costly
ones stay cheaper than the cheap ones under every profile.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from mock_provider.district import DistrictSpec, build_district
from mock_provider.store import Store

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
CI_EXAMPLES = 100
# Built on Hypothesis's own "ci" profile (no deadline, no example database, derandomized, the
# too-slow health check off): shared CI machines are too uneven for timing-based failures.
settings.register_profile("ci", settings.get_profile("ci"), max_examples=CI_EXAMPLES)
settings.register_profile("dev", settings.get_profile("ci"), max_examples=CI_EXAMPLES // 10)
settings.register_profile("thorough", settings.get_profile("ci"),
                          max_examples=CI_EXAMPLES * 10, derandomize=False)
PROFILES = ("dev", "ci", "thorough")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("hypothesis_profile", None):
        return  # Hypothesis's own --hypothesis-profile option wins over the variable
    name = os.environ.get(PROFILE_VARIABLE, "").strip() or "ci"
    if name not in PROFILES:
        raise pytest.UsageError(f"{PROFILE_VARIABLE}={name!r} is not a profile; choose one of "
                                f"{', '.join(PROFILES)}")
    settings.load_profile(name)


def pytest_report_header(config: pytest.Config) -> str:
    return (f"hypothesis profile: {settings.get_current_profile_name()} "
            f"(max_examples {settings().max_examples}; {PROFILE_VARIABLE}=dev|ci|thorough)")


def examples(at_ci: int) -> int:
    """How many examples a property test runs: ``at_ci`` under the ci profile, scaled like the
    loaded profile's ``max_examples`` (a tenth under dev, ten times under thorough), at least 1.
    Call it where the test is decorated, which happens after the profile is loaded."""
    return max(1, round(at_ci * settings().max_examples / CI_EXAMPLES))


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
def tiny_store(districts_dir: Path) -> Iterator[Store]:
    """One high school, 60 students: the ``tiny`` size."""
    with Store(make_district(districts_dir, 42, 60)) as store:
        yield store


@pytest.fixture(scope="session")
def zoned_store(districts_dir: Path) -> Iterator[Store]:
    """A K-12 district with elementary, middle and high schools (several buildings)."""
    with Store(make_district(districts_dir, 42, 4_000)) as store:
        yield store
