"""Grade passback (OR-CON-GRADE): writes accepted, done when asked, retried to the same URL,
with the vendor header, and none on a rostering-only connection."""

from __future__ import annotations

from ...engine import Outcome, passed, skipped
from ..judge import Judgement, consumer_check
from ..recording import Recorded
from .support import NO_REQUESTS


def _writes(j: Judgement) -> list[Recorded]:
    return [e for e in j.data if e.is_write and e.is_gradebook]


@consumer_check("OR-CON-GRADE-001", "Every grade-book write was accepted",
                "OneRoster 1.2 Gradebook: line items and results; Infinite Campus rules",
                rule_v11="OneRoster 1.1 Gradebook: line items (category, gradingPeriod, "
                "resultValueMin/Max) and results (score); Infinite Campus rules")
def writes_accepted(j: Judgement) -> Outcome:
    """Line items and results must be valid: schema-valid bodies, a known class and an
    enrolled student, assign and due dates inside the class's term, a known line item. The
    mock applies those rules as Infinite Campus does; each refusal is a grade that never
    reached the gradebook."""
    writes = _writes(j)
    if not writes:
        return skipped("the consumer wrote nothing to the grade book")
    refused = [e for e in writes if e.status is not None and 400 <= e.status < 500
               and not e.fault and j.header.get("connection_type") != "unsupported"]
    if refused:
        raise j.finding(f"{len(refused)} of {len(writes)} write(s) refused: "
                        f"{refused[0].description}", *refused)
    return passed(f"{len(writes)} write(s), none refused")


@consumer_check("OR-CON-GRADE-002", "Grades were passed back",
                "OneRoster 1.2 Gradebook: PUT lineItems and results",
                rule_v11="OneRoster 1.1 Gradebook: PUT lineItems and results")
def grades_passed_back(j: Judgement) -> Outcome:
    """In a grade-passback scenario the consumer is expected to create line items and
    results; a sync that never writes a grade has not shown that passback works."""
    if j.header.get("gradebook") != "write":
        return skipped("the scenario does not ask for grade passback")
    written = [e for e in _writes(j) if e.ok and e.method in ("PUT", "POST")]
    kinds = {kind for kind in ("lineItems", "results")
             if any(f"/{kind}" in e.path for e in written)}
    if kinds != {"lineItems", "results"}:
        raise j.finding("no successful " + " or ".join(
            sorted({"lineItems", "results"} - kinds)) + " write")
    return passed(f"{len(written)} successful write(s) of line items and results")


@consumer_check("OR-CON-GRADE-003", "Failed writes were retried idempotently",
                "OneRoster 1.2 Gradebook: PUT with a client-chosen sourcedId is idempotent",
                rule_v11="OneRoster 1.1 Gradebook: PUT with a client-chosen sourcedId is "
                "idempotent")
def idempotent_retries(j: Judgement) -> Outcome:
    """A write that fails with a server error must be retried with the same sourcedId (a PUT
    to the same URL), so a retry never creates a second copy of an assignment or grade."""
    writes = _writes(j)
    failed = [e for e in writes if e.status is not None and e.status >= 500]
    if not failed:
        return skipped("no grade-book write failed with a server error")
    for failure in failed:
        retried = [e for e in writes if e.start > failure.end and e.method == failure.method
                   and e.path == failure.path]
        if not retried:
            raise j.finding(f"the failed {failure.method} {failure.path} was never retried "
                            "to the same URL", failure)
    return passed(f"{len(failed)} failed write(s), each retried to the same URL")


@consumer_check("OR-CON-GRADE-004", "Grade-book calls carried the vendor header",
                "Infinite Campus: x-vendor-authorization on every grade-book call")
def vendor_header(j: Judgement) -> Outcome:
    """Infinite Campus connections with a vendor key need ``x-vendor-authorization:
    key:secret`` on every grade-book request; without it Campus answers 401."""
    if not j.header.get("vendor_key"):
        return skipped("the connection has no vendor key")
    calls = [e for e in j.data if e.is_gradebook]
    if not calls:
        return skipped("the consumer made no grade-book call")
    bare = [e for e in calls if not e.vendor_header]
    if bare:
        raise j.finding(f"{len(bare)} grade-book call(s) without x-vendor-authorization",
                        *bare)
    return passed(f"{len(calls)} grade-book call(s), each with the vendor header")


@consumer_check("OR-CON-GRADE-005", "No grade writes on a rostering-only connection",
                "Infinite Campus: 'unsupported' connections are rostering only")
def no_writes_when_rostering_only(j: Judgement) -> Outcome:
    """A rostering-only connection (Campus's 'unsupported' vendors) may not write grades; a
    consumer must know its connection type and not try."""
    if j.header.get("connection_type") != "unsupported":
        return skipped("the connection allows grade passback")
    if not j.data:
        return skipped(NO_REQUESTS)
    writes = _writes(j)
    if writes:
        raise j.finding(f"{len(writes)} grade-book write attempt(s)", *writes)
    return passed("no grade-book write was attempted")
