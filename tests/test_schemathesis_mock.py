"""Schemathesis drives our own 1.2 rostering OpenAPI document against the running mock.

Generic conformance: no server errors, documented status codes and content types, and every
response body valid against the document's schemas, for generated paths and query values.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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

schema = schemathesis.openapi.from_dict(openapi("rostering"),
                                        config=SchemathesisConfig(seed=42))

# The OneRoster document types `fields` and `filter` as free strings, while the spec (and the
# mock) answer 400 to unknown field names or a malformed filter, so "valid by the schema but
# rejected" is the correct behaviour here, not a finding.
EXCLUDED = [checks.positive_data_acceptance]


@pytest.fixture(scope="module")
def mock(districts_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    store = Store(make_district(districts_dir, 42, 60))
    connection = Connection(name="st", client_id="st", client_secret="st-secret",
                            scopes=ALL_SCOPES_V12)
    with live_server(create_app(store, [connection], close_store=True)) as url:
        token = httpx.post(f"{url}/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("st", "st-secret")).json()["access_token"]
        yield url + "/ims/oneroster/rostering/v1p2", {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=examples(8),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_mock_conforms_to_its_own_document(case, mock) -> None:
    base_url, headers = mock
    case.call_and_validate(base_url=base_url, headers=headers, excluded_checks=EXCLUDED)
