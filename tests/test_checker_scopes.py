"""The checker's own scope knowledge (harness/oneroster/scopes.py) agrees with the mock's,
written separately: the 1.2 table from the OpenAPI documents, the 1.1 table from the spec
notes. A disagreement would be a mistake in one of them, and OR-AUTH-011 would show it."""

from __future__ import annotations

import pytest

from harness.oneroster import scopes
from mock_provider.connections import SHORT_SCOPES_V11, SHORT_SCOPES_V12
from mock_provider.scopes import required_scopes_v11
from specs.catalogue import operations


@pytest.mark.parametrize("version", ["1.2", "1.1"])
def test_the_rostering_reads_and_their_scopes_match_the_mocks(version: str) -> None:
    reads = scopes.rostering_reads(version)
    assert len(reads) == 41
    for read in reads:
        if version == "1.1":
            assert read.scopes == required_scopes_v11("GET", read.path), read.path
        else:
            [op] = [o for o in operations("rostering") if o.path == read.path and
                    o.method == "get"]
            assert read.scopes == op.scopes
        assert all(s.startswith(scopes.PREFIX[version]) for s in read.scopes)


def test_the_1_1_rules_agree_with_the_1_1_document() -> None:
    documented = {op.path: op.scopes for op in operations("rostering", "1.1")
                  if op.method == "get"}
    for read in scopes.rostering_reads("1.1"):
        assert documented[read.path] == read.scopes, read.path


def test_the_scope_names_of_each_version() -> None:
    assert set(scopes.names("1.2")) == set(SHORT_SCOPES_V12)
    assert set(scopes.names("1.1")) == set(SHORT_SCOPES_V11)
    for version in ("1.2", "1.1"):
        for service in scopes.SERVICES:
            asked = scopes.scopes_for({service}, version)
            assert {scopes.short(s) for s in asked} <= set(scopes.names(version))


def test_a_refusal_names_scopes_by_uri_or_short_name_and_never_by_a_part() -> None:
    asked = [scopes.uri(n, "1.2") for n in ("roster-core.readonly", "roster.readonly",
                                            "gradebook.readonly")]
    assert scopes.named_in("scope roster.readonly is not allowed", asked) == [asked[1]]
    assert scopes.named_in(f"not available: {asked[2]}", asked) == [asked[2]]
    # "gradebook-core.readonly" is not "gradebook.readonly"; "core.readonly" names nothing.
    assert scopes.named_in("only gradebook-core.readonly and core.readonly", asked) == []
    assert scopes.named_in("scope is required", asked) == []
