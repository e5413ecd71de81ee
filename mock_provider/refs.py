"""References between records, stored compactly and expanded when served.

A reference is stored as ``{"@<code>":"<sourcedId>"}`` (``@u`` a user, ``@o`` an org, ...). One
stored JSON text then serves 1.1 and 1.2 under any host or URL prefix, and the store stays small
at state scale. ``render_refs`` turns each into the spec's GUIDRef,
``{"href": <absolute URL>, "sourcedId": ..., "type": ...}``, when a page is served.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Set as AbstractSet

# type -> (code, service, collection)
REF_KINDS = {
    "org": ("o", "rostering", "orgs"),
    "user": ("u", "rostering", "users"),
    "class": ("c", "rostering", "classes"),
    "course": ("C", "rostering", "courses"),
    "academicSession": ("s", "rostering", "academicSessions"),
    "category": ("g", "gradebook", "categories"),
    "lineItem": ("l", "gradebook", "lineItems"),
    "scoreScale": ("x", "gradebook", "scoreScales"),
    "assessmentLineItem": ("a", "gradebook", "assessmentLineItems"),
    "resource": ("r", "resources", "resources"),
}
_CODE = {kind: f"@{code}" for kind, (code, _, _) in REF_KINDS.items()}


def ref(kind: str, sourced_id: str) -> dict[str, str]:
    return {_CODE[kind]: sourced_id}


def ref_id(stored_ref: dict[str, str]) -> str:
    """The sourcedId inside a ``ref``."""
    return next(iter(stored_ref.values()))


def ref_json(kind: str, sourced_id: str) -> str:
    """``ref`` already serialized, for the hot record templates (ids never need escaping)."""
    return f'{{"{_CODE[kind]}":"{sourced_id}"}}'


_REF_TYPES = {code: kind for kind, (code, _, _) in REF_KINDS.items()}
_REF = re.compile(r'\{"@([a-zA-Z])":"((?:[^"\\]|\\.)*)"\}')


@functools.lru_cache(maxsize=64)
def _ref_expansions(v11: bool, base_url: str) -> dict[str, str]:
    expansions = {}
    for code, service, collection in REF_KINDS.values():
        version_path = "v1p1" if v11 else f"{service}/v1p2"
        expansions[code] = f'{{"href":"{base_url}/ims/oneroster/{version_path}/{collection}/'
    return expansions


def render_refs(text: str, version: str = "1.2", base_url: str = "") -> str:
    """Expand stored compact references into spec GUIDRefs with absolute hrefs."""
    expansions = _ref_expansions(version == "1.1", base_url)
    rendered = _render_plain(text, expansions)
    return rendered if rendered is not None else _render_escaped(text, expansions)


def _render_plain(text: str, expansions: dict[str, str]) -> str | None:
    """The fast path: split on the compact-ref opener and splice. A `{"@` can only start a
    compact ref (inside JSON strings the quote is escaped), so the pieces are refs unless an
    id holds escapes or a key merely starts with "@"; then None sends the text to the regex."""
    types = _REF_TYPES
    pieces = text.split('{"@')
    out = [pieces[0]]
    append = out.append
    for piece in pieces[1:]:
        code = piece[:1]
        end = piece.find('"}', 4)
        if code not in types or piece[1:4] != '":"' or end < 0:
            return None
        sid = piece[4:end]
        if "\\" in sid:
            return None
        append(f'{expansions[code]}{sid}","sourcedId":"{sid}","type":"{types[code]}"}}')
        append(piece[end + 2:])
    return "".join(out)


def _render_escaped(text: str, expansions: dict[str, str]) -> str:
    types = _REF_TYPES

    def expand(match: re.Match[str]) -> str:
        code, sid = match.group(1), match.group(2)
        return f'{expansions[code]}{sid}","sourcedId":"{sid}","type":"{types[code]}"}}'

    return _REF.sub(expand, text)


# --- references a reader may not follow ------------------------------------------------------

_STORE_FORM = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"),
                               check_circular=False).encode  # as district.records.dumps


_PLAIN_REF = re.compile(r'\{"@([' + "".join(sorted(_REF_TYPES)) + r'])":"([^"\\]*)"\}')


def compact_refs(text: str) -> list[tuple[str, str]]:
    """(code, sourcedId) of every compact reference in a stored text (``("o", "s1")`` for
    ``{"@o":"s1"}``), ids unescaped."""
    found = _PLAIN_REF.findall(text)
    if len(found) == text.count('{"@'):
        return found
    # An id holding an escape, or a key that merely starts with "@": the careful regex.
    return [(code, json.loads(f'"{sid}"') if "\\" in sid else sid)
            for code, sid in _REF.findall(text) if code in _REF_TYPES]


def without_refs(text: str, dropped: AbstractSet[tuple[str, str]]) -> str:
    """``text`` with the references in ``dropped`` ((code, sourcedId) pairs) left out: an
    entry of a list goes, and so does a list entry that is an object holding such a
    reference (a role whose org is dropped); a field naming one goes, and so does a list
    left empty (the store writes no empty reference lists). The result is in the store's
    serialized form; callers skip texts that hold none of ``dropped`` (see compact_refs)."""

    def gone(value: object) -> bool:
        # Called on every object of the record: the length test rules out nearly all.
        if type(value) is not dict or len(value) != 1:
            return False
        ((key, sid),) = value.items()
        return key[:1] == "@" and type(sid) is str and (key[1:], sid) in dropped

    def prune(obj: dict) -> None:
        for key, value in list(obj.items()):
            kind = type(value)
            if kind is dict:
                if gone(value):
                    del obj[key]
                else:
                    prune(value)
            elif kind is list:
                kept = [item for item in value if not gone(item) and not (
                    type(item) is dict and any(gone(v) for v in item.values()))]
                if len(kept) != len(value):
                    if kept:
                        obj[key] = kept
                    else:
                        del obj[key]
                for item in kept:
                    if type(item) is dict:
                        prune(item)

    record = json.loads(text)
    if type(record) is dict:
        prune(record)
    return _STORE_FORM(record)
