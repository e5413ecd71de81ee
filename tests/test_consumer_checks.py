"""Each consumer check on small hand-written recordings: quiet on good traffic, a finding on
the one mistake it names (the end-to-end tests run real consumers; these pin each rule)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest

from harness.consumer.judge import judge
from harness.consumer.recording import RecordingError, load
from harness.consumer.roster import RosterError, load_roster

USERS = "/ims/oneroster/rostering/v1p2/users"
LINE_ITEMS = "/ims/oneroster/gradebook/v1p2/lineItems"


class Script:
    """A recording built exchange by exchange, on a clock that only moves forward."""

    def __init__(self, **header: Any) -> None:
        self.header = {"type": "header", "format": "oneroster-harness-recording",
                       "format_version": 1, "scenario": "test", "phases": ["full"],
                       "max_limit": 50000, "max_concurrency": 5, **header}
        self.lines: list[dict] = []
        self.clock = 0.0
        self.phase = "full"

    def at(self, seconds: float) -> Script:
        self.clock = seconds
        return self

    def token(self, issued: str = "token-1", status: int = 200, took: float = 0.01) -> Script:
        return self._add({"method": "POST", "path": "/oauth2/token", "auth": "basic",
                          "status": status, "issued": issued if status == 200 else None,
                          "expires_in": 3600}, took)

    def get(self, path: str = USERS, query: str = "limit=100&offset=0", status: int = 200,
            token: str = "token-1", count: int | None = None, total: int | None = None,
            took: float = 0.01, **extra: Any) -> Script:
        headers = {} if total is None else {"x-total-count": str(total)}
        headers.update(extra.pop("headers", {}))
        ids = [f"u{i}" for i in range(count or 0)]
        return self._add({"method": "GET", "path": path, "query": query, "auth": "bearer",
                          "token": token, "status": status, "response_headers": headers,
                          "envelope": "users" if count is not None else None, "ids": ids,
                          "count": count, **extra}, took)

    def signed(self, nonce: str, path: str = USERS, query: str = "limit=100&offset=0",
               status: int = 200, timestamp: int | None = None, took: float = 0.01,
               **extra: Any) -> Script:
        """A read signed with OAuth 1.0a; the timestamp defaults to the wall clock of the
        moment it was sent (the header's epoch plus the script's clock)."""
        stamp = int(self.header.get("epoch", 0) + self.clock) if timestamp is None else timestamp
        return self.get(path=path, query=query, status=status, auth="oauth1", token=None,
                        took=took, oauth1={"nonce": nonce, "timestamp": str(stamp),
                                           "signature_method": "HMAC-SHA256",
                                           "version": "1.0"}, **extra)

    def write(self, path: str, status: int = 201, method: str = "PUT", took: float = 0.01,
              **extra: Any) -> Script:
        return self._add({"method": method, "path": path, "query": "", "auth": "bearer",
                          "token": "token-1", "status": status, **extra}, took)

    def event(self, event: str, **fields: Any) -> Script:
        self.lines.append({"type": "event", "event": event, "at": self.clock,
                           "phase": self.phase, **fields})
        return self

    def _add(self, exchange: dict, took: float) -> Script:
        start = self.clock
        self.clock += took
        self.lines.append({"type": "exchange", "seq": len(self.lines), "start": start,
                           "end": self.clock, "phase": self.phase, **exchange})
        self.clock += 0.001
        return self

    def verdicts(self, tmp_path: Path, roster: dict | None = None) -> dict[str, str]:
        path = tmp_path / "recording.ndjson"
        path.write_text("\n".join(json.dumps(line) for line in [self.header, *self.lines]))
        return {r.id: r.status for r in judge(load(path), roster).results}


def good_walk() -> Script:
    return Script().token().get(count=100, total=150).get(
        query="limit=100&offset=100", count=50, total=150).event("command", exit_code=0)


def failing(verdicts: dict[str, str]) -> set[str]:
    return {check for check, status in verdicts.items() if status == "failed"}


def test_a_good_walk_passes_everything(tmp_path: Path) -> None:
    assert failing(good_walk().verdicts(tmp_path)) == set()


@pytest.mark.parametrize("script, check", [
    (Script().token(status=401).token().get(count=5, total=5), "OR-CON-AUTH-001"),
    (Script().token().get(count=5, total=5, auth="none", token=None), "OR-CON-AUTH-001"),
    (Script().token().get(count=100, total=150).token("token-2").get(
        query="limit=100&offset=100", count=50, total=150, token="token-2"), "OR-CON-AUTH-002"),
    (Script().token().get(status=401).token("token-2").token("token-3").token("token-4"),
     "OR-CON-AUTH-003"),
    (Script().token().get(status=429, headers={"retry-after": "1"}).at(0.5).get(
        count=5, total=5), "OR-CON-RATE-001"),
    (Script().token().get(status=503).get(count=5, total=5), "OR-CON-RETRY-001"),
    (Script().token().get(count=100, total=150).get(query="limit=100&offset=120", count=30,
                                                    total=150), "OR-CON-PAGE-001"),
    (Script().token().get(query="limit=60000", count=5, total=5), "OR-CON-PAGE-002"),
    (Script().token().get(query="filter=nope='x'", status=400,
                          code_minor="invalid_filter_field"), "OR-CON-QUERY-001"),
    (Script().token().get(path="/ims/oneroster/v1p2/users", status=404,
                          description="Unknown Object: no endpoint at /ims/oneroster/v1p2/users"),
     "OR-CON-QUERY-002"),
    (Script().token().write(LINE_ITEMS + "/a", status=422, code_minor="invaliddata",
                            description="dueDate outside the class's terms"),
     "OR-CON-GRADE-001"),
    (Script(gradebook="write").token().write(LINE_ITEMS + "/a"), "OR-CON-GRADE-002"),
    (Script().token().write(LINE_ITEMS + "/a", status=503).at(1).write(LINE_ITEMS + "/b"),
     "OR-CON-GRADE-003"),
    (Script(vendor_key=True).token().write(LINE_ITEMS + "/a", vendor_header=False),
     "OR-CON-GRADE-004"),
    (Script(connection_type="unsupported").token().write(LINE_ITEMS + "/a", status=403),
     "OR-CON-GRADE-005"),
    (Script().token().event("command", exit_code=1, phase="full"), "OR-CON-RUN-001"),
])
def test_each_mistake_is_caught_by_its_check(tmp_path: Path, script: Script, check: str) -> None:
    assert check in failing(script.verdicts(tmp_path))


def retry(status: int, retry_after: str | None, gap: float) -> Script:
    """A failed read, then its retry ``gap`` seconds after the answer ended."""
    headers = {} if retry_after is None else {"retry-after": retry_after}
    script = Script().token().get(status=status, headers=headers)
    answered = script.lines[-1]["end"]
    return script.at(answered + gap).get(count=5, total=5)


@pytest.mark.parametrize("status, retry_after, gap, verdict", [
    (503, "0", 0.002, "passed"),  # the provider said "at once": obeying it is right
    (500, "0", 0.002, "passed"),
    (503, None, 0.002, "failed"),  # no Retry-After: a backoff of our own is due
    (503, None, 0.2, "passed"),
    (503, "1", 0.5, "failed"),  # less than the Retry-After of 1 s
    (503, "1", 1.0, "passed"),
])
def test_a_server_errors_retry_after_wins_over_our_backoff(
        tmp_path: Path, status: int, retry_after: str | None, gap: float, verdict: str) -> None:
    verdicts = retry(status, retry_after, gap).verdicts(tmp_path)
    assert verdicts["OR-CON-RETRY-001"] == verdict


@pytest.mark.parametrize("retry_after, gap, verdict", [
    ("0", 0.002, "passed"),
    ("1", 0.5, "failed"),
    ("1", 1.0, "passed"),
    (None, 0.002, "failed"),  # a 429 without Retry-After still asks for a pause
    (None, 0.2, "passed"),
])
def test_a_429s_retry_after_is_honoured_including_zero(
        tmp_path: Path, retry_after: str | None, gap: float, verdict: str) -> None:
    verdicts = retry(429, retry_after, gap).verdicts(tmp_path)
    assert verdicts["OR-CON-RATE-001"] == verdict


def test_an_http_date_retry_after_is_measured_from_the_answer(tmp_path: Path) -> None:
    def script(gap: float) -> Script:
        when = format_datetime(datetime.fromtimestamp(1_800_000_002, UTC), usegmt=True)
        made = Script(epoch=1_800_000_000.0).token().at(1.0)
        made.get(status=503, headers={"retry-after": when})  # sent at 1.01 s: 1 s to wait
        return made.at(made.lines[-1]["end"] + gap).get(count=5, total=5)

    assert script(0.3).verdicts(tmp_path)["OR-CON-RETRY-001"] == "failed"
    assert script(1.0).verdicts(tmp_path)["OR-CON-RETRY-001"] == "passed"


EPOCH = 1_800_000_000.0
OAUTH1_CHECKS = ("OR-CON-AUTH-004", "OR-CON-AUTH-005", "OR-CON-AUTH-006")
REPLAY = "oauth_nonce was already used"


def signed_walk() -> Script:
    return Script(epoch=EPOCH).signed("n1", count=100, total=150).signed(
        "n2", query="limit=100&offset=100", count=50, total=150)


def test_a_signing_consumer_is_judged_by_its_signatures_not_by_tokens(tmp_path: Path) -> None:
    verdicts = signed_walk().verdicts(tmp_path)
    assert failing(verdicts) == set()
    assert [verdicts[c] for c in ("OR-CON-AUTH-001", "OR-CON-AUTH-002", "OR-CON-AUTH-003")] \
        == ["skipped"] * 3
    assert verdicts["OR-CON-AUTH-004"] == verdicts["OR-CON-AUTH-005"] == "passed"
    assert verdicts["OR-CON-AUTH-006"] == "skipped"  # nothing was refused as a replay
    path = tmp_path / "recording.ndjson"
    messages = {r.id: r.message for r in judge(load(path)).results}
    assert messages["OR-CON-AUTH-001"] == "not applicable: the consumer signs with OAuth 1.0a"
    # A bearer consumer is not judged by the OAuth 1.0a checks.
    bearer = good_walk().verdicts(tmp_path)
    assert [bearer[c] for c in OAUTH1_CHECKS] == ["skipped"] * 3


@pytest.mark.parametrize("script, check", [
    # The retry of a failed request re-sent the first signature.
    (Script(epoch=EPOCH).signed("n1", status=503).at(1).signed("n1", count=5, total=5),
     "OR-CON-AUTH-004"),
    # An unsigned request from a consumer that signs.
    (Script(epoch=EPOCH).signed("n1", count=5, total=5).get(
        path=USERS + "/u1", auth="none", token=None), "OR-CON-AUTH-004"),
    (Script(epoch=EPOCH).signed("n1", status=401,
                                description="OAuth signature does not match the request"),
     "OR-CON-AUTH-004"),
    # Signed with a clock 20 minutes slow, and one 10 minutes fast.
    (Script(epoch=EPOCH).signed("n1", count=5, total=5, timestamp=int(EPOCH) - 1200),
     "OR-CON-AUTH-005"),
    (Script(epoch=EPOCH).signed("n1", count=5, total=5, timestamp=int(EPOCH) + 600),
     "OR-CON-AUTH-005"),
    # Refused as a replay: never sent again, or sent again with the refused nonce.
    (Script(epoch=EPOCH).signed("n1", status=401, description=REPLAY, fault="nonce-refused"),
     "OR-CON-AUTH-006"),
    (Script(epoch=EPOCH).signed("n1", status=401, description=REPLAY,
                                fault="nonce-refused").signed("n1", status=401,
                                                              description=REPLAY),
     "OR-CON-AUTH-006"),
])
def test_each_signing_mistake_is_caught_by_its_check(tmp_path: Path, script: Script,
                                                      check: str) -> None:
    verdicts = script.verdicts(tmp_path)
    assert check in failing(verdicts)
    assert {"OR-CON-AUTH-001", "OR-CON-AUTH-002", "OR-CON-AUTH-003"} & failing(verdicts) == set()


def test_a_replayed_nonce_signed_anew_passes(tmp_path: Path) -> None:
    script = Script(epoch=EPOCH).signed("n1", status=401, description=REPLAY,
                                        fault="nonce-refused").signed("n2", count=5, total=5)
    verdicts = script.verdicts(tmp_path)
    assert verdicts["OR-CON-AUTH-006"] == "passed"
    assert failing(verdicts) == set()


V11_USERS = "/ims/oneroster/v1p1/users"
# Infinite Campus's 1.1 base names v1p1 in its prefix; only the path after /ims/oneroster says
# which version a request spoke (a 1.2 client pointed at that base still spoke 1.2).
CAMPUS_V11 = "/campus/api/oneroster/v1p1/district"


@pytest.mark.parametrize("paths, version", [
    ((USERS,), "1.2"),
    ((V11_USERS,), "1.1"),
    ((V11_USERS, USERS), "1.1 and 1.2"),
    ((CAMPUS_V11 + USERS,), "1.2"),
    ((CAMPUS_V11 + V11_USERS,), "1.1"),
])
def test_the_summary_names_the_versions_the_consumer_used(tmp_path: Path, paths: tuple,
                                                           version: str) -> None:
    script = Script().token()
    for path in paths:
        script.get(path=path, count=5, total=5)
    path = tmp_path / "recording.ndjson"
    script.verdicts(tmp_path)
    summary = judge(load(path))
    assert summary.version == version
    rule = next(r.rule for r in summary.results if r.id == "OR-CON-PAGE-001")
    assert rule.startswith("OneRoster 1.1" if version == "1.1" else "OneRoster 1.2")
    assert ("OneRoster 1.1 §3 paging" in rule) == ("1.1" in version)
    # A rule both versions share is cited once, as it is.
    assert next(r.rule for r in summary.results if r.id == "OR-CON-CONC-001").startswith(
        "Infinite Campus partner rules")


def test_a_consumer_that_made_no_request_is_named_by_the_offered_version(tmp_path: Path) -> None:
    path = tmp_path / "recording.ndjson"
    Script(version="1.1").event("command", exit_code=1).verdicts(tmp_path)
    assert judge(load(path)).version == "1.1"


def test_checks_with_no_traffic_to_judge_are_skipped_with_the_reason(tmp_path: Path) -> None:
    """A consumer that exited 0 without a request (or a recording without traffic): nothing
    was judged, so nothing passed; and it is not conformant (AUTH-001 wants requests)."""
    path = tmp_path / "recording.ndjson"
    Script(connection_type="unsupported").at(2.5).event("command", exit_code=0).verdicts(
        tmp_path)
    summary = judge(load(path))
    results = {r.id: r for r in summary.results}
    assert {i for i, r in results.items() if r.status == "passed"} == {"OR-CON-RUN-001"}
    for check, why in {
        "OR-CON-AUTH-002": "the consumer asked for no token",
        "OR-CON-CONC-001": "the consumer sent no request",
        "OR-CON-PAGE-001": "the consumer read no collection",
        "OR-CON-PAGE-002": "the consumer sent no OneRoster request",
        "OR-CON-QUERY-001": "the consumer read nothing (no GET request)",
        "OR-CON-QUERY-002": "the consumer sent no OneRoster request",
        "OR-CON-GRADE-005": "the consumer sent no OneRoster request",
    }.items():
        assert (results[check].status, results[check].message) == ("skipped", why), check
    assert results["OR-CON-AUTH-001"].status == "failed" and not summary.conformant
    # The report's duration is the session's (its last event at 2.5 s), not the judging's.
    assert summary.seconds == 2.5


def test_the_duration_is_the_recorded_sessions(tmp_path: Path) -> None:
    path = tmp_path / "recording.ndjson"
    good_walk().at(7.25).event("end").verdicts(tmp_path)
    assert judge(load(path)).seconds == 7.25


def test_a_11_warning_about_a_query_is_a_finding(tmp_path: Path) -> None:
    script = Script().token().get(path=V11_USERS, query="fields=nope&limit=100", count=5,
                                  total=5, code_minor="invalid_selection_field",
                                  description="unknown field nope; all fields returned")
    assert "OR-CON-QUERY-001" in failing(script.verdicts(tmp_path))


def test_a_walk_without_paging_headers_is_judged_by_the_count_withheld(tmp_path: Path) -> None:
    def walk(*pages: tuple[int, int]) -> Script:
        script = Script().token()
        for offset, count in pages:
            script.get(query=f"limit=100&offset={offset}", count=count,
                       withheld={"x-total-count": "150"})
        return script

    assert walk((0, 100), (100, 50), (150, 0)).verdicts(tmp_path)["OR-CON-PAGE-001"] == "passed"
    assert walk((0, 100)).verdicts(tmp_path)["OR-CON-PAGE-001"] == "failed"


def expiry(*then: tuple[str, dict], exit_code: int | None = 1,
           last_line: str = "error: token request -> 401: invalid_client") -> Script:
    """A good full run, then a run whose credentials were refused and what it did."""
    script = Script(phases=["full", "delta"]).token().get(count=5, total=5)
    script.event("command", exit_code=0)
    script.phase = "delta"
    script.event("credentials-expired", expires="2026-12-03")
    for kind, extra in then:
        if kind == "token":
            script.token(status=401, **extra)
        else:
            script.get(status=401, **extra)
    return script.event("command", exit_code=exit_code, timed_out=exit_code is None,
                        last_line=last_line)


def test_a_run_that_stops_on_refused_credentials_passes(tmp_path: Path) -> None:
    verdicts = expiry(("token", {})).verdicts(tmp_path)
    assert failing(verdicts) == set()
    assert verdicts["OR-CON-AUTH-007"] == verdicts["OR-CON-AUTH-008"] == "passed"
    assert verdicts["OR-CON-RUN-001"] == "passed"  # the refused run may fail: 007 judges it
    assert verdicts["OR-CON-AUTH-001"] == "passed"  # its refused token request is 008's


@pytest.mark.parametrize("script, check", [
    (expiry(("token", {}), exit_code=0), "OR-CON-AUTH-007"),  # claims success
    (expiry(("token", {}), last_line=""), "OR-CON-AUTH-007"),  # fails without a word
    (expiry(("token", {}), exit_code=None), "OR-CON-AUTH-007"),  # hangs
    (expiry(*[("token", {})] * 4), "OR-CON-AUTH-008"),  # a storm of token requests
    (expiry(("token", {}), ("get", {"auth": "none", "token": None})), "OR-CON-AUTH-008"),
])
def test_each_refused_credentials_mistake_is_caught(tmp_path: Path, script: Script,
                                                     check: str) -> None:
    verdicts = script.verdicts(tmp_path)
    assert failing(verdicts) == {check}


CLASSES = "/ims/oneroster/rostering/v1p2/classes"


def rolled_over(second_run: list[str]) -> Script:
    """Classes c1, c2 of last year read; the year changes to classes n1, n2; the second run
    reads ``second_run``."""
    script = Script(phases=["full", "delta"]).token()
    script.get(path=CLASSES, count=2, total=2, envelope="classes", ids=["c1", "c2"])
    script.phase = "delta"
    script.event("rollover", old_school_year=2027, school_year=2028)
    script.token("token-2").get(path=CLASSES, count=len(second_run), total=2,
                                envelope="classes", ids=second_run)
    return script.event("roster", records={"classes": {"n1": "active", "n2": "active"}})


def test_a_new_school_year_must_be_read_and_the_old_one_dropped(tmp_path: Path) -> None:
    good = rolled_over(["n1", "n2"])
    verdicts = good.verdicts(tmp_path, {"classes": {"n1": "active", "n2": "active",
                                                    "c1": "tobedeleted"}})
    assert verdicts["OR-CON-YEAR-001"] == verdicts["OR-CON-YEAR-002"] == "passed"
    # Its second run re-read everything without a dateLastModified filter: after a rollover
    # that is right (old-year records vanish without tobedeleted), not a lazy delta. Found
    # with a published 1.1 library that re-syncs in full every run.
    assert verdicts["OR-CON-DELTA-001"] == "skipped"
    assert rolled_over(["n1"]).verdicts(tmp_path)["OR-CON-YEAR-001"] == "failed"
    assert good.verdicts(tmp_path)["OR-CON-YEAR-002"] == "skipped"  # no roster handed back
    kept = good.verdicts(tmp_path, {"classes": {"n1": "active", "n2": "active",
                                                "c2": "active"}})
    assert kept["OR-CON-YEAR-002"] == "failed"
    # Without a rollover neither check applies.
    assert [good_walk().verdicts(tmp_path)[c] for c in ("OR-CON-YEAR-001", "OR-CON-YEAR-002")] \
        == ["skipped", "skipped"]


def test_five_requests_in_flight_pass_and_six_fail(tmp_path: Path) -> None:
    def fan_out(width: int) -> Script:
        script = Script().token()
        for i in range(width):
            script.at(1 + i * 0.001).get(query=f"limit=10&offset={i * 10}", count=10,
                                         total=10 * width, took=0.5)
        return script

    assert fan_out(5).verdicts(tmp_path)["OR-CON-CONC-001"] == "passed"
    assert fan_out(6).verdicts(tmp_path)["OR-CON-CONC-001"] == "failed"


def delta_script(filtered: bool, sees_change: bool) -> Script:
    script = Script(phases=["full", "delta"]).token().get(count=5, total=5)
    script.phase = "delta"
    script.event("tick", changed={"users": ["u9"], "classes": ["c1"]})
    query = "filter=dateLastModified>'2026-11-02T07:00:00Z'&limit=100" if filtered else \
        "limit=100"
    script.token("token-2").get(query=query, count=1 if sees_change else 0,
                                total=1 if sees_change else 0)
    if sees_change:
        script.lines[-1]["ids"] = ["u9"]
    return script


def test_delta_checks(tmp_path: Path) -> None:
    good = delta_script(filtered=True, sees_change=True).verdicts(tmp_path)
    assert good["OR-CON-DELTA-001"] == good["OR-CON-DELTA-002"] == "passed"
    unfiltered = delta_script(filtered=False, sees_change=True).verdicts(tmp_path)
    assert unfiltered["OR-CON-DELTA-001"] == "failed"
    missed = delta_script(filtered=True, sees_change=False).verdicts(tmp_path)
    assert missed["OR-CON-DELTA-002"] == "failed"  # classes were never synced: not asked for
    # A full sync that read no collection has no changes to miss: nothing judged.
    idle = Script(phases=["full", "delta"]).token()
    idle.phase = "delta"
    idle.event("tick", changed={"users": ["u9"]})
    assert idle.verdicts(tmp_path)["OR-CON-DELTA-002"] == "skipped"


def test_roster_comparison(tmp_path: Path) -> None:
    script = good_walk().event("roster", records={"users": {
        "u1": "active", "u2": "tobedeleted", "u3": "active"}})
    same = {"users": {"u1": "active", "u3": "active"}}
    assert script.verdicts(tmp_path, same)["OR-CON-RESULT-001"] == "passed"
    for wrong in ({"users": {"u1": "active"}},  # u3 missing
                  {"users": {"u1": "active", "u3": "active", "u7": "active"}},  # unknown
                  {"users": {"u1": "active", "u2": "active", "u3": "active"}}):  # stale
        assert script.verdicts(tmp_path, wrong)["OR-CON-RESULT-001"] == "failed"


def test_roster_files_json_and_csv(tmp_path: Path) -> None:
    (tmp_path / "r.json").write_text(json.dumps(
        {"users": ["u1", {"sourcedId": "u2", "status": "tobedeleted"}]}))
    assert load_roster(tmp_path / "r.json") == {"users": {"u1": "active", "u2": "tobedeleted"}}
    (tmp_path / "classes.csv").write_text("sourcedId,status,title\nc1,active,Math\nc2,,Art\n")
    assert load_roster(tmp_path / "classes.csv") == {"classes": {"c1": "active",
                                                                 "c2": "active"}}
    for name, text, message in (("bad.json", "{", "is not JSON"),
                                ("list.json", "[]", "must hold an object"),
                                ("users.csv", "id\n1\n", "sourcedId column")):
        (tmp_path / name).write_text(text)
        with pytest.raises(RosterError, match=message):
            load_roster(tmp_path / name)


@pytest.mark.parametrize("text, message", [
    ("", "no header line"),
    ('{"type": "exchange"}\n', "not a recording line"),
    ('{"type":"header","format":"oneroster-harness-recording","format_version":9}\n',
     "format version 9"),
])
def test_unreadable_recordings_are_one_line_errors(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = tmp_path / "r.ndjson"
    path.write_text(text)
    with pytest.raises(RecordingError, match=message):
        load(path)


# A consumer that reads each collection in one big page sends too few requests to meet a
# fault scenario's scheduled misbehaviour (found with a published 1.1 library asking
# limit=10000): without OR-CON-RUN-002 it passed rate-limit having shown nothing.
@pytest.mark.parametrize("scenario, faults, verdict", [
    ("rate-limit", [], "failed"),
    ("rate-limit", [("rate-limit", 429)], "passed"),
    ("token-expiry", [("nonce-refused", 401)], "passed"),  # the OAuth 1.0a twin counts
    ("flaky", [("server-error", 503)], "failed"),  # the 500 without Retry-After never came
    ("flaky", [("server-error", 503), ("server-error", 500)], "passed"),
    ("full-sync", [], "skipped"),  # nothing scheduled to meet
])
def test_a_fault_scenario_whose_fault_never_reached_the_consumer_proves_nothing(
        tmp_path: Path, scenario: str, faults: list, verdict: str) -> None:
    script = Script(scenario=scenario).token()
    for fault, status in faults:
        script.get(status=status, fault=fault)
    script.get(count=5, total=5).event("command", exit_code=0)
    verdicts = script.verdicts(tmp_path)
    assert verdicts["OR-CON-RUN-002"] == verdict
    if verdict == "failed":
        path = tmp_path / "recording.ndjson"
        message = next(r.message for r in judge(load(path)).results
                       if r.id == "OR-CON-RUN-002")
        assert "shows nothing about " + scenario in message


def test_a_run_that_failed_on_the_first_fault_is_left_to_run_001(tmp_path: Path) -> None:
    script = Script(scenario="flaky").token().get(status=503, fault="server-error")
    verdicts = script.event("command", exit_code=1).verdicts(tmp_path)
    assert verdicts["OR-CON-RUN-001"] == "failed"
    assert verdicts["OR-CON-RUN-002"] == "skipped"  # the 500 never came: it had given up
