"""The consumer checks: what a consumer did against the mock, judged from the recording."""

from __future__ import annotations

from ..engine import Outcome, passed, skipped
from .judge import Judgement, consumer_check
from .recording import Recorded

RETRY_AFTER_SLACK = 0.05  # seconds of clock and scheduling noise forgiven
MIN_BACKOFF = 0.1  # seconds a consumer waits at least before retrying a 5xx
QUERY_ERRORS = frozenset({"invalid_filter_field", "invalid_selection_field",
                          "invalid_blank_selection_field", "invalid_sort_field", "invaliddata",
                          "invalid data"})
TOKEN_LOOP = 3  # token requests in a row, with no successful read between, make a loop


def _ids(exchanges: list[Recorded], limit: int = 3) -> str:
    return ", ".join(f"#{e.seq} {e.method} {e.path}" for e in exchanges[:limit])


@consumer_check("OR-CON-RUN-001", "The consumer finished each run successfully in time",
                "Harness: the consumer command exits 0 within the time limit")
def command_finished(j: Judgement) -> Outcome:
    """The consumer command (run once per phase of the scenario) must exit with status 0
    before the time limit. A non-zero exit or a timeout means the sync did not complete; read
    the consumer's log next to the report."""
    runs = j.recording.events_named("command")
    if not runs:
        return skipped("the consumer ran outside the harness (no command to judge)")
    bad = [r for r in runs if r.get("timed_out") or r.get("exit_code") != 0]
    if bad:
        run = bad[0]
        why = (f"did not finish within {run.get('time_limit')} s" if run.get("timed_out")
               else f"exited with status {run.get('exit_code')}")
        raise j.finding(f"the {run.get('phase')} run {why}")
    return passed(f"{len(runs)} run(s), every one exited 0")


@consumer_check("OR-CON-AUTH-001", "Every OneRoster request carried a token it had obtained",
                "1EdTech Security Framework: OAuth 2.0 client credentials, bearer tokens")
def authenticated(j: Judgement) -> Outcome:
    """The consumer must obtain an access token from the token URL with its client id and
    secret, and send it as ``Authorization: Bearer <token>`` on every request. Failed token
    requests (wrong credentials, wrong grant) and requests without credentials are findings."""
    failed_tokens = [e for e in j.token_requests if not e.ok]
    if failed_tokens:
        raise j.finding(f"{len(failed_tokens)} token request(s) failed (status "
                        f"{failed_tokens[0].status})", *failed_tokens)
    issued = {e.issued for e in j.token_requests if e.issued}
    bare = [e for e in j.data if e.auth in ("none", "other", "basic")]
    unknown = [e for e in j.data if e.auth == "bearer" and e.token not in issued]
    if bare:
        raise j.finding(f"{len(bare)} request(s) without a bearer token: {_ids(bare)}", *bare)
    if unknown:
        raise j.finding(f"{len(unknown)} request(s) with a token the token URL never issued",
                        *unknown)
    if not j.data:
        raise j.finding("the consumer made no OneRoster request at all")
    return passed(f"{len(j.token_requests)} token request(s), {len(j.data)} authorised "
                   "request(s)")


def _justified(j: Judgement, request: Recorded, previous: Recorded | None) -> bool:
    """A new token is justified at the start of a run, after a 401, or once the last one's
    lifetime is (nearly) over."""
    if previous is None or previous.phase != request.phase:
        return True
    if any(e.status == 401 and previous.end <= e.end <= request.start for e in j.data):
        return True
    lifetime = previous.expires_in if isinstance(previous.expires_in, (int, float)) else None
    return lifetime is not None and request.start - previous.end >= lifetime * 0.8


@consumer_check("OR-CON-AUTH-002", "The token was reused until it expired",
                "1EdTech Security Framework §4: access tokens are reused for their lifetime")
def token_reused(j: Judgement) -> Outcome:
    """An access token is good for its ``expires_in``: fetch one, use it for every request,
    and fetch a new one only when it expires or the provider answers 401. A token per request
    (or per collection) loads the provider's token service and is refused by some SIS."""
    extra = []
    previous = None
    for request in j.token_requests:
        if not _justified(j, request, previous):
            extra.append(request)
        previous = request
    if extra:
        raise j.finding(f"{len(extra)} token request(s) while the previous token was still "
                        f"good ({len(j.token_requests)} in all)", *extra)
    return passed(f"{len(j.token_requests)} token request(s), each one needed")


