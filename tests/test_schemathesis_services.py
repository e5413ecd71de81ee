"""Schemathesis drives the grade-book and resources OpenAPI documents against the running mock,
as tests/test_schemathesis_mock.py does the rostering one: generated paths, query values and
write bodies, and every answer judged: no server errors, documented status codes, content
types and headers, bodies valid against the documents' schemas.

The grade-book writes land in a district of this module's own, so the fuzzing never changes
what the other tests read."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from mock_provider.app import create_app
from mock_provider.connections import ALL_SCOPES_V12, Connection
from mock_provider.store import Store
from specs import openapi

from .conftest import examples, make_district
from .live_server import live_server

gradebook = schemathesis.openapi.from_dict(openapi("gradebook"),
                                           config=SchemathesisConfig(seed=42))
resources = schemathesis.openapi.from_dict(openapi("resources"),
                                           config=SchemathesisConfig(seed=42))

# As for rostering: the documents type `fields` and `filter` as free strings while the mock
# answers 400 to unknown names and malformed filters; and a write valid by the schema may
# break a grade-book rule (an unknown class, a student not enrolled: 422), which is right.
EXCLUDED = [checks.positive_data_acceptance]
SETTINGS = settings(max_examples=examples(5), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    store = Store(make_district(tmp_path_factory.mktemp("fuzzed"), 42, 60))
    connection = Connection(name="st", client_id="st", client_secret="st-secret",
                            scopes=ALL_SCOPES_V12)
    with live_server(create_app(store, [connection])) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("st", "st-secret")).json()["access_token"]
        yield url, {"Authorization": f"Bearer {token}"}
    store.close()


@gradebook.parametrize()
@SETTINGS
def test_the_mock_conforms_to_its_grade_book_document(case, mock) -> None:
    url, headers = mock
    case.call_and_validate(base_url=url + "/ims/oneroster/gradebook/v1p2", headers=headers,
                           excluded_checks=EXCLUDED)


@resources.parametrize()
@SETTINGS
def test_the_mock_conforms_to_its_resources_document(case, mock) -> None:
    url, headers = mock
    case.call_and_validate(base_url=url + "/ims/oneroster/resources/v1p2", headers=headers,
                           excluded_checks=EXCLUDED)
