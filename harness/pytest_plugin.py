"""pytest plugin: the conformance catalogue as tests, and fixtures for vendors' own tests.

    pytest --pyargs harness.conformance --oneroster-base-url URL --oneroster-token-url URL \\
        --oneroster-client-id ID --oneroster-client-secret SECRET
    pytest --pyargs harness.conformance --oneroster-mock        # the embedded mock district

Also ``--oneroster-token`` (a static bearer token), ``--oneroster-oauth1`` (OAuth 1.0a signing
for 1.1, the client id and secret as consumer key and secret; ``--oneroster-signature-method``
auto, HMAC-SHA256 or HMAC-SHA1), ``--oneroster-scope`` (the scopes to ask for),
``--oneroster-vendor-key``, ``--oneroster-version 1.1``, ``--oneroster-profile
spec,campus,...`` and the run's limits (``--oneroster-timeout``,
``--oneroster-max-requests``, ``--oneroster-concurrency``). The options are checked as the
command line checks them (``harness.connect``): a bad combination stops pytest with one line.

Fixtures: ``oneroster_mock`` (a running mock district: base URL, token URL, credentials),
``oneroster_client`` (an httpx client with OAuth 2.0 client credentials for it) and
``oneroster_target`` (the provider the options name, or the mock with ``--oneroster-mock``).
A run that collects tests needing a provider without naming one stops with one line, and a
provider that cannot be used (refused credentials, nothing listening, no OneRoster service at
the URL) stops the run with one line too, not a failure per check.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from .auth import SIGNATURE_CHOICES, ClientCredentials
from .connect import OptionsError, TargetOptions, check_options, open_target
from .embedded import RunningMock, running_mock
from .target import MAX_CONCURRENCY, Target

PREFIX = "--oneroster-"


def spelling(name: str) -> str:
    return PREFIX + name


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("oneroster", "OneRoster conformance")
    group.addoption("--oneroster-base-url", help="provider URL up to /ims/oneroster")
    group.addoption("--oneroster-token-url", help="its OAuth 2.0 token URL")
    group.addoption("--oneroster-client-id")
    group.addoption("--oneroster-client-secret")
    group.addoption("--oneroster-version", default="1.2", choices=("1.2", "1.1"))
    group.addoption("--oneroster-token", help="a static bearer token instead of client "
                    "credentials")
    group.addoption("--oneroster-oauth1", action="store_true",
                    help="sign 1.1 requests with OAuth 1.0a (client id and secret as consumer "
                    "key and secret) instead of a bearer token")
    group.addoption("--oneroster-signature-method", default=None, choices=SIGNATURE_CHOICES,
                    help="OAuth 1.0a signature method: auto (default: HMAC-SHA256, then "
                    "HMAC-SHA1 when that is refused), HMAC-SHA256 or HMAC-SHA1")
    group.addoption("--oneroster-scope", default=None,
                    help="scopes to ask the token URL for (space-separated; \"\" for none); "
                    "default: the OneRoster scopes of the services checked")
    group.addoption("--oneroster-vendor-key", help="Infinite Campus x-vendor-authorization "
                    "(KEY:SECRET) for grade-book calls")
    group.addoption("--oneroster-timeout", type=float, default=10.0,
                    help="seconds to wait for one answer (default 10)")
    group.addoption("--oneroster-max-requests", type=int, default=2_000,
                    help="stop requesting after this many (default 2000)")
    group.addoption("--oneroster-concurrency", type=int, default=1,
                    help=f"requests at once, 1 to {MAX_CONCURRENCY} (default 1)")
    group.addoption("--oneroster-mock", action="store_true",
                    help="check the embedded mock district instead of a URL")
    group.addoption("--oneroster-size", default="tiny", help="mock district size")
    group.addoption("--oneroster-profile", default="spec",
                    help="comma-separated profiles: spec, campus, schoology, canvas, google")


def target_options(config: pytest.Config, mock: RunningMock | None = None) -> TargetOptions:
    """The target the options name; with ``mock``, that mock's URL and credentials."""
    option = config.getoption
    where = {"base_url": mock.base_url, "token_url": mock.token_url,
             "client_id": mock.client_id, "client_secret": mock.client_secret, "token": None,
             } if mock else {name: option(spelling(name.replace("_", "-"))) for name in (
                 "base_url", "token_url", "client_id", "client_secret", "token")}
    return TargetOptions(
        **where, oauth1=option("--oneroster-oauth1"),
        signature_method=option("--oneroster-signature-method"),
        scope=option("--oneroster-scope"),
        vendor_key=option("--oneroster-vendor-key"), version=option("--oneroster-version"),
        timeout=option("--oneroster-timeout"), max_requests=option("--oneroster-max-requests"),
        concurrency=option("--oneroster-concurrency"))


NO_PROVIDER = (f"no provider to check: give {spelling('base-url')} with "
               f"{spelling('token-url')}, {spelling('client-id')} and "
               f"{spelling('client-secret')} (or {spelling('token')}), or {spelling('mock')} "
               "for the embedded mock")


def _provider_given(config: pytest.Config) -> bool:
    return bool(config.getoption("--oneroster-mock") or config.getoption("--oneroster-base-url"))


def pytest_configure(config: pytest.Config) -> None:
    """Bad provider options stop the run before any test, in one line."""
    mock = config.getoption("--oneroster-mock")
    if not _provider_given(config):
        return  # judged once the tests are collected: the mock fixtures need no provider
    try:  # the embedded mock supplies its URL and credentials once it runs
        check_options(target_options(config), spelling, mock=mock)
    except OptionsError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                   items: list[pytest.Item]) -> None:
    """Tests that check a provider with none given stop the run in one line: skipping them
    all would let a CI job that forgot an option pass."""
    if _provider_given(config):
        return
    if any("oneroster_target" in getattr(item, "fixturenames", ()) for item in items):
        raise pytest.UsageError(NO_PROVIDER)


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
    """An httpx client for the mock that fetches its token itself (and a new one on a 401)."""
    credentials = ClientCredentials(oneroster_mock.token_url, oneroster_mock.client_id,
                                    oneroster_mock.client_secret)
    try:
        with httpx.Client(base_url=oneroster_mock.base_url, auth=credentials) as client:
            yield client
    finally:
        credentials.close()


@pytest.fixture(scope="session")
def oneroster_target(request: pytest.FixtureRequest,
                     pytestconfig: pytest.Config) -> Iterator[Target]:
    mock = request.getfixturevalue("oneroster_mock") if pytestconfig.getoption(
        "--oneroster-mock") else None
    options = target_options(pytestconfig, mock)
    if not options.given:  # collection already stopped such a run; kept for direct use
        raise pytest.UsageError(NO_PROVIDER)
    try:
        target = open_target(options, spelling)
    except OptionsError as exc:  # pytest_configure has already said so; kept for direct use
        raise pytest.UsageError(str(exc)) from None
    try:
        yield target
    finally:
        target.close()
