"""The pure parts of ``load`` (no Locust, no network): the sync-night profile, the verdicts over
what the vendors recorded, the timeline's percentiles and the charts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from harness.load.charts import line_chart
from harness.load.ledger import Ledger, NightLog, Walk
from harness.load.plan import Plan
from harness.load.profile import ProfileError, night_from_toml, quick_night, read_night
from harness.load.timeline import Timeline, percentile
from harness.load.verdicts import judge

ROOT = Path(__file__).resolve().parents[1]


def test_the_example_profile_reads_as_its_comments_say() -> None:
    night = read_night(ROOT / "examples" / "sync-night.toml")
    assert {v.kind: v.count for v in night.vendors} == {
        "full-sync": 6, "delta-sync": 4, "help-desk": 2, "grade-passback": 2}
    assert night.until == "finished" and night.sync_window == 600 and night.duration == 900
    assert night.of("full-sync").get("page_size") == 1000
    assert night.of("delta-sync").get("concurrency") == 5  # the default
    assert night.mock == {"size": "small", "workers": 2}


def test_a_quick_night_deals_the_kinds_in_turn() -> None:
    assert [(v.kind, v.count) for v in quick_night(6, 30).vendors] == [
        ("full-sync", 2), ("delta-sync", 2), ("help-desk", 1), ("grade-passback", 1)]
    assert [v.kind for v in quick_night(1, 30).vendors] == ["full-sync"]
    assert quick_night(3, 30).sync_window == 30  # no window given: the duration


@pytest.mark.parametrize(("toml", "message"), [
    ({"night": {"duration": 60}}, "the profile has no vendors"),
    ({"vendors": {"full-sync": {}}}, "[night].duration is missing"),
    ({"night": {"duration": 60}, "vendors": {"lms": {}}}, "[vendors.lms] is not a kind"),
    ({"night": {"duration": 60}, "vendors": {"full-sync": {"page_size": 0}}},
     "[vendors.full-sync].page_size must be at least 1, got 0"),
    ({"night": {"duration": 60}, "vendors": {"help-desk": {"page_size": 10}}},
     "[vendors.help-desk] has no key 'page_size'"),
    ({"night": {"duration": "long"}, "vendors": {"full-sync": {}}},
     "[night].duration must be a number, got 'long'"),
    ({"night": {"duration": 60, "until": "dawn"}, "vendors": {"full-sync": {}}},
     "[night].until must be one of duration, finished, got 'dawn'"),
    ({"night": {"duration": 60}, "vendors": {"full-sync": {"count": 1.5}}},
     "[vendors.full-sync].count must be a whole number, got 1.5"),
    ({"night": {"duration": 60}, "vendors": {"full-sync": {}}, "mock": {"colour": 1}},
     "[mock] has no key 'colour'"),
])
def test_a_bad_profile_is_one_line_naming_the_key(toml: dict, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        night_from_toml(toml)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_plan_travels_as_json_whole() -> None:
    plan = Plan("http://127.0.0.1:1", "http://127.0.0.1:1/oauth2/token", "1.1",
                quick_night(5, 20, page_size=50),
                {"full-sync": [("a", "s1"), ("b", "s2")], "*": [("c", "s3")]}, 7.0, "t")
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.pair("full-sync", 3) == ("b", "s2") and again.pair("help-desk", 0) == ("c", "s3")


def _night_log(**changes) -> tuple[NightLog, float]:
    """Two vendors' first syncs, as a worker would report them."""
    ledger = Ledger()
    lms = ledger.begin("full-sync-1", "full-sync", 1)
    lms.walks.append(Walk("users", total=10, last_total=10, read=10, distinct=10, pages=2,
                          finished=True))
    lms.finished = lms.started + 1
    book = ledger.begin("grade-passback-1", "grade-passback", 1)
    book.writes_acknowledged, book.read_back, book.finished = 4, 4, book.started + 1
    for name, value in changes.items():
        setattr(lms.walks[0] if name in Walk.__dataclass_fields__ else lms, name, value)
    log = NightLog()
    log.apply(ledger.drain())
    return log, lms.started


def _statuses(log: NightLog, started: float, vendors: int = 2, window: float = 60
              ) -> dict[str, str]:
    night = quick_night(vendors, window)
    return {r.id: r.status for r in judge(log, night, started, vendors)}


def test_a_clean_night_passes_every_verdict() -> None:
    log, started = _night_log()
    assert set(_statuses(log, started).values()) == {"passed"}


def test_records_read_twice_or_never_fail_the_records_verdict() -> None:
    log, started = _night_log(distinct=8, read=10, repeats=2, repeated=["u1", "u2"])
    results = {r.id: r for r in judge(log, quick_night(2, 60), started, 2)}
    assert results["OR-NIGHT-002"].status == "failed"
    assert results["OR-NIGHT-002"].items == (
        "full-sync-1 users: 2 records read twice (e.g. u1, u2)",
        "full-sync-1 users: 2 of the 10 records of X-Total-Count never read")


