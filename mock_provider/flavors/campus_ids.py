"""Infinite Campus identities: 1.1 user ids are a role letter plus the person's legacy number
(`s123456`), and 1.2 users carry that number in ``metadata.ic.legacysourceId``.

The store keeps one GUID per user; the Campus profile translates on the way out (response
bodies) and on the way in (path parameters and 1.1 filters), looking up only the users a page
or a filter value mentions.

Writes (``stored_user_refs``): a 1.1 grade-book write names users as they are served, so a
result's ``student`` given as ``s200123`` is stored under that user's GUID (and reads serve it
back as ``s200123``). A GUID sent instead is taken as it is, as path reads take one.

Filters (``filter_translation``): a 1.1 predicate on a field that holds user ids (``sourcedId``
of users and demographics, ``agents.sourcedId``, ``user.sourcedId`` of enrollments,
``student.sourcedId`` of results) compares the ids as served. ``=`` and ``!=`` look the value
up (``s200123`` -> its GUID, through the indexed identifier); ``~``, ``<``, ``<=``, ``>`` and
``>=`` test every user's served id (a scan of the users table; fine at mock sizes). The result
goes to the SQL as the set of stored GUIDs that satisfy the predicate, so the usual
missing-field, array and ``!=`` rules still apply. A user's GUID is therefore no longer found
(as on Campus, whose 1.1 ids are the legacy ones); a user without an identifier is served, and
so filtered, by its GUID. Sorting on these fields still orders by the stored GUIDs.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3

from ..district.people import ROLE_V11
from ..query.fields import catalog
from ..query.filter import Bound
from ..query.sql import StoredValues, Translate
from ..query.values import ascii_lower, compare
from ..refs import REF_KINDS

# 1.1 role -> the letter Campus puts in front of the legacy id.
PREFIX = {"student": "s", "teacher": "t", "administrator": "a", "aide": "a", "proctor": "a",
          "guardian": "g", "parent": "p", "relative": "r"}
# The letter -> how the generator writes that person's identifier around the digits.
IDENTIFIER_FORMS = {"s": ("{}",), "t": ("E{}",), "a": ("E{}",), "g": ("P{}",), "p": ("P{}",),
                    "r": ("P{}",)}
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LEGACY = re.compile(r"([stagpr])(\d+)")
_CHUNK = 500


def legacy_number(identifier: str) -> str:
    return re.sub(r"\D", "", identifier)


def legacy_id(role_v12: str, identifier: str) -> str:
    return PREFIX[ROLE_V11.get(role_v12, "administrator")] + legacy_number(identifier)


def legacy_ids_for(conn: sqlite3.Connection, candidates: set[str]) -> dict[str, str]:
    """GUID -> legacy 1.1 id for those of ``candidates`` that are users."""
    found: dict[str, str] = {}
    ids = sorted(candidates)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(chunk))
        for guid, role, identifier in conn.execute(
                f"SELECT sourcedId, role, identifier FROM users WHERE sourcedId IN ({marks})",
                chunk):
            if identifier:
                found[guid] = legacy_id(role, identifier)
    return found


def guid_for_legacy(conn: sqlite3.Connection, value: str) -> str | None:
    """The user GUID behind a Campus 1.1 id like ``s200123``, or None."""
    match = LEGACY.fullmatch(value)
    if match is None:
        return None
    letter, digits = match.groups()
    for form in IDENTIFIER_FORMS[letter]:
        for guid, role, identifier in conn.execute(
                "SELECT sourcedId, role, identifier FROM users WHERE identifier = ?",
                (form.format(digits),)):
            if legacy_id(role, identifier) == value:
                return guid
    return None


# 1.1 grade-book records -> their reference fields that name users.
WRITE_USER_REFS: dict[str, tuple[str, ...]] = {"results": ("student",)}


def stored_user_refs(conn: sqlite3.Connection, table: str, record: dict) -> dict:
    """A 1.1 grade-book record with each user reference given as a Campus id (``s200123``)
    pointing at the stored GUID instead; other values are left for the write's own checks."""
    out = dict(record)
    for name in WRITE_USER_REFS.get(table, ()):
        value = record.get(name)
        if isinstance(value, dict) and isinstance(value.get("sourcedId"), str):
            guid = guid_for_legacy(conn, value["sourcedId"])
            if guid is not None:
                out[name] = {**value, "sourcedId": guid}
    return out


