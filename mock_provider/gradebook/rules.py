"""The named rules grade-book writes are checked against, and how a rejection is worded.

Every rule has a name. A rejection's description starts with that name and then names the
values, e.g. ``dates_within_class_terms: dueDate 2027-07-01 is outside term
2026-08-19..2026-12-19 of class c1``. The mock's ``Settings.disabled_rules`` (names, default
none) switches switchable rules off; the request-shape rules cannot be switched off, because
without them there is nothing to store.

Statuses: 400 for a malformed request (not JSON, wrong envelope, sourcedId mismatch, schema),
403 for a connection that may not write, 422 for a well-formed write that breaks a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OneRosterError

# Always on: the request must have a shape before anything else can be checked.
SHAPE_RULES: dict[str, str] = {
    "json_body": "the body is a JSON object",
    "envelope": "the body holds exactly the singular envelope key (e.g. lineItem) with an object",
    "sourcedid_matches_path": "the body's sourcedId, when given, equals the path's",
    "path_matches_record": "a bulk POST's records belong to the class, school, line item or "
                           "session its path names",
    "schema": "the record is valid against the official 1.2 / 1.1 schema",
    "sourcedid_not_hidden": "the sourcedId is not taken by a record the caller cannot see "
                            "(hidden, or of a school outside its scope); answered 404 "
                            "unknownobject, as a GET of it is",
}

# OneRoster's own rules (spec-notes §3.9, §7.2, §7.3).
SPEC_RULES: dict[str, str] = {
    "reference_exists": "each reference names an existing, active record of the right type",
    "result_student_enrolled": "a result's student is enrolled as a student in the line item's "
                               "class",
    "result_class_matches_line_item": "a result's class, when given, is its line item's class",
    "line_item_session_in_class_terms": "a line item's gradingPeriod / academicSession is one "
                                        "of the class's terms, their grading periods or the "
                                        "school year above them",
    "assign_before_due": "a line item's assignDate is not after its dueDate",
    "line_item_school_matches_class": "a line item's school is its class's school",
}

# Infinite Campus's rules for incoming grade-book data (campus-notes §1.2, §1.5), applied in
# both flavors.
CAMPUS_RULES: dict[str, str] = {
    "connection_supported": "only a supported (grade book) connection may write",
    "dates_within_class_terms": "assignDate and dueDate fall inside the class's term dates "
                                "(earliest start .. latest end, end exclusive) or one of its "
                                "grading periods",
    "title_required": "a title is not blank",
    "title_max_length": "a line item's title has at most max_title_length (50) characters",
    "title_unique_in_class": "a line item's title is unique among the class's active line items",
    "uncategorized_default": "a line item sent without a category lands in the class's "
                             "Uncategorized category",
}

RULES: dict[str, str] = {**SHAPE_RULES, **SPEC_RULES, **CAMPUS_RULES}
SWITCHABLE = frozenset(SPEC_RULES) | frozenset(CAMPUS_RULES)
DEFAULT_MAX_TITLE_LENGTH = 50


@dataclass(frozen=True)
class RuleSet:
    """Which rules apply to one request (``Settings.rules``)."""

    disabled: frozenset[str] = frozenset()
    max_title_length: int = DEFAULT_MAX_TITLE_LENGTH

    def on(self, rule: str) -> bool:
        assert rule in RULES, rule
        return rule not in self.disabled


def malformed(rule: str, message: str) -> OneRosterError:
    """400 invaliddata for a request that is not a well-formed write."""
    return OneRosterError(400, "invaliddata", f"{rule}: {message}")


def broken(rule: str, message: str) -> OneRosterError:
    """422 invaliddata for a well-formed write that breaks a rule."""
    return OneRosterError(422, "invaliddata", f"{rule}: {message}")


def forbidden(rule: str, message: str) -> OneRosterError:
    return OneRosterError(403, "forbidden", f"{rule}: {message}")


__all__ = ["CAMPUS_RULES", "DEFAULT_MAX_TITLE_LENGTH", "RULES", "SHAPE_RULES", "SPEC_RULES",
           "SWITCHABLE", "RuleSet", "broken", "forbidden", "malformed"]
