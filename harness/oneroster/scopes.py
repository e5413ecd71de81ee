"""OAuth 2.0 scopes as OneRoster names them, the checker's own copy (it imports nothing from
the mock provider).

1.2: the scope URIs and which operation needs which are read from the operations' ``security``
in the OpenAPI documents (``specs.catalogue``); each operation lists scopes of which any one
allows it. 1.1: written from the spec notes (§6.2, the 1.1 scope list for OAuth 2.0 bearer
tokens): the core rostering reads accept ``roster-core.readonly`` or its superset
``roster.readonly``, the nested reads need ``roster.readonly``, demographics, resources and the
grade book have their own scopes.

What a run asks the token URL for is the scopes of the services its checks read and write
(``scopes_for``): rostering always (core, nested and demographics), the grade book when a
grade-book check runs, resources when a resources check does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from specs.catalogue import operations

PREFIX = {"1.2": "https://purl.imsglobal.org/spec/or/v1p2/scope/",
          "1.1": "https://purl.imsglobal.org/spec/or/v1p1/scope/"}
VERSIONS = tuple(PREFIX)

CORE = "roster-core.readonly"  # the core getAll/get rostering reads; what every connection has
ROSTER = "roster.readonly"  # every rostering read but demographics
DEMOGRAPHICS = "roster-demographics.readonly"
# The one scope a run falls back to when the token URL refuses the list it asked for and does
# not say which of them it refuses: the core rostering reads, the least any OneRoster
# rostering connection is given.
MINIMUM = CORE

# What each service needs, by version: every read (and write, for the grade book) a check of
# that service may send.
SERVICE_SCOPES: dict[str, dict[str, tuple[str, ...]]] = {
    "rostering": {"1.2": (CORE, ROSTER, DEMOGRAPHICS), "1.1": (CORE, ROSTER, DEMOGRAPHICS)},
    "gradebook": {
        "1.2": ("gradebook.readonly", "gradebook.createput", "gradebook.createpost",
                "gradebook.delete"),
        "1.1": ("gradebook.readonly", "gradebook.createput", "gradebook.delete"),
    },
    "resources": {"1.2": ("resource.readonly",), "1.1": ("resource.readonly",)},
    # Checks that only read grade-book records (the number filters on /results).
    "gradebook-reads": {"1.2": ("gradebook.readonly",), "1.1": ("gradebook.readonly",)},
}
SERVICES = tuple(SERVICE_SCOPES)

# 1.1 scope names (spec notes §6.2); 1.2 has these and the assessment and *-core ones.
NAMES_V11 = (CORE, ROSTER, DEMOGRAPHICS, "resource.readonly", "gradebook.readonly",
             "gradebook.createput", "gradebook.delete")

# The core rostering collections: in 1.1 their getAll and get-by-id accept roster-core.
CORE_COLLECTIONS = ("academicSessions", "classes", "courses", "enrollments", "gradingPeriods",
                    "orgs", "schools", "students", "teachers", "terms", "users")


def uri(name: str, version: str) -> str:
    """A short scope name ("roster.readonly") as the version's URI."""
    return PREFIX[version] + name


def short(scope: str) -> str:
    """A scope URI's short name (the last path segment); a short name stays as it is."""
    return scope.rstrip("/").rsplit("/", 1)[-1]


@cache
def names(version: str) -> tuple[str, ...]:
    """Every scope name the version defines."""
    if version == "1.1":
        return NAMES_V11
    found = {short(s) for op in operations() for s in op.scopes}
    return tuple(sorted(found))


def scopes_for(services: Iterable[str], version: str) -> tuple[str, ...]:
    """The scope URIs a run that uses ``services`` asks for, in a fixed order."""
    chosen: list[str] = []
    for service in SERVICES:
        if service in services:
            chosen += [uri(n, version) for n in SERVICE_SCOPES[service][version]]
    return tuple(dict.fromkeys(chosen))


def named_in(text: str, asked: Iterable[str]) -> list[str]:
    """The scopes of ``asked`` that ``text`` (a token URL's error description) names, by URI
    or by short name."""
    found = []
    for scope in asked:
        name = re.escape(short(scope))
        if scope in text or re.search(rf"(?<![\w.-]){name}(?![\w-])", text):
            found.append(scope)
    return found


@dataclass(frozen=True)
class Read:
    """A rostering read operation and the scopes of which any one allows it."""

    path: str  # the template, e.g. /classes/{classSourcedId}/students
    scopes: frozenset[str]  # URIs of the version


def _scopes_v11(path: str) -> frozenset[str]:
    parts = [p for p in path.split("/") if p]
    if parts[0] == "demographics":
        return frozenset({uri(DEMOGRAPHICS, "1.1")})
    if parts[0] in CORE_COLLECTIONS and len(parts) <= 2:
        return frozenset({uri(CORE, "1.1"), uri(ROSTER, "1.1")})
    return frozenset({uri(ROSTER, "1.1")})


@cache
def rostering_reads(version: str) -> tuple[Read, ...]:
    """Every rostering read operation with its scopes: 1.2 as the OpenAPI document says; 1.1
    the same paths (1.1 serves the same rostering reads) with the 1.1 rules."""
    reads = []
    for op in operations("rostering"):
        if op.method != "get":
            continue
        reads.append(Read(op.path, op.scopes if version == "1.2" else _scopes_v11(op.path)))
    return tuple(reads)


__all__ = ["CORE", "DEMOGRAPHICS", "MINIMUM", "PREFIX", "ROSTER", "SERVICES", "Read", "named_in",
           "names", "rostering_reads", "scopes_for", "short", "uri"]
