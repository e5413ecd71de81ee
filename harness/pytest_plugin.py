"""pytest plugin: the conformance catalogue as tests, and fixtures for vendors' own tests.

    pytest --pyargs harness.conformance --oneroster-base-url URL --oneroster-token-url URL \\
        --oneroster-client-id ID --oneroster-client-secret SECRET
    pytest --pyargs harness.conformance --oneroster-mock        # the embedded mock district

Also ``--oneroster-token`` (a static bearer token), ``--oneroster-vendor-key``,
``--oneroster-version 1.1`` and ``--oneroster-profile spec,campus,...``.

Fixtures: ``oneroster_mock`` (a running mock district: base URL, token URL, credentials),
``oneroster_client`` (an httpx client carrying a bearer token for it) and ``oneroster_target``
(the provider the options name, or the mock with ``--oneroster-mock``).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .embedded import RunningMock, running_mock
from .target import Target


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oneroster", "OneRoster conformance")
    group.addoption("--oneroster-base-url", help="provider URL up to /ims/oneroster")
    group.addoption("--oneroster-token-url", help="its OAuth 2.0 token URL")
    group.addoption("--oneroster-client-id")
    group.addoption("--oneroster-client-secret")
    group.addoption("--oneroster-version", default="1.2", choices=("1.2", "1.1"))
    group.addoption("--oneroster-token", help="a static bearer token instead of client "
                    "credentials")
    group.addoption("--oneroster-vendor-key", help="Infinite Campus x-vendor-authorization "
                    "(KEY:SECRET) for grade-book calls")
    group.addoption("--oneroster-mock", action="store_true",
                    help="check the embedded mock district instead of a URL")
    group.addoption("--oneroster-size", default="tiny", help="mock district size")
    group.addoption("--oneroster-profile", default="spec",
                    help="comma-separated profiles: spec, campus, schoology, canvas, google")


@pytest.fixture(scope="session")
def oneroster_mock(tmp_path_factory: pytest.TempPathFactory,
                   pytestconfig: pytest.Config) -> Iterator[RunningMock]:
    from mock_provider.district import DistrictSpec, build_district, students_for

    size = pytestconfig.getoption("--oneroster-size")
    path = tmp_path_factory.mktemp("oneroster") / "district.sqlite"
    build_district(DistrictSpec(seed=42, students=students_for(size, None), size=size), path)
    with running_mock(path) as mock:
        yield mock


@pytest.fixture(scope="session")
def oneroster_client(oneroster_mock: RunningMock) -> Iterator[httpx.Client]:
    token = httpx.post(oneroster_mock.token_url, data={"grant_type": "client_credentials"},
                       auth=(oneroster_mock.client_id, oneroster_mock.client_secret)
                       ).json()["access_token"]
    with httpx.Client(base_url=oneroster_mock.base_url,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


@pytest.fixture(scope="session")
def oneroster_target(request: pytest.FixtureRequest,
                     pytestconfig: pytest.Config) -> Iterator[Target]:
    option = pytestconfig.getoption
    if option("--oneroster-mock"):
        mock: RunningMock = request.getfixturevalue("oneroster_mock")
        target = Target(mock.base_url, mock.token_url, mock.client_id, mock.client_secret,
                        option("--oneroster-version"))
    elif option("--oneroster-base-url") and option("--oneroster-token"):
        target = Target(option("--oneroster-base-url"), "", "", option("--oneroster-token"),
                        option("--oneroster-version"), auth="bearer",
                        vendor_key=option("--oneroster-vendor-key"))
    else:
        needed = ("base_url", "token_url", "client_id", "client_secret")
        values = {name: option(f"--oneroster-{name.replace('_', '-')}") for name in needed}
        if not all(values.values()):
            pytest.skip("no provider given: pass --oneroster-base-url and friends, or "
                        "--oneroster-mock")
        target = Target(**values, version=option("--oneroster-version"),  # type: ignore[arg-type]
                        vendor_key=option("--oneroster-vendor-key"))
    try:
        yield target
    finally:
        target.close()
