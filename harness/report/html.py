"""report.html: one self-contained page (inline CSS, no scripts or external assets) that opens
with the findings, failures then warnings, grouped by area, each with every offending item, its
evidence and how to fix it; the passed and skipped checks are folded below."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from harness.model import CheckResult, RunSummary
from harness.version import harness_version

# The id family (OR-<FAMILY>-nnn) -> the area a reader looks under.
AREAS = {
    "CORE": "Core rostering", "SCHEMA": "Schemas", "DISC": "Discovery", "API": "OpenAPI",
    "PAGE": "Paging", "ERR": "Errors", "AUTH": "Authorisation", "FILTER": "Filtering",
    "SORT": "Sorting", "FIELDS": "Field selection", "REF": "References", "ID": "Identities",
    "DATE": "Dates", "DATA": "Data quality", "GB": "Grade book", "GGL": "Google",
    "LOAD": "The run", "SIZE": "The run",
    "CON-RUN": "The consumer's runs", "CON-AUTH": "Tokens", "CON-RATE": "Pacing",
    "CON-RETRY": "Pacing", "CON-CONC": "Pacing", "CON-PAGE": "Paging", "CON-QUERY": "Queries",
    "CON-DELTA": "Delta sync", "CON-YEAR": "School-year rollover", "CON-GRADE": "Grade passback",
    "CON-RESULT": "The roster",
}


@cache
def _environment() -> Environment:
    return Environment(loader=PackageLoader("harness.report", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       trim_blocks=True, lstrip_blocks=True)


def area_of(check_id: str) -> str:
    family = check_id.removeprefix("OR-").rsplit("-", 1)[0]
    return AREAS.get(family, family)


def advice(check_id: str) -> str:
    """The check's explanation (what ``oneroster-harness explain`` prints), or ""."""
    # Importing the catalogues registers their checks (a report may be written from a
    # summary read back from disk, before any check module was imported).
    import harness.checks
    import harness.consumer.judge  # noqa: F401
    from harness.engine import REGISTRY

    found = REGISTRY.get(check_id)
    return found.explanation if found is not None else ""


def _grouped(results: list[CheckResult]) -> list[tuple[str, list[CheckResult]]]:
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(area_of(result.id), []).append(result)
    return list(groups.items())


def render_html(summary: RunSummary) -> str:
    by_status = {status: [r for r in summary.results if r.status == status]
                 for status in ("failed", "warning", "passed", "skipped")}
    counts = ", ".join(f"{n} {status}" for status, n in summary.counts().items())
    return _environment().get_template("report.html.j2").render(
        title=f"OneRoster {summary.version} conformance: {summary.target}",
        summary=summary, counts=counts, harness_version=harness_version(), advice=advice,
        findings={kind: _grouped(by_status[kind]) for kind in ("failed", "warning")},
        folded={kind: by_status[kind] for kind in ("passed", "skipped")})


def write_html(summary: RunSummary, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(render_html(summary), encoding="utf-8")
    return path
