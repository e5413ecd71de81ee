"""Credentials (OR-CON-AUTH): bearer tokens (001-003), OAuth 1.0a signatures (004-006) and
credentials the provider refused (007, 008), one module each, registered in that order."""

from __future__ import annotations

# isort: off
from . import tokens, signatures, refused  # noqa: F401
# isort: on
