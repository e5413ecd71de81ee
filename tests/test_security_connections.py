"""Connections: the TOML format, every ConfigError in one line, secrets masked everywhere."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from mock_provider.config import ConfigError, load_config
from mock_provider.connections import (
    ALL_SCOPES_V11,
    ALL_SCOPES_V12,
    Connection,
    ConnectionValueError,
    allowed_scopes,
    default_connection,
)

V12 = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
V11 = "https://purl.imsglobal.org/spec/or/v1p1/scope/"

GOOD = """
[[connection]]
name = "lms"
client_id = "lms-client"
client_secret = "lms-very-secret"
version = "1.2"
scopes = ["roster.readonly", "https://purl.imsglobal.org/spec/or/v1p2/scope/gradebook.delete"]
schools = ["0210", "school-7"]
expires = 2026-06-30
token_lifetime = 600
vendor_key = "vk:vendor-secret"

[[connection]]
name = "library"
client_id = "lib-client"
client_secret = "lib-very-secret"
connection_type = "unsupported"
oauth1 = true
"""

BASE = 'name = "a"\nclient_id = "a-id"\nclient_secret = "a-very-secret"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connections.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_scope_constants_hold_the_spec_lists() -> None:
    assert len(ALL_SCOPES_V12) == 13 and len(ALL_SCOPES_V11) == 7
    assert V12 + "roster-demographics.readonly" in ALL_SCOPES_V12
    assert V11 + "gradebook.createput" in ALL_SCOPES_V11
    assert V11 + "gradebook.createpost" not in ALL_SCOPES_V11


def test_good_file_with_two_connections(tmp_path: Path) -> None:
    lms, library = load_config(write(tmp_path, GOOD)).connections
    assert lms.name == "lms" and lms.client_id == "lms-client" and lms.version == "1.2"
    assert lms.scopes == {V12 + "roster.readonly", V12 + "gradebook.delete"}
    assert lms.schools == {"0210", "school-7"}
    assert lms.expires == date(2026, 6, 30)
    assert lms.token_lifetime == 600 and lms.vendor_key == "vk:vendor-secret"
    assert lms.connection_type == "supported" and not lms.oauth1
    # Defaults: version any, every scope an unsupported connection may have (no grade book).
    assert library.version == "any" and library.oauth1 and library.schools is None
    assert library.scopes == allowed_scopes("any", "unsupported")
    assert V12 + "roster.readonly" in library.scopes and V11 + "roster.readonly" in library.scopes
    assert not any("gradebook" in s or "assessment" in s for s in library.scopes)
    assert library.token_lifetime == 3600 and library.expires is None


def test_short_names_expand_by_version(tmp_path: Path) -> None:
    text = BASE + 'scopes = ["roster.readonly", "gradebook.createpost"]\n'
    (conn,) = load_config(write(tmp_path, "[[connection]]\n" + text)).connections
    # "any": roster.readonly in both versions; createpost exists only in 1.2.
    assert conn.scopes == {V12 + "roster.readonly", V11 + "roster.readonly",
                           V12 + "gradebook.createpost"}


def test_expires_may_be_a_string(tmp_path: Path) -> None:
    (conn,) = load_config(write(tmp_path, "[[connection]]\n" + BASE
                                + 'expires = "2026-01-31"\n')).connections
    assert conn.expires == date(2026, 1, 31)


BAD_CASES = {
    "unknown key": (BASE + 'colour = "red"\n', "key 'colour': unknown key"),
    "bad type": (BASE + 'token_lifetime = "3600"\n', "key 'token_lifetime': expected int, got str"),
    "bool for int": (BASE + "token_lifetime = true\n", "key 'token_lifetime': expected int"),
    "datetime for date": (BASE + "expires = 2026-01-01T00:00:00\n", "key 'expires': expected date"),
    "bad date string": (BASE + 'expires = "soon"\n', "key 'expires': expected a date YYYY-MM-DD"),
    "empty secret": ('name = "a"\nclient_id = "a-id"\nclient_secret = ""\n',
                     "key 'client_secret': client_secret must not be empty"),
    "missing secret": ('name = "a"\nclient_id = "a-id"\n',
                       "key 'client_secret': missing required key"),
    "unknown scope": (BASE + 'scopes = ["roster.writeall"]\n',
                      "key 'scopes': unknown scope 'roster.writeall'"),
    "scope of another version": (BASE + 'version = "1.1"\nscopes = ["gradebook.createpost"]\n',
                                 "key 'scopes': unknown scope 'gradebook.createpost' for version"),
    "foreign URI": (BASE + f'version = "1.1"\nscopes = ["{V12}roster.readonly"]\n',
                    "key 'scopes': unknown scope"),
    "unsupported with grade book": (
        BASE + 'connection_type = "unsupported"\n'
        'scopes = ["roster.readonly", "gradebook.readonly"]\n',
        "key 'scopes': an unsupported (rostering-only) connection cannot have"),
    "bad version": (BASE + 'version = "1.0"\n', "key 'version': version must be one of"),
    "bad connection type": (BASE + 'connection_type = "premium"\n', "key 'connection_type'"),
    "no scopes": (BASE + "scopes = []\n", "key 'scopes': a connection needs at least one scope"),
    "bad vendor key": (BASE + 'vendor_key = "justakey"\n', "key 'vendor_key'"),
    "oauth1 on 1.2": (BASE + 'version = "1.2"\noauth1 = true\n', "key 'oauth1'"),
    "zero lifetime": (BASE + "token_lifetime = 0\n", "key 'token_lifetime'"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_each_problem_is_one_line_naming_file_connection_and_key(tmp_path: Path,
                                                                  case: str) -> None:
    text, expected = BAD_CASES[case]
    path = write(tmp_path, "[[connection]]\n" + text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: connection 'a', ")
    assert expected in message
    assert "a-very-secret" not in message


def test_duplicate_client_id(tmp_path: Path) -> None:
    second = BASE.replace('name = "a"', 'name = "b"').replace("a-very", "b-very")
    path = write(tmp_path, f"[[connection]]\n{BASE}\n[[connection]]\n{second}")
    with pytest.raises(ConfigError, match=r"connection 'b', key 'client_id': duplicate client_id"):
        load_config(path)


def test_duplicate_name(tmp_path: Path) -> None:
    second = BASE.replace("a-id", "b-id")
    path = write(tmp_path, f"[[connection]]\n{BASE}\n[[connection]]\n{second}")
    with pytest.raises(ConfigError, match=r"connection 'a', key 'name': duplicate name"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read connections file"):
        load_config(path)


def test_bad_toml(tmp_path: Path) -> None:
    path = write(tmp_path, "[[connection]]\nname = \n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: not valid TOML: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("text", "expected"), [
    ("", "no [[connection]] tables"),
    ('title = "x"\n', "unknown top-level key 'title' (expected [[connection]] or [gradebook])"),
])
def test_file_level_problems(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(write(tmp_path, text))


def test_repr_masks_secrets() -> None:
    conn = Connection("lms", "lms-client", "top-secret-value", frozenset({V12 + "roster.readonly"}),
                      vendor_key="vk:vendor-secret-value")
    text = repr(conn)
    assert "top-secret-value" not in text and "vendor-secret-value" not in text
    assert "lms-client" in text and "'***'" in text
    assert "top-secret-value" not in str(conn)


def test_constructor_errors_never_echo_secrets() -> None:
    with pytest.raises(ConnectionValueError) as info:
        Connection("x", "x-id", "hidden-secret", frozenset(), vendor_key="k:hidden-vendor")
    assert "hidden" not in str(info.value)


def test_default_connection_has_everything_and_fresh_secrets() -> None:
    one, two = default_connection(), default_connection()
    assert one.scopes == ALL_SCOPES_V12 | ALL_SCOPES_V11
    assert one.version == "any" and one.schools is None and one.expires is None
    assert one.client_secret != two.client_secret and len(one.client_secret) >= 24
    fixed = default_connection("my-id", "my-secret")
    assert (fixed.client_id, fixed.client_secret) == ("my-id", "my-secret")


def test_expired_is_after_the_date() -> None:
    conn = Connection("x", "x-id", "s", frozenset({V12 + "roster.readonly"}),
                      expires=date(2026, 6, 30))
    assert not conn.expired(date(2026, 6, 30))
    assert conn.expired(date(2026, 7, 1))
