"""Profiles: which checks a run holds and how severe each is, by whose rules it is judged.

``spec`` is 1EdTech's OneRoster; ``campus`` adds Infinite Campus's partner rules; the consumer
profiles (``schoology``, ``canvas``, ``google``) add what those consumers need on top. A run
with several profiles holds every check of any of them, each at its strictest severity.
"""

from __future__ import annotations

from dataclasses import replace

from .checks import Check

PROFILES = {
    "spec": "1EdTech OneRoster 1.2/1.1 as written",
    "campus": "Infinite Campus partner rules (grade-book write rules, page maximum)",
    "schoology": "what Schoology needs: usernames present, unique and without spaces",
    "canvas": "what Canvas needs: usernames and e-mails present and unique",
    "google": "what Google Classroom needs: e-mails, a teacher found by e-mail, limit=10000",
}
DEFAULT = "spec"

# Checks that belong to some profiles only (every other check is in every profile).
ONLY_IN: dict[str, frozenset[str]] = {
    "OR-GGL-001": frozenset({"google"}),
    "OR-GGL-002": frozenset({"google"}),
}
# Severity a profile raises a check to.
RAISED: dict[str, dict[str, str]] = {
    "OR-GB-003": {"campus": "error"},
    "OR-ID-001": {"schoology": "error", "canvas": "error", "google": "error"},
    "OR-ID-002": {"schoology": "error", "canvas": "error", "google": "error"},
    "OR-ID-003": {"schoology": "error"},
    "OR-ID-004": {"canvas": "error", "google": "error"},
    "OR-ID-005": {"google": "error"},
    "OR-PAGE-005": {"campus": "error"},
}


def parse_profiles(text: str | None) -> tuple[str, ...]:
    """``spec,campus`` -> ("spec", "campus"); ValueError naming an unknown profile."""
    names = tuple(dict.fromkeys(p.strip() for p in (text or DEFAULT).split(",") if p.strip()))
    unknown = [n for n in names if n not in PROFILES]
    if unknown or not names:
        raise ValueError(f"unknown profile {unknown[0] if unknown else text!r}; choose from "
                         f"{', '.join(PROFILES)}")
    return names


def apply_profiles(checks: list[Check], profiles: tuple[str, ...]) -> list[Check]:
    """The checks of ``profiles``, each at the strictest severity any of them gives it."""
    chosen = []
    for found in checks:
        only = ONLY_IN.get(found.id)
        if only is not None and not only & set(profiles):
            continue
        severities = {found.severity} | {RAISED.get(found.id, {}).get(p, found.severity)
                                          for p in profiles}
        severity = "error" if "error" in severities else found.severity
        chosen.append(found if severity == found.severity else replace(found, severity=severity))
    return chosen