@consumer_check("OR-CON-AUTH-003", "After a 401 the consumer fetched a new token once",
                "RFC 6750 §3.1 invalid_token: obtain a new token, then retry")
def recovered_from_401(j: Judgement) -> Outcome:
    """When a request is refused with 401 (the token expired or was revoked) the consumer must
    stop using that token, fetch a new one once and retry. Using the refused token again, or
    fetching tokens in a loop, is a finding."""
    refusals = [e for e in j.data if e.status == 401 and e.token]
    if not refusals:
        return skipped("no request was refused with 401")
    for refusal in refusals:
        reused = [e for e in j.data if e.token == refusal.token and e.start > refusal.end]
        if reused:
            raise j.finding(f"token {refusal.token} was used again after it was refused "
                            f"({len(reused)} more request(s))", refusal, *reused)
        renewed = [t for t in j.token_requests if t.start >= refusal.end
                   and t.phase == refusal.phase]
        if not renewed:
            raise j.finding("no new token was fetched after the 401", refusal)
    streak: list[Recorded] = []
    for exchange in j.all:
        if exchange.is_token_request:
            streak.append(exchange)
            if len(streak) >= TOKEN_LOOP:
                raise j.finding(f"{len(streak)} token requests in a row without a successful "
                                "read between them: a token loop", *streak)
        elif exchange.is_oneroster and exchange.ok:
            streak = []
    return passed(f"{len(refusals)} 401(s), each followed by one new token")


@consumer_check("OR-CON-RATE-001", "Retry-After was honoured after a 429",
                "RFC 6585 §4 and RFC 9110 §10.2.3 Retry-After; Infinite Campus partner rules")
def honoured_retry_after(j: Judgement) -> Outcome:
    """After a 429 Too Many Requests with ``Retry-After: N`` the consumer must send nothing
    for N seconds, then retry. Requests sent sooner are findings."""
    limited = [e for e in j.data if e.status == 429]
    if not limited:
        return skipped("no request was answered 429")
    for answer in limited:
        wait = _seconds(answer.header("retry-after"))
        too_soon = [e for e in j.data
                    if answer.end < e.start < answer.end + wait - RETRY_AFTER_SLACK]
        if too_soon:
            gap = too_soon[0].start - answer.end
            raise j.finding(f"a 429 asked for {wait:g} s of quiet; the next request came "
                            f"after {gap:.3f} s ({len(too_soon)} request(s) too soon)",
                            answer, *too_soon)
    return passed(f"{len(limited)} 429 answer(s), each waited out")


def _seconds(value: str | None) -> float:
    try:
        return max(0.0, float(value or 0))
    except ValueError:
        return 0.0


@consumer_check("OR-CON-RETRY-001", "The consumer backed off after a server error",
                "HTTP semantics: 5xx answers are retried with backoff")
def backed_off(j: Judgement) -> Outcome:
    """A 500, 502, 503 or 504 answer may be retried, but not at once: wait (at least 100 ms,
    better an exponential backoff) before the next request, so a struggling provider can
    recover."""
    errors = [e for e in j.data if e.status in (500, 502, 503, 504)]
    if not errors:
        return skipped("no request was answered with a server error")
    for answer in errors:
        wait = max(MIN_BACKOFF, _seconds(answer.header("retry-after")))
        too_soon = [e for e in j.data
                    if answer.end < e.start < answer.end + wait - RETRY_AFTER_SLACK / 2]
        if too_soon:
            raise j.finding(f"after a {answer.status} the next request came "
                            f"{too_soon[0].start - answer.end:.3f} s later (at least "
                            f"{wait:g} s expected)", answer, *too_soon)
    return passed(f"{len(errors)} server error(s), each followed by a pause")


@consumer_check("OR-CON-CONC-001", "At most 5 requests were in flight at once",
                "Infinite Campus partner rules: at most 5 concurrent requests per connection")
def bounded_concurrency(j: Judgement) -> Outcome:
    """Providers limit how many requests one client may have open; Infinite Campus asks for at
    most five. A consumer that fans out (one thread per page) overloads the district's SIS."""
    limit = int(j.header.get("max_concurrency", 5))
    moments = sorted([(e.start, 1, e.seq) for e in j.all] + [(e.end, -1, e.seq) for e in j.all],
                     key=lambda m: (m[0], m[1]))
    open_now: set[int] = set()
    worst: set[int] = set()
    for _, step, seq in moments:
        if step > 0:
            open_now.add(seq)
            if len(open_now) > len(worst):
                worst = set(open_now)
        else:
            open_now.discard(seq)
    if len(worst) > limit:
        overlapping = [e for e in j.all if e.seq in worst]
        raise j.finding(f"{len(worst)} requests were in flight at once (at most {limit})",
                        *overlapping)
    return passed(f"at most {max(len(worst), 1)} request(s) in flight")


