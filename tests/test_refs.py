"""Stored compact references expand into spec GUIDRefs, on the fast path and the careful one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_provider.refs import (
    REF_KINDS,
    _ref_expansions,
    _render_escaped,
    compact_refs,
    ref,
    render_page_bytes,
    render_refs,
    render_refs_bytes,
    without_refs,
)

BASE = "http://127.0.0.1:8000"


def test_a_reference_becomes_an_absolute_guidref_in_each_version() -> None:
    text = json.dumps({"school": ref("org", "s1"), "lineItem": ref("lineItem", "l1")},
                      separators=(",", ":"))
    v12 = json.loads(render_refs(text, "1.2", BASE))
    assert v12["school"] == {"href": f"{BASE}/ims/oneroster/rostering/v1p2/orgs/s1",
                             "sourcedId": "s1", "type": "org"}
    assert v12["lineItem"]["href"] == f"{BASE}/ims/oneroster/gradebook/v1p2/lineItems/l1"
    v11 = json.loads(render_refs(text, "1.1", BASE))
    assert v11["lineItem"]["href"] == f"{BASE}/ims/oneroster/v1p1/lineItems/l1"


@pytest.mark.parametrize("text", [
    '{"a":{"@o":"we\\"ird"}}',  # an escaped quote inside an id
    '{"metadata":{"@zz":1},"s":{"@s":"q"}}',  # a key that only starts with "@"
    '{"x":"{\\"@o\\":\\"not a ref\\"}"}',  # ref-like text inside a string
    '{"t":"no refs at all"}',
])
def test_awkward_texts_render_like_the_careful_path(text: str) -> None:
    assert render_refs(text, "1.2", BASE) == _render_escaped(text, _ref_expansions(False, BASE))
    json.loads(render_refs(text, "1.2", BASE))


ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
records = st.recursive(
    st.one_of(ids, st.integers(), st.builds(ref, st.sampled_from(sorted(REF_KINDS)), ids)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(ids, inner, max_size=4)),
    max_leaves=12)


@given(records)
def test_fast_and_careful_rendering_agree_on_any_record(record: object) -> None:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    expansions = _ref_expansions(False, BASE)
    assert render_refs(text, "1.2", BASE) == _render_escaped(text, expansions)


@given(records, st.sampled_from(["1.2", "1.1"]), st.sampled_from([BASE, "http://h\u00e9te:1"]))
def test_pages_rendered_from_stored_bytes_are_the_text_rendering_encoded(
        record: object, version: str, base: str) -> None:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert render_refs_bytes(text.encode(), version, base) == render_refs(
        text, version, base).encode()


@given(st.lists(records, max_size=5), st.sampled_from(["1.2", "1.1"]))
def test_a_page_assembled_from_stored_records_is_the_text_page_rendered(
        page: list[object], version: str) -> None:
    texts = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in page]
    expected = render_refs('{"users":[' + ",".join(texts) + "]}", version, BASE).encode()
    assert render_page_bytes(b'{"users":[', [t.encode() for t in texts], b"]}", version,
                             BASE) == expected


@given(st.lists(records, max_size=8), st.sampled_from(["1.2", "1.1"]),
       st.integers(min_value=1, max_value=64))
def test_a_long_page_rendered_piece_by_piece_is_the_page_rendered_whole(
        page: list[object], version: str, chunk: int) -> None:
    # A tiny piece size cuts the page at nearly every reference, escaped ids included.
    from mock_provider import refs

    texts = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode() for r in page]
    whole = render_page_bytes(b'{"users":[', texts, b"]}", version, BASE)
    saved = refs.CHUNK
    refs.CHUNK = chunk
    try:
        assert render_page_bytes(b'{"users":[', texts, b"]}", version, BASE) == whole
    finally:
        refs.CHUNK = saved


def test_a_page_longer_than_a_piece_renders_like_the_text_path() -> None:
    from mock_provider import refs

    record = json.dumps({"n": "\u00e9\"x", "a": ref("org", 'o\\"1'), "b": [ref("user", "u2")]},
                        ensure_ascii=False, separators=(",", ":"))
    texts = [record] * (2 * refs.CHUNK // len(record) + 3)
    expected = render_refs('{"users":[' + ",".join(texts) + "]}", "1.2", BASE).encode()
    assert render_page_bytes(b'{"users":[', [t.encode() for t in texts], b"]}", "1.2",
                             BASE) == expected


@given(records)
def test_compact_refs_finds_every_reference_of_any_record(record: object) -> None:
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    expected: list[tuple[str, str]] = []

    def visit(value: object) -> None:
        if isinstance(value, dict):
            if len(value) == 1:
                key, sid = next(iter(value.items()))
                if key[:1] == "@" and len(key) == 2 and isinstance(sid, str) and (
                        key[1] in {code for code, _, _ in REF_KINDS.values()}):
                    expected.append((key[1], sid))
                    return
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(record)
    assert compact_refs(text) == expected


def test_without_refs_leaves_out_entries_roles_and_fields_naming_a_dropped_id() -> None:
    user = {"sourcedId": "u1", "roles": [
        {"roleType": "primary", "role": "teacher", "org": ref("org", "mine")},
        {"roleType": "secondary", "role": "teacher", "org": ref("org", "theirs")}],
        "primaryOrg": ref("org", "theirs"),
        "agents": [ref("user", "kid-here"), ref("user", "kid-there")],
        "orgs": [ref("org", "theirs")], "userIds": [{"type": "a", "identifier": "1"}],
        "resources": [ref("resource", "theirs")]}
    text = json.dumps(user, separators=(",", ":"))
    dropped = {("o", "theirs"), ("u", "kid-there")}
    assert json.loads(without_refs(text, dropped)) == {
        "sourcedId": "u1",
        "roles": [{"roleType": "primary", "role": "teacher", "org": ref("org", "mine")}],
        "agents": [ref("user", "kid-here")], "userIds": [{"type": "a", "identifier": "1"}],
        "resources": [ref("resource", "theirs")]}  # same id, another kind: kept
    assert without_refs(text, {("u", "kid-there")}) == json.dumps(
        {**user, "agents": [ref("user", "kid-here")]}, separators=(",", ":"))
