"""School scoping: a connection limited to some schools sees only their data (Campus 1.2)."""

from __future__ import annotations

import sqlite3

from starlette.requests import Request

from ..state import shared

# Per table, the condition that keeps a record inside the allowed schools; `{schools}` becomes
# a list of placeholders, one per allowed school sourcedId.
_CONDITIONS = {
    "orgs": "(type = 'district' OR sourcedId IN ({schools}))",
    "academicSessions": "school_id IN ({schools})",
    "courses": "school_id IN ({schools})",
    "classes": "school_id IN ({schools})",
    "enrollments": "school_id IN ({schools})",
    "users": "sourcedId IN (SELECT user_id FROM user_orgs WHERE org_id IN ({schools}))",
    "demographics": "sourcedId IN (SELECT user_id FROM user_orgs WHERE org_id IN ({schools}))",
    "categories": "class_id IN (SELECT sourcedId FROM classes WHERE school_id IN ({schools}))",
    "scoreScales": "class_id IN (SELECT sourcedId FROM classes WHERE school_id IN ({schools}))",
    "lineItems": "school_id IN ({schools})",
    "results": "class_id IN (SELECT sourcedId FROM classes WHERE school_id IN ({schools}))",
    # Assessments go by their class's school; one without a class is district-wide, and so
    # are the results of such a line item (or of one no longer stored).
    "assessmentLineItems": "(class_id IS NULL OR class_id IN "
                           "(SELECT sourcedId FROM classes WHERE school_id IN ({schools})))",
    "assessmentResults": "NOT EXISTS (SELECT 1 FROM assessmentLineItems AS a "
                         "WHERE a.sourcedId = assessmentLineItem_id AND a.class_id IS NOT NULL "
                         "AND a.class_id NOT IN "
                         "(SELECT sourcedId FROM classes WHERE school_id IN ({schools})))",
}


def allowed_schools(conn: sqlite3.Connection, names: frozenset[str]) -> tuple[str, ...]:
    """School sourcedIds for a connection's list, which may name schools by id or identifier."""
    marks = ", ".join("?" * len(names))
    rows = conn.execute(
        f"SELECT sourcedId FROM orgs WHERE type = 'school' AND (sourcedId IN ({marks}) "
        f"OR identifier IN ({marks})) ORDER BY seq", (*names, *names)).fetchall()
    return tuple(r[0] for r in rows)


def school_scope(request: Request, table: str) -> tuple[str, tuple[str, ...]]:
    """The SQL condition and parameters limiting ``table`` to the caller's schools, or
    ``("", ())`` when the connection sees the whole district."""
    grant = request.scope.get("state", {}).get("grant")
    connection = getattr(grant, "connection", None)
    names = getattr(connection, "schools", None)
    if not names or table not in _CONDITIONS:
        # No school limit, or a district-wide catalogue (resources).
        return "", ()
    state = shared(request)
    cache = state.school_cache
    key = (connection.client_id, names)
    if key not in cache:
        cache[key] = allowed_schools(state.store.conn, names)
    schools = cache[key]
    if not schools:
        return "0", ()  # the connection names no school that exists: it sees nothing
    return _CONDITIONS[table].format(schools=", ".join("?" * len(schools))), schools