def guids_served_as(conn: sqlite3.Connection, value: str) -> list[str]:
    """The stored GUIDs of every user whose 1.1 id is served as ``value``: the users with that
    legacy id, or the user with that GUID when it has no identifier (served as its GUID), or,
    for a value that is no user's, the value itself (a reference to a missing user is served
    as stored)."""
    match = LEGACY.fullmatch(value)
    if match is not None:
        letter, digits = match.groups()
        found = []
        for form in IDENTIFIER_FORMS[letter]:
            for guid, role, identifier in conn.execute(
                    "SELECT sourcedId, role, identifier FROM users WHERE identifier = ? "
                    "ORDER BY seq", (form.format(digits),)):
                if legacy_id(role, identifier) == value:
                    found.append(guid)
        return found
    row = conn.execute("SELECT identifier FROM users WHERE sourcedId = ?", (value,)).fetchone()
    return [value] if row is None or not row[0] else []


def guids_served_matching(conn: sqlite3.Connection, bound: Bound) -> list[str]:
    """The stored GUIDs of every user whose served 1.1 id satisfies ``bound`` (``~`` or an
    ordering operator), over all users."""
    found = []
    for guid, role, identifier in conn.execute(
            "SELECT sourcedId, role, identifier FROM users ORDER BY seq"):
        served = legacy_id(role, identifier) if identifier else guid
        if bound.op == "~":
            holds = ascii_lower(served).find(bound.value) >= 0  # type: ignore[arg-type]
        else:
            holds = compare(served, bound.op, bound.value)
        if holds:
            found.append(guid)
    return found


_USER_REF = f'."@{REF_KINDS["user"][0]}"'


@functools.cache
def user_id_fields(table: str) -> frozenset[str]:
    """The 1.1 filter fields of ``table`` whose values are user ids (served as legacy ids)."""
    try:
        fields = catalog(table, "1.1").fields.values()
    except ValueError:  # not a 1.1 collection
        return frozenset()
    names = {f.name for f in fields if f.constant is None and f.name.endswith(".sourcedId")
             and ((f.elem_path if f.multi else f.json_path) or "").endswith(_USER_REF)}
    if table in ("users", "demographics"):  # a demographics record shares its user's id
        names.add("sourcedId")
    return frozenset(names)


def served_id_translation(conn: sqlite3.Connection, table: str) -> Translate | None:
    """The 1.1 filter translation for ``table`` (see the module docstring), or None when the
    table has no user-id fields."""
    fields = user_id_fields(table)
    if not fields:
        return None

    def translate(bound: Bound) -> StoredValues | None:
        if bound.field.name not in fields:
            return None
        if bound.op in ("=", "!="):
            guids = guids_served_as(conn, str(bound.value))
            return StoredValues(bound.field, bound.op, tuple(guids))
        return StoredValues(bound.field, "=", tuple(guids_served_matching(conn, bound)))

    return translate


def to_legacy_ids(conn: sqlite3.Connection, body: str) -> str:
    """A 1.1 body with every user GUID (record ids and references) written as its legacy id."""
    mapping = legacy_ids_for(conn, set(GUID.findall(body)))
    if not mapping:
        return body
    return GUID.sub(lambda m: mapping.get(m.group(0), m.group(0)), body)


def with_legacy_metadata(text: str) -> str:
    """A stored 1.2 user record with ``metadata.ic.legacysourceId`` added after its dates."""
    record = json.loads(text)
    identifier = record.get("identifier")
    if not identifier:
        return text
    out: dict = {}
    for key, value in record.items():
        if key == "metadata":
            continue
        out[key] = value
        if key == "dateLastModified":
            out["metadata"] = {**record.get("metadata", {}),
                               "ic.legacysourceId": legacy_number(identifier)}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"))
