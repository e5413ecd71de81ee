"""The mock's Settings: validated on construction, read from a config file's [gradebook] table
and from serve's options, and handed unchanged to every worker process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mock_provider.config import ConfigError, load_config
from mock_provider.serve import ServeOptions, settings_for
from mock_provider.settings import Settings, SettingsError

CONNECTION = '[[connection]]\nname = "a"\nclient_id = "a-id"\nclient_secret = "a-secret"\n'


def test_defaults() -> None:
    settings = Settings()
    assert settings.disabled_rules == frozenset()
    assert (settings.max_title_length, settings.update_status) == (50, 200)
    assert settings.rules.on("title_unique_in_class")


@pytest.mark.parametrize(("values", "key", "says"), [
    ({"disabled_rules": ["no_such_rule"]}, "disabled_rules", "unknown rule 'no_such_rule'"),
    ({"disabled_rules": ["envelope"]}, "disabled_rules", "cannot be switched off"),
    ({"disabled_rules": "title_required"}, "disabled_rules", "a list of rule names"),
    ({"max_title_length": 0}, "max_title_length", "at least 1, got 0"),
    ({"max_title_length": True}, "max_title_length", "at least 1, got True"),
    ({"update_status": 204}, "update_status", "200 or 201, got 204"),
])
def test_a_bad_setting_is_refused_naming_its_key(values: dict, key: str, says: str) -> None:
    with pytest.raises(SettingsError, match=says) as info:
        Settings(**values)
    assert info.value.key == key


def test_rules_follow_the_settings() -> None:
    settings = Settings(disabled_rules=["title_required"], max_title_length=80)
    assert settings.disabled_rules == frozenset({"title_required"})
    assert not settings.rules.on("title_required") and settings.rules.on("schema")
    assert settings.rules.max_title_length == 80


def test_gradebook_table(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(CONNECTION + '[gradebook]\ndisabled_rules = ["assign_before_due"]\n'
                    "max_title_length = 70\nupdate_status = 201\n")
    config = load_config(path)
    assert [c.name for c in config.connections] == ["a"]
    assert Settings(**config.gradebook) == Settings(
        disabled_rules=frozenset({"assign_before_due"}), max_title_length=70, update_status=201)


def test_without_a_gradebook_table_the_defaults_hold(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(CONNECTION)
    assert Settings(**load_config(path).gradebook) == Settings()


def test_gradebook_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text("gradebook = 3\n" + CONNECTION)
    with pytest.raises(ConfigError, match=r"mock\.toml: \[gradebook\] is not a table$"):
        load_config(path)


def test_options_go_over_the_file() -> None:
    options = ServeOptions(district=Path("d.sqlite"), disabled_rules=("title_required",),
                           max_title_length=10)
    from_file = {"disabled_rules": frozenset({"assign_before_due"}), "max_title_length": 70,
                 "update_status": 201}
    settings = settings_for(options, from_file)
    assert settings.disabled_rules == {"assign_before_due", "title_required"}
    assert (settings.max_title_length, settings.update_status) == (10, 201)
    assert settings_for(ServeOptions(district=Path("d.sqlite")), {}) == Settings()


@pytest.mark.parametrize("options", [
    ServeOptions(district=Path("d.sqlite"), flavor="infinite-campus",
                 disabled_rules=("title_required", "assign_before_due"), max_title_length=12,
                 update_status=201),
    ServeOptions(district=Path("d.sqlite")),
])
def test_workers_receive_the_same_options(monkeypatch: pytest.MonkeyPatch,
                                          options: ServeOptions) -> None:
    for name in [n for n in os.environ if n.startswith("ONEROSTER_MOCK_")]:
        monkeypatch.delenv(name)
    for name, value in options.to_environment().items():
        monkeypatch.setenv(name, value)
    assert ServeOptions.from_environment() == options


def test_body_limits_come_from_the_gradebook_table(tmp_path: Path) -> None:
    path = tmp_path / "mock.toml"
    path.write_text(CONNECTION + "[gradebook]\nmax_put_body = 65536\nmax_post_body = 1048576\n")
    settings = Settings(**load_config(path).gradebook)
    assert (settings.max_put_body, settings.max_post_body) == (65536, 1048576)
    assert (Settings().max_put_body, Settings().max_post_body) == (256 * 1024, 8 * 1024 * 1024)
    path.write_text(CONNECTION + "[gradebook]\nmax_post_body = 12\n")
    with pytest.raises(ConfigError, match=r"\[gradebook\] key 'max_post_body': .*at least 1024"):
        load_config(path)
