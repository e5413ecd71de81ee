"""Stored compact references expand into spec GUIDRefs, on the fast path and the careful one."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mock_provider.refs import REF_KINDS, _ref_expansions, _render_escaped, ref, render_refs

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