def _covered(pages: list[Recorded]) -> tuple[int, int]:
    """(records covered without a gap from offset 0, the collection's size as last seen)."""
    spans = []
    total = 0
    for page in pages:
        if not page.ok or page.count is None:
            continue
        offset = int(page.params.get("offset", "0") or 0) if page.params.get(
            "offset", "0").isdigit() else 0
        spans.append((offset, offset + page.count))
        total = int(page.header("x-total-count") or total)
    reached = 0
    for start, end in sorted(spans):
        if start > reached:
            break
        reached = max(reached, end)
    return reached, total


@consumer_check("OR-CON-PAGE-001", "Every collection it started was walked to the end",
                "OneRoster 1.2 REST binding §3.4 paging; Link rel=next")
def walked_to_the_end(j: Judgement) -> Outcome:
    """A consumer that reads a collection must read all of it: follow ``Link: rel="next"``, or
    advance ``offset`` by the records actually received until an empty page. A page shorter
    than asked is not the end (providers cap page sizes) and ``X-Total-Count`` can change
    while walking. Gaps and early stops leave students out of the LMS."""
    if not j.walks:
        return skipped("the consumer read no collection")
    short = []
    for (_phase, path, query), pages in j.walks.items():
        reached, total = _covered(pages)
        if reached < total or not any(p.ok for p in pages):
            short.append((path, query, reached, total, pages))
    if short:
        path, query, reached, total, pages = short[0]
        described = f"{path}" + (f" ({dict(query)})" if query else "")
        how_far = (f"read without a gap up to record {reached} of {total}" if total
                   else "never answered with a page")
        raise j.finding(f"{len(short)} walk(s) incomplete: {described} {how_far}",
                        *pages[-3:])
    return passed(f"{len(j.walks)} collection walk(s), each complete")


@consumer_check("OR-CON-PAGE-002", "Page sizes asked stay within the provider's maximum",
                "OneRoster 1.2 REST binding §3.4 paging; Infinite Campus: at most 50,000")
def page_size_within_maximum(j: Judgement) -> Outcome:
    """``limit`` must not exceed what the provider serves per page (50,000 on Infinite
    Campus); larger values are refused or silently cut."""
    maximum = int(j.header.get("max_limit", 50_000))
    over = [e for e in j.data if e.params.get("limit", "").isdigit()
            and int(e.params["limit"]) > maximum]
    if over:
        raise j.finding(f"limit above {maximum} in {len(over)} request(s)", *over)
    return passed(f"every limit at most {maximum}")


@consumer_check("OR-CON-QUERY-001", "Filters, sorts and field selections were valid",
                "OneRoster 1.2 REST binding §3.5-3.7 filter, sort, fields")
def valid_queries(j: Judgement) -> Outcome:
    """Every ``filter``, ``sort``/``orderBy`` and ``fields`` must use the spec's syntax and
    fields the collection has. A 400 answer to a query means the consumer's sync silently
    read nothing."""
    refused = [e for e in j.data if e.method == "GET" and e.status == 400 and not e.fault
               and (e.code_minor or "") in QUERY_ERRORS]
    if refused:
        first = refused[0]
        raise j.finding(f"{len(refused)} query(ies) refused: {first.description}", *refused)
    return passed("no query was refused")


@consumer_check("OR-CON-QUERY-002", "Only endpoints the provider has were requested",
                "OneRoster 1.2 REST binding §2 endpoints")
def known_endpoints(j: Judgement) -> Outcome:
    """Paths must be the spec's (``/ims/oneroster/rostering/v1p2/...`` in 1.2); a 404 for an
    unknown endpoint or a 405 for a method means the consumer is built for another layout."""
    wrong = [e for e in j.data if e.status == 405 or (
        e.status == 404 and "no endpoint" in (e.description or ""))]
    if wrong:
        raise j.finding(f"{len(wrong)} request(s) to unknown endpoints: {_ids(wrong)}", *wrong)
    return passed("every request went to a known endpoint")


def _delta_phase(j: Judgement) -> list[Recorded]:
    return [e for e in j.data if e.phase == "delta"]


