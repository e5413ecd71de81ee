"""What the command line prints when its output goes to a CI log: whole lines, no hard
wrapping, readable explanations."""

from __future__ import annotations

import pytest

from harness.cli import main


def test_explain_is_case_insensitive_and_shows_code_without_rst_backticks(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "or-page-003"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OR-PAGE-003 (error): A page past the end is an empty list\n")
    assert "``" not in out and "`GET /orgs?offset=1000000` must answer 200" in out


def test_redirected_output_is_not_hard_wrapped(capsys: pytest.CaptureFixture[str]) -> None:
    """A long explanation is one line in a log (at 80 columns it would be cut mid-word)."""
    assert main(["explain", "OR-FILTER-001"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and len(lines[2]) > 300


def test_a_check_run_prints_whole_lines_in_a_log(capsys: pytest.CaptureFixture[str],
                                                  tmp_path) -> None:
    code = main(["check", "provider", "--mock", "--size", "tiny", "--only", "OR-ERR-005",
                 "--report-dir", str(tmp_path), "--data-dir", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert code == 0
    verdict = [line for line in out.splitlines() if line.startswith("CONFORMANT: ")]
    assert len(verdict) == 1 and verdict[0].endswith("1 passed, 0 failed, 0 warning, 0 skipped")
