"""Schemathesis over the rostering OpenAPI document (``specs/``, with our overlays): requests
generated for every operation, each answer checked for server errors, documented status
codes and content types, and bodies valid against the document's schemas."""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from specs import openapi

from ..engine import Outcome, passed
from ..model import Evidence
from .context import Context
from .support import check

EXAMPLES = 3  # generated requests per operation
MAX_LIMIT = 100  # generated page sizes are capped: a huge page proves nothing more here
# The document types `fields` and `filter` as free strings, while the spec answers 400 to
# unknown field names and malformed filters: "valid by the schema, refused" is correct.
EXCLUDED = [st_checks.positive_data_acceptance]


def _cases(operation: Any) -> list[Any]:
    """EXAMPLES generated requests for one operation, deterministic for the run."""
    found: list[Any] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found[:EXAMPLES]


def _evidence(case: Any, url: str, error: BaseException) -> Evidence:
    first_lines = " ".join(str(error).split())[:600]
    curl = case.as_curl_command(headers={"Authorization": "Bearer ***"})
    return Evidence(case.method.upper(), url, None, first_lines, curl)


@check("OR-API-001", "Generated requests for every rostering operation get documented answers",
       "OneRoster 1.2 Rostering OpenAPI (1EdTech), driven by schemathesis")
def generated_requests(ctx: Context) -> Outcome:
    """Schemathesis generates requests for each of the 41 rostering operations from the
    OpenAPI document (paths, ids, query values) and checks each answer: no 5xx, a status code
    and content type the document lists, a body valid against its schema. Fix what the
    finding names; `curl` replays the request."""
    target = ctx.target
    if target.version != "1.2":
        return Outcome("skipped", "the OpenAPI documents are 1.2 only")
    if target.auth == "oauth1":
        return Outcome("skipped", "schemathesis cannot sign OAuth 1.0a requests")
    schema = schemathesis.openapi.from_dict(openapi("rostering"),
                                            config=SchemathesisConfig(seed=ctx.seed))
    headers = {"Authorization": f"Bearer {target.token()}"}
    failures: list[tuple[str, Evidence]] = []
    calls = operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for case in _cases(operation):
            if isinstance(case.query, dict) and str(case.query.get("limit", "")).isdigit():
                case.query["limit"] = min(int(case.query["limit"]), MAX_LIMIT)
            target.spend()
            calls += 1
            try:
                case.call_and_validate(base_url=target.root, headers=headers,
                                       excluded_checks=EXCLUDED, timeout=30)
            # FailureGroup derives from BaseExceptionGroup, not Exception.
            except (Exception, FailureGroup) as exc:
                url = target.root + case.formatted_path
                failures.append((operation.label, _evidence(case, url, exc)))
    if failures:
        labels = sorted({label for label, _ in failures})
        outcome = Outcome("failed", f"{len(failures)} of {calls} generated requests failed, on "
                                    f"{', '.join(labels[:5])}"
                                    + (f" and {len(labels) - 5} more" if len(labels) > 5 else ""))
        outcome.evidence = [evidence for _, evidence in failures[:5]]
        return outcome
    return passed(f"{calls} generated requests over {operations} operations, every answer as "
                  "documented")
