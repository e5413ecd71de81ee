"""The night judged: correctness under load, as check results (OR-NIGHT-nnn) in the same
``RunSummary`` the checker writes, so results.json and junit.xml read like ``check``'s.

* OR-NIGHT-001 every walk of a collection reached its end;
* OR-NIGHT-002 no record missing or read twice against X-Total-Count (against the mock, each
  full sync read what the district serves), and every help-desk lookup found the person it
  looked for;
* OR-NIGHT-003 every acknowledged grade write read back as written;
* OR-NIGHT-004 no 5xx; OR-NIGHT-005 no timeouts (nor broken connections);
* OR-NIGHT-006 every 429 carried Retry-After;
* OR-NIGHT-007 every vendor's first sync finished inside the sync window.
"""

from __future__ import annotations

from harness.model import CheckResult, RunSummary

from .ledger import NightLog, Sync
from .profile import Night

SPEC = "OneRoster 1.2 §3.4 (paging), Infinite Campus partner rules (5 in flight, Retry-After)"
TITLES = {
    "OR-NIGHT-001": "Every walk of a collection reached its end under load",
    "OR-NIGHT-002": "No record missing or repeated against X-Total-Count; lookups find",
    "OR-NIGHT-003": "Grade writes are acknowledged and read back as written",
    "OR-NIGHT-004": "No 5xx answers under load",
    "OR-NIGHT-005": "No request timed out or lost its connection",
    "OR-NIGHT-006": "Every 429 carries Retry-After",
    "OR-NIGHT-007": "Every vendor's sync finished inside the sync window",
}
RULES = {
    "OR-NIGHT-001": "OneRoster 1.2 §3.4 paging", "OR-NIGHT-002": "OneRoster 1.2 §3.4 paging "
    "(X-Total-Count)", "OR-NIGHT-003": "OneRoster 1.2 Gradebook Service PUT",
    "OR-NIGHT-004": "OneRoster 1.2 §3.3 errors", "OR-NIGHT-005": "the sync window",
    "OR-NIGHT-006": "RFC 6585 §4, Infinite Campus partner rules",
    "OR-NIGHT-007": "the district's sync window",
}


# What ``explain OR-NIGHT-nnn`` prints: what the verdict means and what to do about it.
EXPLANATIONS = {
    "OR-NIGHT-001": "Each vendor walks its collections page by page (limit and offset) to the "
    "end. A walk that stops short, because a page kept failing after four retries or came "
    "back without its records, leaves the consumer's roster incomplete for the night. Look at "
    "the failing answers in locust_failures.csv and at the provider's logs for that time.",
    "OR-NIGHT-002": "A walk must read every record once: the distinct sourcedIds read must "
    "equal X-Total-Count, with none read twice. Pages that shift while many clients read (an "
    "offset counted over a list that changes, an unstable sort) repeat some records and skip "
    "others. Sort pages by a stable key (sourcedId) and count X-Total-Count from the same "
    "snapshot. Help-desk lookups by e-mail and username must find the person looked up; "
    "against the mock, each full sync must read what the district serves.",
    "OR-NIGHT-003": "Each grade-passback vendor PUTs line items and results, then reads each "
    "acknowledged write back. A write acknowledged (2xx) that reads back missing or changed "
    "was lost; a write refused under load (4xx) is a grade that never reached the grade "
    "book. Commit before answering, and answer 5xx with Retry-After when busy.",
    "OR-NIGHT-004": "A 5xx under load is a sync that must retry and may miss its window, even "
    "when the retry works. Find the failing operations in locust_failures.csv and size the "
    "provider for the district's night; when it is busy, answer 429 or 503 with Retry-After.",
    "OR-NIGHT-005": "A request that got no answer within --timeout seconds, or whose connection "
    "broke, stalls a vendor's sync. Look at the p99 chart in report.html for the operations "
    "that slowed down as vendors joined.",
    "OR-NIGHT-006": "A 429 must say when to come back (Retry-After, RFC 6585 §4): without it "
    "every consumer guesses, and most guess too early. The vendors honour Retry-After and back "
    "off 1, 2, 4, 8 s without it.",
    "OR-NIGHT-007": "Each vendor's first sync must finish inside the sync window (the "
    "profile's window, default the duration), counted from the start of the night; a sync "
    "that failed or was still running at the end missed it. The Syncs chart shows how many "
    "ran at once and when they finished.",
}


def _result(check_id: str, failures: list[str], passed: str, failed: str,
            skipped: str | None = None) -> CheckResult:
    if skipped is not None:
        status, message = "skipped", skipped
    elif failures:
        status, message = "failed", f"{failed}: " + "; ".join(failures[:3])
    else:
        status, message = "passed", passed
    return CheckResult(check_id, TITLES[check_id], RULES[check_id], "error", status, message,
                       items=tuple(failures))


