"""The checker judges a provider by the spec, never by the mock's own code: the modules that
talk to a provider and the checks themselves import nothing from ``mock_provider`` (a mistake
shared by mock and checker would otherwise pass unseen)."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[1] / "harness"
INDEPENDENT = ["checks", "oneroster", "target.py", "exchange.py", "auth.py", "connect.py",
               "token_refusal.py", "token_answer.py", "bounds.py", "masking.py",
               # the sync night's vendors and its judge (only load/mock.py serves the mock)
               "load/connection.py", "load/syncs.py", "load/consumers.py", "load/ledger.py",
               "load/verdicts.py", "load/session.py"]


def _modules() -> list[Path]:
    found: list[Path] = []
    for name in INDEPENDENT:
        path = HARNESS / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.exists() else []
    return found


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def test_the_checker_does_not_import_the_mock() -> None:
    modules = _modules()
    assert HARNESS / "target.py" in modules and HARNESS / "checks" / "context.py" in modules
    offenders = {f"{path.relative_to(HARNESS)}: {name}" for path in modules
                 for name in _imports(path) if name.split(".")[0] == "mock_provider"}
    assert offenders == set()
