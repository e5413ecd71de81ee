"""junit.xml: one testsuite, one testcase per check, for CI dashboards."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.model import CheckResult, Evidence, RunSummary

SUITE_NAME = "oneroster-conformance"


def _classname(check_id: str) -> str:
    """The id without its number: OR-PAGE-003 -> OR-PAGE."""
    prefix, sep, _ = check_id.rpartition("-")
    return prefix if sep else check_id


def _evidence_text(evidence: Evidence) -> str:
    status = "-" if evidence.status is None else str(evidence.status)
    return f"{evidence.method} {evidence.url} {status}\n{evidence.curl}"


def _details(result: CheckResult) -> str:
    return "\n\n".join([result.message, *(_evidence_text(e) for e in result.evidence)])


def _testcase(suite: ET.Element, result: CheckResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=_classname(result.id),
        name=f"{result.id} {result.title}",
        time=f"{result.seconds:.3f}",
    )
    if result.status == "failed":
        failure = ET.SubElement(case, "failure", message=result.message, type=result.severity)
        failure.text = _details(result)
    elif result.status == "skipped":
        ET.SubElement(case, "skipped", message=result.message)
    elif result.status == "warning":
        ET.SubElement(case, "system-out").text = _details(result)


def write_junit(summary: RunSummary, path: str | Path) -> Path:
    path = Path(path)
    counts = summary.counts()
    suite = ET.Element(
        "testsuite",
        name=SUITE_NAME,
        tests=str(len(summary.results)),
        failures=str(counts["failed"]),
        errors="0",
        skipped=str(counts["skipped"]),
        time=f"{summary.seconds:.3f}",
    )
    for result in summary.results:
        _testcase(suite, result)
    tree = ET.ElementTree(suite)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    with path.open("ab") as handle:
        handle.write(b"\n")
    return path