def _records_n(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _walks(log: NightLog) -> CheckResult:
    bad = [f"{s.vendor} sync {s.number} {w.collection}: {w.error}"
           for s in log.syncs.values() for w in s.walks if w.error]
    done = sum(w.finished for s in log.syncs.values() for w in s.walks)
    if not done and not bad:
        return _result("OR-NIGHT-001", [], "", "", skipped="no walk finished or failed")
    return _result("OR-NIGHT-001", bad, f"{done} walks reached their end",
                   f"{len(bad)} walks failed ({done} reached their end)")


def _records(log: NightLog, district: dict[str, int]) -> CheckResult:
    bad, walks, lookups = [], 0, 0
    for s in log.syncs.values():
        lookups += s.lookups
        bad += [f"{s.vendor} lookup {miss}" for miss in s.lookups_missed]
        for w in s.walks:
            if not w.finished:
                continue
            walks += 1
            served = district.get(w.collection) if s.kind == "full-sync" else None
            if served is not None and w.distinct != served:
                bad.append(f"{s.vendor} {w.collection}: {w.distinct} distinct records read, "
                           f"the district serves {served}")
            if w.repeats:
                bad.append(f"{s.vendor} {w.collection}: {_records_n(w.repeats)} read twice "
                           f"(e.g. {', '.join(w.repeated[:3])})")
            if w.missing:
                bad.append(f"{s.vendor} {w.collection}: {w.missing} of the {w.total} records "
                           "of X-Total-Count never read")
            if w.extra:
                bad.append(f"{s.vendor} {w.collection}: {w.distinct} distinct records read, "
                           f"X-Total-Count said {w.total}")
    if not walks and not lookups:
        return _result("OR-NIGHT-002", [], "", "", skipped="no walk finished")
    return _result("OR-NIGHT-002", bad, f"{walks} walks read every record once; "
                   f"{lookups} lookups found their person",
                   f"{len(bad)} walks or lookups went wrong")


def _writes(log: NightLog) -> CheckResult:
    grading = [s for s in log.syncs.values() if s.kind == "grade-passback"]
    # A burst cut short by the end of the night never read its writes back: judged on the
    # bursts that finished, and on every write read back wrong.
    done = [s for s in grading if s.finished]
    acknowledged = sum(s.writes_acknowledged for s in done)
    read_back = sum(s.read_back for s in done)
    bad = [f"{s.vendor} {line}" for s in grading
           for line in [*s.read_back_wrong, *(f"refused: {w}" for w in s.writes_refused)]]
    bad += [f"{s.vendor} burst {s.number}: {s.writes_acknowledged - s.read_back} acknowledged "
            "writes not read back" for s in done
            if s.read_back < s.writes_acknowledged and not s.read_back_wrong]
    if not acknowledged and not bad:
        return _result("OR-NIGHT-003", [], "", "", skipped="no grade-passback burst finished"
                       + ("" if grading else " (no grade-passback vendor)"))
    return _result("OR-NIGHT-003", bad, f"{len(done)} bursts: {acknowledged} writes "
                   "acknowledged, each read back as written",
                   f"{acknowledged} writes acknowledged, {read_back} read back as written")


def _trouble(log: NightLog, check_id: str, kinds: tuple[str, ...], passed: str,
             failed: str) -> CheckResult:
    count = sum(log.troubles.counts.get(k, 0) for k in kinds)
    examples = [e for k in kinds for e in log.troubles.examples.get(k, [])]
    return _result(check_id, examples if count else [], passed, failed.format(n=count))


def _throttling(log: NightLog) -> CheckResult:
    counts = log.troubles.counts
    with_, without = counts["throttled_with_retry_after"], counts["throttled_without_retry_after"]
    examples = log.troubles.examples["throttled_without_retry_after"]
    return _result("OR-NIGHT-006", examples if without else [],
                   f"{with_} 429 answers, each with Retry-After" if with_ else "no 429 answers",
                   f"{without} 429 answers without Retry-After ({with_} with)")


def first_syncs(log: NightLog) -> dict[str, Sync]:
    return {vendor: syncs[0] for vendor, syncs in log.vendors().items()}


def _window(log: NightLog, night: Night, started: float, vendors: int) -> CheckResult:
    window = night.sync_window
    bad = []
    for vendor, first in first_syncs(log).items():
        if first.error:
            bad.append(f"{vendor}: its sync failed ({first.error})")
        elif first.finished is None:
            bad.append(f"{vendor}: still syncing when the night ended")
        elif first.finished - started > window:
            bad.append(f"{vendor}: finished after {first.finished - started:.0f} s")
    never = vendors - len(first_syncs(log))
    if never > 0:
        bad.append(f"{never} vendors never started a sync")
    return _result("OR-NIGHT-007", bad, f"{len(first_syncs(log))} vendors finished their sync "
                   f"inside the {window:g} s window",
                   f"{len(bad)} of {vendors} vendors missed the {window:g} s window")


def judge(log: NightLog, night: Night, started: float, vendors: int,
          district: dict[str, int] | None = None) -> tuple[CheckResult, ...]:
    """Every verdict of the night (``started``: when it began, epoch seconds; ``district``:
    against the mock, the records each core collection serves)."""
    return (
        _walks(log), _records(log, district or {}), _writes(log),
        _trouble(log, "OR-NIGHT-004", ("server_errors",), "no 5xx answers",
                 "{n} answers were 5xx"),
        _trouble(log, "OR-NIGHT-005", ("timeouts", "transport_errors"),
                 "no timeouts or broken connections",
                 "{n} requests timed out or lost their connection"),
        _throttling(log), _window(log, night, started, vendors))


def summary_of(results: tuple[CheckResult, ...], target: str, version: str, seconds: float,
               started: str, night: Night) -> RunSummary:
    return RunSummary(target, version, results, round(seconds, 3), started,
                      profile=f"sync-night ({night.source})" if night.source else "sync-night")


__all__ = ["EXPLANATIONS", "RULES", "TITLES", "first_syncs", "judge", "summary_of"]
