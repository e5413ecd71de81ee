"""What the District page reads from the store: schools, their classes, a class's roster,
a user search. Every read is bounded, so a big district stays quick to show."""

from __future__ import annotations

import sqlite3
from typing import Any

MAX_ROWS = 200


def _rows(conn: sqlite3.Connection, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchmany(MAX_ROWS)]


def schools(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT o.sourcedId, o.name, o.identifier, "
                 "(SELECT count(*) FROM classes c WHERE c.school_id = o.sourcedId "
                 "AND c.hidden = 0) AS classes FROM orgs o "
                 "WHERE o.type = 'school' AND o.hidden = 0 ORDER BY o.name")


def classes(conn: sqlite3.Connection, school_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT c.sourcedId, c.title, c.classCode, c.status, "
                 "(SELECT count(*) FROM enrollments e WHERE e.class_id = c.sourcedId "
                 "AND e.hidden = 0) AS enrolled FROM classes c "
                 "WHERE c.school_id = ? AND c.hidden = 0 ORDER BY c.title, c.classCode",
                 (school_id,))


def roster(conn: sqlite3.Connection, class_id: str) -> list[dict[str, Any]]:
    return _rows(conn, "SELECT u.sourcedId, u.givenName, u.familyName, u.username, u.email, "
                 "e.role, e.status FROM enrollments e JOIN users u ON u.sourcedId = e.user_id "
                 "WHERE e.class_id = ? AND e.hidden = 0 "
                 "ORDER BY e.role DESC, u.familyName, u.givenName", (class_id,))


def title_of(conn: sqlite3.Connection, table: str, sourced_id: str) -> str | None:
    column = {"orgs": "name", "classes": "title"}[table]
    row = conn.execute(f"SELECT {column} FROM {table} WHERE sourcedId = ?",
                       (sourced_id,)).fetchone()
    return None if row is None else str(row[0])


def search_users(conn: sqlite3.Connection, text: str) -> list[dict[str, Any]]:
    """Users whose name, e-mail or username contains ``text`` (case-insensitive)."""
    pattern = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
        + "%"
    return _rows(conn, "SELECT sourcedId, givenName, familyName, username, email, role, status "
                 "FROM users WHERE hidden = 0 AND (givenName || ' ' || familyName "
                 "LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\' OR username LIKE ?1 "
                 "ESCAPE '\\') ORDER BY familyName, givenName LIMIT 50", (pattern,))


__all__ = ["classes", "roster", "schools", "search_users", "title_of"]
