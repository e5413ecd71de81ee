"""Infinite Campus identities: 1.1 user ids are a role letter plus the person's legacy number
(`s123456`), and 1.2 users carry that number in ``metadata.ic.legacysourceId``.

The store keeps one GUID per user; the Campus profile translates on the way out (response
bodies) and on the way in (path parameters), looking up only the users a page mentions.
"""

from __future__ import annotations

import json
import re
import sqlite3

from ..district.people import ROLE_V11

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
