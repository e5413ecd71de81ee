"""Report writers: JSON, JUnit, HTML and console, from a RunSummary built by hand."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from rich.console import Console

from harness.model import CheckResult, Evidence, RunSummary
from harness.report import write_all, write_html, write_json, write_junit
from harness.report.console import print_summary

NASTY = '<script>alert(1)</script> & "quoted" café – Zoë 日本'
TARGET = "https://sis.example.test/ims/oneroster/v1p2"


def _evidence(status: int | None = 200) -> Evidence:
    return Evidence(
        method="GET",
        url=f"{TARGET}/users?limit=2&offset=0",
        status=status,
        excerpt=f'{{"users": [], "note": "{NASTY}"}}',
        curl=f"curl -H 'Authorization: Bearer ***' '{TARGET}/users?limit=2&offset=0'",
    )


def _summary(*, failed_severity: str = "error") -> RunSummary:
    return RunSummary(
        target=TARGET,
        version="1.2",
        seconds=1.25,
        results=(
            CheckResult(
                "OR-ENV-001",
                "Collection wrapped in its plural key",
                "1.2 §3.1",
                "error",
                "passed",
                "ok",
                (_evidence(),),
                0.1,
            ),
            CheckResult(
                "OR-PAGE-003",
                "X-Total-Count matches the walk",
                "1.2 §3.4",
                failed_severity,
                "failed",
                f"total 5 != walked 4 <{NASTY}>",
                (_evidence(), _evidence(None)),
                0.2,
            ),
            CheckResult(
                "OR-DATE-002",
                "Dates in ISO 8601 & UTC",
                "1.2 §4.13",
                "warning",
                "warning",
                "dateLastModified lacks 'Z' – Zoë",
                (_evidence(),),
            ),
            CheckResult(
                "OR-GB-001",
                "Gradebook endpoints respond",
                "1.2 §6",
                "error",
                "skipped",
                "gradebook <not> offered",
            ),
        ),
    )


def test_json_has_run_fields_counts_and_results(tmp_path):
    path = write_json(_summary(), tmp_path / "results.json")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text.endswith("}\n")
    assert "Zoë" in text  # UTF-8, not \u escapes
    assert list(data) == ["target", "version", "seconds", "started", "profile", "seed",
                          "access", "counts", "conformant", "results"]
    assert data["access"] is None  # a summary that did not record how the checker got in
    assert data["counts"] == {"passed": 1, "failed": 1, "warning": 1, "skipped": 1}
    assert data["conformant"] is False
    assert data["target"] == TARGET
    assert [r["id"] for r in data["results"]] == [
        "OR-ENV-001",
        "OR-PAGE-003",
        "OR-DATE-002",
        "OR-GB-001",
    ]
    assert data["results"][1]["evidence"][0]["excerpt"] == _evidence().excerpt
    assert data["results"][1]["evidence"][1]["status"] is None
    assert all(r["items"] == [] for r in data["results"])  # every offending item, when any


def test_warning_severity_failure_stays_conformant(tmp_path):
    data = json.loads(
        write_json(_summary(failed_severity="warning"), tmp_path / "r.json").read_text(
            encoding="utf-8"
        )
    )
    assert data["conformant"] is True


def test_junit_counts_names_and_outcomes(tmp_path):
    root = ET.parse(write_junit(_summary(), tmp_path / "junit.xml")).getroot()
    assert root.tag == "testsuite"
    assert root.get("name") == "oneroster-conformance"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    assert root.get("time") == "1.250"
    assert "timestamp" not in root.attrib
    cases = {case.get("name"): case for case in root.iter("testcase")}
    assert list(cases) == [
        "OR-ENV-001 Collection wrapped in its plural key",
        "OR-PAGE-003 X-Total-Count matches the walk",
        "OR-DATE-002 Dates in ISO 8601 & UTC",
        "OR-GB-001 Gradebook endpoints respond",
    ]
    passed, failed, warned, skipped = cases.values()
    assert passed.get("classname") == "OR-ENV"
    assert failed.get("classname") == "OR-PAGE"
    assert list(passed) == []
    failure = failed.find("failure")
    assert failure.get("type") == "error"
    assert failure.get("message") == f"total 5 != walked 4 <{NASTY}>"
    assert f"GET {TARGET}/users?limit=2&offset=0 200" in failure.text
    assert f"GET {TARGET}/users?limit=2&offset=0 -" in failure.text
    assert "curl -H 'Authorization: Bearer ***'" in failure.text
    assert warned.find("failure") is None
    assert "lacks 'Z' – Zoë" in warned.find("system-out").text
    assert skipped.find("skipped").get("message") == "gradebook <not> offered"


def test_html_escaping_and_no_external_assets(tmp_path):
    html = write_html(_summary(), tmp_path / "report.html").read_text(encoding="utf-8")
    assert "not conformant" in html
    assert TARGET in html
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp; &#34;quoted&#34; café – Zoë 日本" in html
    assert "Dates in ISO 8601 &amp; UTC" in html
    assert "limit=2&amp;offset=0" in html
    assert "Bearer ***" in html
    assert "<link" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html


def test_html_opens_with_findings_by_area_and_folds_the_rest(tmp_path):
    summary = _summary()
    offenders = tuple(f"class-{n:03}" for n in range(60))
    results = tuple(replace(r, items=offenders) if r.id == "OR-PAGE-003" else r
                    for r in summary.results)
    summary = replace(summary, results=results, started="2026-12-04T14:00:00Z",
                      profile="spec,campus", seed=7)
    html = write_html(summary, tmp_path / "report.html").read_text(encoding="utf-8")
    failures, warnings = html.index(">Failures<"), html.index(">Warnings<")
    passed, skipped = html.index('<details id="passed">'), html.index('<details id="skipped" open>')
    # Skipped checks have a section of their own, after the findings, never under them.
    assert html.index("<h2>Findings</h2>") < html.index('<h2 id="heading-passed">Passed</h2>') \
        < passed < html.index('<h2 id="heading-skipped">Skipped') < skipped
    assert failures < html.index('id="check-OR-PAGE-003"') < warnings
    assert warnings < html.index('id="check-OR-DATE-002"') < passed < skipped
    assert failures < html.index("<h4>Paging</h4>") < warnings < html.index("<h4>Dates</h4>")
    # Only findings get sections; passed and skipped checks are rows in the folded tables.
    assert 'id="check-OR-ENV-001"' not in html and 'id="check-OR-GB-001"' not in html
    assert html.index('<tr id="row-OR-ENV-001">') > passed
    assert html.index('<tr id="row-OR-GB-001">') > skipped
    assert html.count("<pre>") == 2 * 3  # excerpt + curl for the failed (2) and warning (1)
    # Every offending item, not the first few; and the check's own advice.
    assert "60 offending items" in html
    assert all(f"<li>{item}</li>" in html for item in offenders)
    assert "How to fix:</strong> ``GET /orgs?offset=1000000`` must answer 200" in html
    for shown in ("2026-12-04T14:00:00Z", "spec,campus", "<dd>7</dd>", "oneroster-harness"):
        assert shown in html


def test_write_all_fixed_names_and_byte_identical(tmp_path):
    first = write_all(_summary(), tmp_path / "a" / "reports")
    second = write_all(_summary(), tmp_path / "b")
    assert {kind: p.name for kind, p in first.items()} == {
        "json": "results.json",
        "junit": "junit.xml",
        "html": "report.html",
    }
    assert sorted(p.name for p in (tmp_path / "a" / "reports").iterdir()) == [
        "junit.xml",
        "report.html",
        "results.json",
    ]
    for kind, path in first.items():
        assert path.read_bytes() == second[kind].read_bytes(), kind


@pytest.mark.parametrize(
    ("severity", "verdict"), [("error", "NOT CONFORMANT"), ("warning", "CONFORMANT")]
)
def test_console_prints_table_and_verdict(severity, verdict):
    console = Console(record=True, width=120)
    print_summary(_summary(failed_severity=severity), console)
    text = console.export_text()
    assert "OR-PAGE-003" in text and "OR-GB-001" in text
    lines = text.strip().splitlines()
    assert lines[-1].startswith(f"{verdict}: {TARGET}")
    # The skipped check is not in the table of checks that ran: it is listed apart, with why.
    skipped = lines.index("skipped (1):")
    assert "OR-GB-001" not in "\n".join(lines[:skipped])
    assert lines[skipped + 1].startswith("  OR-GB-001 ")
    assert "1 passed, 1 failed, 1 warning, 1 skipped" in lines[-1]