def test_against_the_mock_a_full_sync_must_read_what_the_district_serves() -> None:
    log, started = _night_log()
    night = quick_night(2, 60)
    assert {r.id: r.status for r in judge(log, night, started, 2, {"users": 10})
            }["OR-NIGHT-002"] == "passed"
    short = {r.id: r for r in judge(log, night, started, 2, {"users": 12})}["OR-NIGHT-002"]
    assert short.items == ("full-sync-1 users: 10 distinct records read, the district serves "
                           "12",)


def test_a_walk_that_failed_and_a_sync_late_for_the_window_fail_their_verdicts() -> None:
    log, started = _night_log(finished=False, error="answered 404")
    log.syncs["full-sync-1#1"].error = "users: answered 404"
    statuses = _statuses(log, started)
    assert statuses["OR-NIGHT-001"] == statuses["OR-NIGHT-007"] == "failed"
    late, started = _night_log()
    late.syncs["full-sync-1#1"].finished = started + 90
    assert _statuses(late, started)["OR-NIGHT-007"] == "failed"
    assert _statuses(late, started, window=120)["OR-NIGHT-007"] == "passed"
    # A vendor that never started a sync misses the window too.
    assert _statuses(*_night_log(), vendors=3)["OR-NIGHT-007"] == "failed"


def test_troubles_from_every_worker_add_up_in_the_verdicts() -> None:
    log, started = _night_log()
    for _ in range(2):  # two workers, each with one 429 without Retry-After and one 5xx
        worker = Ledger()
        worker.trouble("throttled_without_retry_after", "GET /users")
        worker.trouble("server_errors", "500 GET /users")
        log.apply(worker.drain())
    results = {r.id: r for r in judge(log, quick_night(2, 60), started, 2)}
    assert results["OR-NIGHT-006"].message.startswith("2 429 answers without Retry-After")
    assert results["OR-NIGHT-004"].status == "failed"
    assert results["OR-NIGHT-004"].message.startswith("2 answers were 5xx")


def test_writes_not_read_back_fail_the_writes_verdict() -> None:
    log, started = _night_log()
    log.syncs["grade-passback-1#1"].read_back = 3
    log.syncs["grade-passback-1#1"].read_back_wrong = ["results/r1: score 70.0, not 80.0"]
    results = {r.id: r for r in judge(log, quick_night(2, 60), started, 2)}
    assert results["OR-NIGHT-003"].status == "failed"
    assert results["OR-NIGHT-003"].items == (
        "grade-passback-1 results/r1: score 70.0, not 80.0",)


def test_the_timeline_keeps_each_intervals_rate_and_percentiles() -> None:
    entry = SimpleNamespace(method="GET", name="users page", num_requests=0, num_failures=0,
                            response_times={})
    timeline = Timeline(started=100.0)
    entry.num_requests, entry.response_times = 10, {10: 9, 200: 1}
    timeline.sample({"e": entry}, 102.0, 4)
    entry.num_requests, entry.num_failures = 14, 1
    entry.response_times = {10: 9, 200: 1, 50: 4}
    timeline.sample({"e": entry}, 104.0, 4)
    first, second = timeline.operations["GET users page"]
    assert (first.requests_per_second, first.percentiles) == (
        5.0, {"p50": 10.0, "p95": 200.0, "p99": 200.0})
    assert (second.at, second.requests_per_second, second.failures_per_second) == (4.0, 2.0, 0.5)
    assert second.percentiles == {"p50": 50.0, "p95": 50.0, "p99": 50.0}
    assert percentile({}, 0.5) == 0


def test_a_chart_scales_its_lines_into_the_plot() -> None:
    chart = line_chart("Requests per second", "req/s", {"all": [(0, 0), (10, 40)], "none": []})
    assert [line.label for line in chart.lines] == ["all"]
    (start, end) = chart.lines[0].points.split()
    assert start == f"{chart.left:.1f},{chart.bottom:.1f}"
    assert end == f"{chart.right:.1f},{chart.top:.1f}"  # 40 is the axis's round top
    assert [t.label for t in chart.y_ticks] == ["0", "10", "20", "30", "40"]
    assert line_chart("Errors", "failures/s", {}).empty


def test_explain_knows_every_verdict_of_the_night(capsys: pytest.CaptureFixture[str]) -> None:
    from harness.cli import main
    from harness.load.verdicts import TITLES

    assert main(["explain", "or-night-002"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OR-NIGHT-002 (error): No record missing or repeated")
    assert "X-Total-Count" in out
    assert main(["explain"]) == 0
    listed = capsys.readouterr().out
    assert all(check_id in listed for check_id in TITLES)


def test_the_readme_load_commands_parse() -> None:
    import re
    import shlex

    from harness.cli import build_parser

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = "\n".join(re.findall(r"```sh\n(.*?)```", text, flags=re.S)).replace("\\\n", " ")
    commands = [shlex.split(line, comments=True) for line in lines.splitlines()
                if "oneroster-harness load" in line]
    assert len(commands) >= 7  # mock, any URL, a profile, one machine (3), across machines
    for words in commands:
        args = words[words.index("load"):]
        parsed = build_parser().parse_args([a for a in args if a != "&"])
        assert parsed.command == "load"
        if parsed.profile:
            assert (ROOT / parsed.profile).is_file() or parsed.profile == "night.toml"