@consumer_check("OR-CON-DELTA-001", "The delta sync used dateLastModified filters",
                "OneRoster 1.2 REST binding §3.5: filter=dateLastModified>'...'")
def used_delta_filters(j: Judgement) -> Outcome:
    """In a delta sync the consumer asks only for what changed since its last sync:
    ``filter=dateLastModified>'<timestamp>'``. Re-reading everything works but costs the
    district a full sync every time."""
    delta = _delta_phase(j)
    if "delta" not in j.header.get("phases", []):
        return skipped("the scenario has no delta sync")
    filtered = [e for e in delta if "dateLastModified" in e.params.get("filter", "")]
    if not filtered:
        raise j.finding("no request of the delta sync filtered on dateLastModified",
                        *delta[:3])
    return passed(f"{len(filtered)} delta request(s) filtered on dateLastModified")


@consumer_check("OR-CON-DELTA-002", "The delta sync fetched every changed record",
                "OneRoster 1.2: dateLastModified and status tobedeleted carry changes")
def fetched_every_change(j: Judgement) -> Outcome:
    """Every record the district changed between the syncs (new students, withdrawals now
    ``tobedeleted``, schedule and name changes) must be read by the delta sync, for every
    collection the consumer keeps. A missed ``tobedeleted`` leaves a withdrawn student active
    in the LMS."""
    ticks = [t for t in j.recording.events_named("tick") if t.get("phase") == "delta"]
    if not ticks:
        return skipped("the district did not change between syncs")
    synced = {e.envelope for e in j.data if e.phase == "full" and e.ok and e.envelope}
    seen = {i for e in j.data if e.phase == "delta" and e.ok for i in e.ids}
    missed: dict[str, list[str]] = {}
    for tick in ticks:
        for table, ids in (tick.get("changed") or {}).items():
            if table in synced:
                lost = [i for i in ids if i not in seen]
                if lost:
                    missed.setdefault(table, []).extend(lost)
    if missed:
        listed = "; ".join(f"{table}: {len(ids)} (e.g. {ids[0]})"
                           for table, ids in missed.items())
        raise j.finding(f"changed records the delta sync never read: {listed}")
    return passed("every changed record of the synced collections was read")


def _writes(j: Judgement) -> list[Recorded]:
    return [e for e in j.data if e.is_write and e.is_gradebook]


@consumer_check("OR-CON-GRADE-001", "Every grade-book write was accepted",
                "OneRoster 1.2 Gradebook: line items and results; Infinite Campus rules")
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
                "OneRoster 1.2 Gradebook: PUT lineItems and results")
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
                "OneRoster 1.2 Gradebook: PUT with a client-chosen sourcedId is idempotent")
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
    writes = _writes(j)
    if writes:
        raise j.finding(f"{len(writes)} grade-book write attempt(s)", *writes)
    return passed("no grade-book write was attempted")


@consumer_check("OR-CON-RESULT-001", "The consumer's roster matches the district",
                "Harness: the roster the consumer kept equals the provider's after the sync")
def roster_matches(j: Judgement) -> Outcome:
    """What the consumer believes the roster is (handed back with ``--result``) must equal
    the district after the scenario: no active record missing, no record the district does
    not have, no ``tobedeleted`` record kept active."""
    if j.roster_error:
        raise j.finding(j.roster_error)
    if j.roster is None:
        return skipped("the consumer handed back no roster (--result)")
    truth_events = j.recording.events_named("roster")
    if not truth_events:
        return skipped("the recording holds no district roster to compare with")
    truth: dict[str, dict[str, str]] = truth_events[-1]["records"]
    problems = []
    for collection, theirs in sorted(j.roster.items()):
        ours = truth.get(collection)
        if ours is None:
            continue
        missing = [i for i, status in ours.items() if status == "active" and i not in theirs]
        extra = [i for i in theirs if i not in ours]
        stale = [i for i, status in theirs.items()
                 if ours.get(i) == "tobedeleted" and status != "tobedeleted"]
        for what, ids in (("missing", missing), ("unknown", extra),
                          ("kept active but tobedeleted", stale)):
            if ids:
                problems.append(f"{collection}: {len(ids)} {what} (e.g. {ids[0]})")
    if problems:
        raise j.finding("the consumer's roster differs: " + "; ".join(problems))
    compared = sorted(set(j.roster) & set(truth))
    if not compared:
        raise j.finding("the roster handed back has none of the district's collections")
    return passed(f"{', '.join(compared)} match the district")
