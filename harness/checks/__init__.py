"""The provider check catalogue, one module per id family:

| family | module | | family | module |
|---|---|---|---|---|
| OR-CORE | core | | OR-REF | references |
| OR-SCHEMA | schema | | OR-ID | identities |
| OR-PAGE | paging | | OR-DATE | dates |
| OR-ERR | errors | | OR-DATA | data_quality |
| OR-AUTH | auth | | OR-GB | gradebook |
| OR-FILTER | filtering | | OR-API | openapi |
| OR-SORT | sorting | | OR-DISC | discovery |
| OR-FIELDS | fields | | OR-GGL | google |
| OR-LOAD, OR-SIZE | incidents | | | |

The engine (registry, Outcome, Finding, the run loop) is ``harness.engine``; what a provider
check works with (Context, Walk, walk limits) is ``context``; shared helpers are ``support``.
Importing this package registers every check, in the order the reports list them.
"""

from __future__ import annotations

from ..engine import REGISTRY, Check, Finding, Outcome, passed
from .context import Context, Walk, WalkLimits, walk_pages

# isort: off
from . import core, schema, paging, errors, auth, filtering, sorting, fields  # noqa: F401
from . import references, identities, dates, data_quality, gradebook  # noqa: F401
from . import openapi, discovery, google, incidents  # noqa: F401
# isort: on

FAMILY_MODULES = {
    "CORE": "core", "SCHEMA": "schema", "PAGE": "paging", "ERR": "errors", "AUTH": "auth",
    "FILTER": "filtering", "SORT": "sorting", "FIELDS": "fields", "REF": "references",
    "ID": "identities", "DATE": "dates", "DATA": "data_quality", "GB": "gradebook",
    "API": "openapi", "DISC": "discovery", "GGL": "google", "LOAD": "incidents",
    "SIZE": "incidents",
}

CHECKS: dict[str, Check] = REGISTRY.of("provider")

__all__ = ["CHECKS", "FAMILY_MODULES", "Check", "Context", "Finding", "Outcome", "Walk",
           "WalkLimits", "passed", "walk_pages"]
