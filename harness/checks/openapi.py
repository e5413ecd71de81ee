"""Schemathesis over the run's version's OpenAPI document (``specs/``: 1.2's rostering
document, with our overlays, or our 1.1 document): requests generated for every operation,
sent by the run's Target (so its budget, retries, size cap, incidents and masking apply to
each), and every answer judged by schemathesis's checks: no server errors, documented status
codes, content types and headers, bodies valid against the document's schemas."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks as st_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from specs import openapi, openapi_v11, relative_hrefs
from specs.catalogue import operations as document_operations

from ..engine import Outcome, few, passed
from ..exchange import EXCERPT, SECRET_HEADERS, Exchange
from ..model import Evidence
from ..target import MAX_BODY, BudgetExceeded, Target
from .context import Context
from .support import check

EXAMPLES = 3  # generated requests per operation
MAX_LIMIT = 100  # generated page sizes are capped: a huge page proves nothing more here
SHOWN_FAILURES = 5
WIRE_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
# The checks that judge one answer. Those that send requests of their own (ignored_auth's
# probes without credentials, the stateful ones) are left out: every request goes through the
# Target. positive_data_acceptance is left out too: the document types `fields` and `filter`
# as free strings, while the spec answers 400 to unknown field names and malformed filters, so
# "valid by the schema, refused" is correct here.
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance,
          st_checks.content_type_conformance, st_checks.response_headers_conformance,
          st_checks.response_schema_conformance]


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


def document(version: str) -> dict:
    """The OpenAPI document OR-API-001 generates from for a OneRoster version; relative hrefs
    are OR-SCHEMA-002's business (a warning), so they pass here."""
    return relative_hrefs(openapi("rostering") if version == "1.2" else openapi_v11())


def _services(version: str) -> dict[str, str]:
    """Path template -> the Target service to send it as (grade-book calls carry the
    vendor key); everything else goes as rostering."""
    service = "rostering" if version == "1.2" else None
    return {op.path: "gradebook" if op.service == "gradebook" else "rostering"
            for op in document_operations(service, version)}


def _send(target: Target, case: Any, service: str = "rostering") -> Exchange:
    """The case as schemathesis would send it (URL, query, generated headers and body), sent
    by the Target with the run's credentials."""
    if isinstance(case.query, dict) and str(case.query.get("limit", "")).isdigit():
        case.query["limit"] = min(int(case.query["limit"]), MAX_LIMIT)
    request = case.as_transport_kwargs(base_url=target.root)
    # Only the operation's own header parameters: the transport's defaults (User-Agent,
    # a test-case id) and credentials (schemathesis makes up an Authorization header for the
    # 1.1 document's OAuth 1.0a scheme) are the Target's business.
    headers = {str(k): str(v) for k, v in (case.headers or {}).items()
               if str(k).lower() != "authorization"}
    url, params = request["url"], request.get("params") or None
    if isinstance(params, str):  # already serialised (a style the document asks for)
        url, params = f"{url}?{params}", None
    return target.send(request["method"], url, params, request.get("json"), headers=headers,
                       service=service)


def _answer(exchange: Exchange, status: int) -> httpx.Response:
    """The exchange as a response schemathesis can judge; the request it names carries no
    credentials (its failure messages print it). The body is the text already read, so the
    headers about its wire form (encoding, length) no longer apply."""
    sent = {k: "***" if k.lower() in SECRET_HEADERS else v for k, v in exchange.extra_headers}
    request = httpx.Request(exchange.method, exchange.url, headers=sent,
                            content=None if exchange.sent is None else exchange.sent.encode())
    headers = [(k, v) for k, v in exchange.headers.multi_items() if k not in WIRE_HEADERS]
    response = httpx.Response(status, headers=headers, content=exchange.text.encode(),
                              request=request)
    response.elapsed = timedelta(0)  # not measured; no check here judges response times
    return response


def _judge(case: Any, exchange: Exchange) -> str | None:
    """What is wrong with the answer, None when schemathesis finds nothing."""
    if exchange.status is None:
        return exchange.text
    if exchange.cut:  # its start may be valid so far; the whole was never read
        return f"the answer ({exchange.status}) is longer than {MAX_BODY:,} bytes"
    try:
        case.validate_response(_answer(exchange, exchange.status), checks=CHECKS)
    # FailureGroup derives from BaseExceptionGroup, not Exception.
    except (Exception, FailureGroup) as exc:
        return " ".join(str(exc).split()) or type(exc).__name__
    return None


@check("OR-API-001", "Generated requests for every operation of the OpenAPI document get "
       "documented answers",
       "OneRoster 1.2 Rostering OpenAPI (1EdTech), driven by schemathesis; 1.1: the 55 read "
       "operations of our v1p1 OpenAPI document (specs/oneroster-1.1.json)")
def generated_requests(ctx: Context) -> Outcome:
    """Schemathesis generates requests for each operation of the version's OpenAPI document
    (1.2: the 41 rostering operations; 1.1: the 55 read operations under
    /ims/oneroster/v1p1) from its paths, ids and query values, and checks each answer: no 5xx,
    a status code, content type and headers the document lists, a body valid against its
    schema (1.1: the envelope key and the 1.1 records, errors as a statusInfoSet). The requests
    count against the run's budget. When no generated request is answered 2xx (every one
    refused, say), the check is skipped: refusals are documented answers, and they say nothing
    about the operations. Fix what the finding names; `curl` replays the request."""
    target = ctx.target
    schema = schemathesis.openapi.from_dict(document(target.version),
                                            config=SchemathesisConfig(seed=ctx.seed))
    services = _services(target.version)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[tuple[str, Evidence]] = []
    statuses: Counter[str] = Counter()
    calls = asked = 0
    spent: BudgetExceeded | None = None
    for operation in operations:
        for case in _cases(operation):
            try:
                exchange = _send(target, case, services.get(operation.path, "rostering"))
            except BudgetExceeded as exc:
                spent = exc
                break
            calls += 1
            statuses[str(exchange.status) if exchange.status else "no answer"] += 1
            problem = _judge(case, exchange)
            if problem is not None:
                evidence = dataclasses.replace(exchange.evidence(), excerpt=problem[:EXCERPT])
                failures.append((operation.label, evidence))
        if spent is not None:
            break
        asked += 1
    if failures:
        labels = sorted({label for label, _ in failures})
        cut = f" (stopped early: {spent})" if spent else ""
        return Outcome("failed", f"{len(failures)} of {calls} generated requests failed, on "
                                 f"{few(labels, SHOWN_FAILURES)}{cut}",
                       [evidence for _, evidence in failures[:SHOWN_FAILURES]],
                       [f"{label}: {e.method} {e.url} -> {e.status}" for label, e in failures])
    if spent is not None:
        return Outcome("skipped", f"{spent} after {calls} generated requests: {asked} of "
                                  f"{len(operations)} operations asked")
    if calls and not any(status.startswith("2") for status in statuses):
        # Refusals are documented too: answers that all refuse say nothing of the operations.
        counted = ", ".join(f"{status} x{n}" for status, n in statuses.most_common())
        return Outcome("skipped", f"none of the {calls} generated requests was answered 2xx "
                                  f"({counted}): the operations themselves were never seen")
    return passed(f"{calls} generated requests over {len(operations)} operations, every answer "
                  "as documented")
