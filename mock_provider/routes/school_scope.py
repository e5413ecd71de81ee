"""School scoping: a connection limited to some schools sees only their data (Campus 1.2).

What it sees is the records of its schools, and within them only the ids it may read: a
reference to a record outside its view (another school's org, a parent whose children all go
to another school) is left out of the records it is served (``scoped_texts``), so every id it
is handed answers 200 for it.
"""

from __future__ import annotations

import itertools
import sqlite3

from starlette.requests import Request

from ..query.sql import Visible
from ..refs import REF_KINDS, compact_refs, without_refs
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
    # A category or score scale written without a class (1.2 categories have none) belongs to
    # no school: district-wide, like an assessment line item without a class.
    "categories": "(class_id IS NULL OR class_id IN "
                  "(SELECT sourcedId FROM classes WHERE school_id IN ({schools})))",
    "scoreScales": "(class_id IN (SELECT sourcedId FROM classes WHERE school_id IN ({schools})) "
                   "OR (class_id IS NULL AND (course_id IS NULL OR course_id IN "
                   "(SELECT sourcedId FROM courses WHERE school_id IN ({schools})))))",
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

# The same limits for a handful of known ids (the references of one page): a user is found
# through its own user_orgs rows rather than by listing everyone of its schools (SQLite, with
# no statistics, would otherwise walk the org index for each id).
_ID_CONDITIONS = {
    "users": "EXISTS (SELECT 1 FROM user_orgs INDEXED BY user_orgs_user_id "
             "WHERE user_orgs.user_id = users.sourcedId AND org_id IN ({schools}))",
}


def allowed_schools(conn: sqlite3.Connection, names: frozenset[str]) -> tuple[str, ...]:
    """School sourcedIds for a connection's list, which may name schools by id or identifier."""
    marks = ", ".join("?" * len(names))
    rows = conn.execute(
        f"SELECT sourcedId FROM orgs WHERE type = 'school' AND (sourcedId IN ({marks}) "
        f"OR identifier IN ({marks})) ORDER BY seq", (*names, *names)).fetchall()
    return tuple(r[0] for r in rows)


def school_scope(request: Request, table: str,
                 per_id: bool = False) -> tuple[str, tuple[str, ...]]:
    """The SQL condition and parameters limiting ``table`` to the caller's schools, or
    ``("", ())`` when the connection sees the whole district; ``per_id``: the form for a
    query that names its few sourcedIds."""
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
    condition = (per_id and _ID_CONDITIONS.get(table)) or _CONDITIONS[table]
    # One set of parameters for each place the condition names the schools.
    return (condition.format(schools=", ".join("?" * len(schools))),
            schools * condition.count("{schools}"))


def _school_names(request: Request) -> frozenset[str] | None:
    grant = request.scope.get("state", {}).get("grant")
    return getattr(getattr(grant, "connection", None), "schools", None)


def _limited_tables(request: Request) -> frozenset[str] | None:
    """The tables whose references the caller may not all read, or None when it reads every
    record the district serves: a school list limits every table with a school; a flavor's
    rule on who is shared (Campus's rostering-only connections get no guardians) limits
    users."""
    if _school_names(request):
        return frozenset(_CONDITIONS)
    if shared(request).settings.profile.user_condition(request):
        return frozenset({"users"})
    return None


def sees_everything(request: Request) -> bool:
    """True when the caller may read every record the district serves: ``scoped_texts``
    hands it the stored texts unchanged."""
    return _limited_tables(request) is None


def reader_conditions(request: Request, table: str,
                      per_id: bool = False) -> tuple[list[str], tuple[str, ...]]:
    """The SQL conditions (and parameters) every record of ``table`` the caller reads must
    meet: not hidden, inside its schools, and for users the flavor's rule on who is shared."""
    clauses = ["hidden = 0"]
    scope_sql, params = school_scope(request, table, per_id)
    if scope_sql:
        clauses.append(scope_sql)
    if table == "users":
        condition = shared(request).settings.profile.user_condition(request)
        if condition:
            clauses.append(condition)
    return clauses, params


_REF_TABLES = {code: collection for code, _, collection in REF_KINDS.values()}
_IDS_PER_QUERY = 500  # well inside SQLite's bound-parameter limit, beside the school ids


def _readable(request: Request, table: str, ids: set[str]) -> set[str]:
    """Those of ``ids`` the caller may read in ``table``: remembered answers, and for the
    others a few indexed queries per page."""
    clauses, params = reader_conditions(request, table, per_id=True)
    where = " AND ".join(clauses)
    state = shared(request)
    conn = state.store.conn

    def fetch(unknown: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(unknown), _IDS_PER_QUERY):
            chunk = unknown[start:start + _IDS_PER_QUERY]
            marks = ", ".join("?" * len(chunk))
            found.update(r[0] for r in conn.execute(
                # The id index, not the hidden one SQLite would pick: a few ids, not every row.
                f"SELECT sourcedId FROM {table} INDEXED BY {table}_sourcedId "
                f"WHERE sourcedId IN ({marks}) AND {where}", (*chunk, *params)))
        return found

    return state.readable.readable(conn, (table, where, params), ids, fetch)


def scoped_texts(request: Request, texts: list[str]) -> list[str]:
    """Stored record texts as the caller may see them: for a school-scoped connection (or one
    a flavor shares only some users with), the references to records it cannot read are left
    out (``refs.without_refs``: a user's roles in other schools' orgs and its primaryOrg
    there, agents it cannot read, the district's other children). Connections that see the
    whole district get the texts unchanged."""
    limited = _limited_tables(request)
    if limited is None:
        return texts
    refs = [compact_refs(text) for text in texts]
    wanted: dict[str, set[str]] = {}
    for code, sid in itertools.chain.from_iterable(refs):
        wanted.setdefault(code, set()).add(sid)
    dropped: set[tuple[str, str]] = set()
    for code, ids in wanted.items():
        table = _REF_TABLES[code]
        if table in limited:  # else all readable (resources are a district-wide catalogue)
            dropped.update((code, sid) for sid in ids - _readable(request, table, ids))
    if not dropped:
        return texts
    return [without_refs(text, dropped) if dropped.intersection(found) else text
            for text, found in zip(texts, refs, strict=True)]


def ref_visibility(request: Request) -> Visible | None:
    """For ``query.sql.where_sql``: the condition that the caller may read a referenced
    record, so filters judge records as ``scoped_texts`` serves them (a filter on a reference
    it is not served must not find, or spell out, the id); None for a connection that sees the
    whole district."""
    limited = _limited_tables(request)
    if limited is None:
        return None

    def visible(code: str, ref_id: str) -> tuple[str, list] | None:
        table = _REF_TABLES[code]
        if table not in limited:
            return None
        clauses, params = reader_conditions(request, table)
        # Unqualified columns in the clauses name the referenced row (the innermost table).
        return (f"EXISTS (SELECT 1 FROM {table} AS referenced WHERE referenced.sourcedId = "
                f"{ref_id} AND {' AND '.join(clauses)})", list(params))

    return visible
