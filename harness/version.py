"""The installed harness's version, for ``--version`` and the reports' headers."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def harness_version() -> str:
    """The version pip installed (pyproject's), or a note when run from an uninstalled tree."""
    try:
        return version("oneroster-harness")
    except PackageNotFoundError:
        return "(not installed)"


__all__ = ["harness_version"]
