"""The consumer checks, one module per id family (OR-CON-<FAMILY>-nnn): what a consumer did
against the mock, judged from the recording. Importing this package registers them, in the
order the reports list them."""

from __future__ import annotations

# isort: off
from . import run, auth, pacing, paging, queries, delta, rollover, grades, result  # noqa: F401
# isort: on

FAMILY_MODULES = {
    "CON-RUN": "run", "CON-AUTH": "auth", "CON-RATE": "pacing", "CON-RETRY": "pacing",
    "CON-CONC": "pacing", "CON-PAGE": "paging", "CON-QUERY": "queries", "CON-DELTA": "delta",
    "CON-YEAR": "rollover", "CON-GRADE": "grades", "CON-RESULT": "result",
}
