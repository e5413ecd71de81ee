"""How one mock behaves, beyond its data and its connections: the flavor, paging limits and the
grade-book write settings. Validated on construction, so a running mock never holds a setting
it cannot honour."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .config_values import ConfigValueError
from .flavors import Profile, standard
from .gradebook.rules import DEFAULT_MAX_TITLE_LENGTH, SHAPE_RULES, SWITCHABLE, RuleSet

UPDATE_STATUSES = (200, 201)
# The grade-book settings a config file's [gradebook] table and serve's options may set.
GRADEBOOK_SETTINGS = ("disabled_rules", "max_title_length", "update_status", "max_put_body",
                      "max_post_body")


class SettingsError(ConfigValueError):
    """One bad setting; ``key`` names it."""


def check_rule_name(name: str) -> str:
    """``name`` if it is a rule that can be switched off; else SettingsError."""
    if name in SHAPE_RULES:
        raise SettingsError("disabled_rules", f"rule {name!r} checks the request's shape and "
                            "cannot be switched off")
    if name not in SWITCHABLE:
        raise SettingsError("disabled_rules", f"unknown rule {name!r} (rules that can be "
                            f"switched off: {', '.join(sorted(SWITCHABLE))})")
    return name


def check_max_title_length(value: int) -> int:
    # bool is an int in Python; a title length of True is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError("max_title_length",
                            f"max_title_length must be a whole number of at least 1, got {value!r}")
    return value


def check_update_status(value: int) -> int:
    if isinstance(value, bool) or value not in UPDATE_STATUSES:
        raise SettingsError("update_status",
                            f"update_status must be 200 or 201, got {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    profile: Profile = field(default_factory=standard)
    max_limit: int = 50_000
    strict_fields: bool = True  # 1.2: unknown `fields` entries answer 400, not all fields
    page_cache: int = 256  # rendered pages kept until the file changes (0: none)
    allow_oauth1_sha1: bool = False
    # Grade-book writes: rules switched off by name, the longest line-item title, and the status
    # of a PUT that replaces (Google reads 200 as "updated"; some clients want 201).
    disabled_rules: frozenset[str] = frozenset()
    max_title_length: int = DEFAULT_MAX_TITLE_LENGTH
    update_status: int = 200
    # Request bodies: a grade-book PUT holds one record, a bulk POST many (8 MiB is about
    # 13,000 line items); anything longer is refused with 413 while it is being read.
    max_put_body: int = 256 * 1024
    max_post_body: int = 8 * 1024 * 1024

    def __post_init__(self) -> None:
        names: Iterable[str] = self.disabled_rules
        if isinstance(names, str):  # a lone name would otherwise be read letter by letter
            raise SettingsError("disabled_rules", "disabled_rules must be a list of rule names")
        object.__setattr__(self, "disabled_rules",
                           frozenset(check_rule_name(name) for name in names))
        check_max_title_length(self.max_title_length)
        check_update_status(self.update_status)
        for name in ("max_put_body", "max_post_body"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
                raise SettingsError(name, f"{name} must be a whole number of bytes, at least "
                                          f"1024, got {value!r}")

    @property
    def rules(self) -> RuleSet:
        """The grade-book rules in force for a write."""
        return RuleSet(disabled=self.disabled_rules, max_title_length=self.max_title_length)


__all__ = ["GRADEBOOK_SETTINGS", "UPDATE_STATUSES", "Settings", "SettingsError",
           "check_max_title_length", "check_rule_name", "check_update_status"]
