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


@pytest.mark.parametrize("command", [["python3", "no/such/consumer.py"],
                                     ["no-such-command-anywhere"]])
def test_a_consumer_that_cannot_start_is_a_usage_error(
        command: list[str], capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    code = main(["check", "consumer", "--scenario", "full-sync", "--report-dir",
                 str(tmp_path / "r"), "--data-dir", str(tmp_path / "d"), "--", *command])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert f"the consumer command `{' '.join(command)}` exited with status" in err[0]
    assert "before sending any request" in err[0] and "Traceback" not in err[0]
