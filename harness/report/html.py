"""report.html: one self-contained page, inline CSS, no scripts or external assets."""

from __future__ import annotations

from html import escape
from pathlib import Path

from harness.model import CheckResult, Evidence, RunSummary

STATUS_COLOURS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "warning": "#9a6700",
    "skipped": "#6e7781",
}

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1f2328; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.status { font-weight: bold; }
.verdict-ok { color: #1a7f37; } .verdict-bad { color: #cf222e; }
pre { background: #f6f8fa; padding: 0.5rem; overflow-x: auto; white-space: pre-wrap; }
section { margin-top: 1.5rem; }
""".strip()


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _status_cell(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#1f2328")
    return f'<td class="status" style="color: {colour}">{_e(status)}</td>'


def _row(result: CheckResult) -> str:
    return (
        f'<tr id="row-{_e(result.id)}"><td>{_e(result.id)}</td><td>{_e(result.title)}</td>'
        f"<td>{_e(result.severity)}</td>{_status_cell(result.status)}"
        f"<td>{_e(result.message)}</td></tr>"
    )


def _evidence(evidence: Evidence) -> str:
    status = "-" if evidence.status is None else evidence.status
    return (
        '<div class="evidence">'
        f"<p><strong>{_e(evidence.method)}</strong> <code>{_e(evidence.url)}</code>"
        f" &rarr; {_e(status)}</p>"
        f"<pre>{_e(evidence.excerpt)}</pre>"
        f"<pre>{_e(evidence.curl)}</pre>"
        "</div>"
    )


def _section(result: CheckResult) -> str:
    evidence = "".join(_evidence(e) for e in result.evidence) or "<p>No evidence recorded.</p>"
    return (
        f'<section id="check-{_e(result.id)}">'
        f"<h3>{_e(result.id)} {_e(result.title)} ({_e(result.status)})</h3>"
        f"<p>Rule: {_e(result.rule)}</p><p>{_e(result.message)}</p>{evidence}</section>"
    )


def render_html(summary: RunSummary) -> str:
    counts = ", ".join(f"{n} {_e(status)}" for status, n in summary.counts().items())
    verdict, verdict_class = (
        ("conformant", "verdict-ok") if summary.conformant else ("not conformant", "verdict-bad")
    )
    rows = "\n".join(_row(r) for r in summary.results)
    sections = "\n".join(_section(r) for r in summary.results if r.status != "passed")
    title = f"OneRoster {summary.version} conformance: {summary.target}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{_e(title)}</title>
<style>
{CSS}
</style>
</head>
<body>
<header>
<h1>{_e(title)}</h1>
<p>Target: <code>{_e(summary.target)}</code> &middot; OneRoster {_e(summary.version)}
&middot; {summary.seconds:.2f} s</p>
<p class="{verdict_class}"><strong>Verdict: {verdict}</strong></p>
<p>{counts}</p>
</header>
<table>
<thead><tr><th>id</th><th>title</th><th>severity</th><th>status</th><th>message</th></tr></thead>
<tbody>
{rows}
</tbody>
</table>
<h2>Findings</h2>
{sections or "<p>Every check passed.</p>"}
</body>
</html>
"""


def write_html(summary: RunSummary, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render_html(summary), encoding="utf-8")
    return path
