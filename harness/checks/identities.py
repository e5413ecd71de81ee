"""Usernames and e-mail addresses: what consumers log users in and match them by.

OneRoster 1.2 makes neither ``username`` nor ``email`` required (``username`` is kept for 1.1
compatibility; 1.1 requires it), and says nothing of their form. Consumers depend on them all
the same: Schoology skips users whose username has a space, Google Classroom and Microsoft SDS
match teachers by e-mail, SDS exports drop users whose e-mail is empty or the text ``NULL``, and
a username shared by two users merges them in products that log in by username. So these
checks have **warning** severity: they never make a provider non-conformant, but they name the
users a consumer will stumble over. (In 1.1 a missing username is also a schema violation,
which OR-SCHEMA-001 reports as an error when it shows on a first page.)
"""

from __future__ import annotations

import re
from collections import defaultdict

from ..engine import Finding, Outcome, passed
from ..exchange import Exchange
from .context import Context, Walk
from .support import check, evidence, few

# One @, something before it, a dot inside the domain, no spaces.
PLAUSIBLE_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _users(ctx: Context) -> Walk:
    return ctx.walk("users")


def _report(walk: Walk, offenders: list[tuple[int, str]], what: str, good: str) -> Outcome:
    """Fail naming the first few offenders (index into the walk, label), or pass."""
    if offenders:
        pages: list[Exchange] = [walk.exchange_for(i) for i, _ in offenders]
        raise Finding(f"{len(offenders)} users {what}: {few([label for _, label in offenders])}"
                      f"{walk.extent}", *evidence(*pages), items=[label for _, label in offenders])
    return passed(f"{len(walk.records)} users {good}{walk.extent}")


def _username(user: dict) -> str | None:
    name = user.get("username")
    return name if isinstance(name, str) and name.strip() else None


@check("OR-ID-001", "Every user has a username",
       "OneRoster 1.1 User.username (required); 1.2 UserDType.username (optional)",
       severity="warning")
def usernames_present(ctx: Context) -> Outcome:
    """Every user should carry a non-empty ``username``. 1.1 requires it; 1.2 keeps it optional
    (``userProfiles`` are preferred) but most consumers still log users in or match them by it,
    and a user without one is usually skipped. Fix: fill ``username`` from the SIS login (or the
    district's SSO name) for every user, including guardians and staff."""
    walk = _users(ctx)
    offenders = [(i, str(u.get("sourcedId"))) for i, u in enumerate(walk.records)
                 if _username(u) is None]
    return _report(walk, offenders, "have no username", "have a username")


@check("OR-ID-002", "Usernames are unique",
       "Consumer practice: username as a login and match key (not a OneRoster rule)",
       severity="warning")
def usernames_unique(ctx: Context) -> Outcome:
    """No two users should share a ``username`` (compared without regard to case, as logins
    are). OneRoster does not require uniqueness, but consumers that log in or match accounts by
    username merge the two people, or refuse the second. Fix: make usernames unique across the
    district (for example by a district-wide login rather than one per building)."""
    walk = _users(ctx)
    holders: dict[str, list[int]] = defaultdict(list)
    for index, user in enumerate(walk.records):
        name = _username(user)
        if name is not None:
            holders[name.casefold()].append(index)
    offenders = [(i, f"{walk.records[i].get('sourcedId')} ({walk.records[i]['username']!r})")
                 for indexes in holders.values() if len(indexes) > 1 for i in indexes]
    return _report(walk, offenders, "share a username with another user",
                   "have distinct usernames")


@check("OR-ID-003", "Usernames contain no spaces",
       "Schoology: usernames without spaces (users with a space in the username are not synced)",
       severity="warning")
def usernames_without_spaces(ctx: Context) -> Outcome:
    """A ``username`` should contain no whitespace. OneRoster allows it (a NormalizedString),
    but Schoology does not sync users whose username has a space, and login systems generally
    reject it. Fix: write usernames without spaces (``jsmith``, not ``john smith``)."""
    walk = _users(ctx)
    offenders = [(i, f"{u.get('sourcedId')} ({u['username']!r})")
                 for i, u in enumerate(walk.records)
                 if _username(u) is not None and re.search(r"\s", u["username"])]
    return _report(walk, offenders, "have a space in their username",
                   "have usernames without spaces")


def _email(user: dict) -> str | None:
    email = user.get("email")
    return email if isinstance(email, str) and email.strip() else None


@check("OR-ID-004", "Every user has an e-mail address",
       "Google Classroom and Microsoft SDS: users matched by e-mail (OneRoster 1.2 "
       "UserDType.email and 1.1 User.email are optional)", severity="warning")
def emails_present(ctx: Context) -> Outcome:
    """Every user should carry a non-empty ``email``. The spec leaves it optional, but Google
    Classroom finds teachers by e-mail, Microsoft SDS grade sync needs a teacher's e-mail, and
    many products create accounts from it; a user without one is skipped or cannot sign in.
    Fix: export the district address for every user (staff and students at least)."""
    walk = _users(ctx)
    offenders = [(i, str(u.get("sourcedId"))) for i, u in enumerate(walk.records)
                 if _email(u) is None]
    return _report(walk, offenders, "have no e-mail address", "have an e-mail address")


@check("OR-ID-005", "E-mail addresses are plausible",
       "Consumer practice: one @ and a dotted domain; not the text NULL (1.2 UserDType.email, "
       "1.1 User.email)", severity="warning")
def emails_plausible(ctx: Context) -> Outcome:
    """Every ``email`` present should look like an address: one ``@`` with text before it, a
    domain with a dot, and no spaces. Placeholders such as the text ``NULL`` (an empty database
    column printed as text) are reported: consumers either drop the user or create an account
    that can never receive mail. Fix: omit ``email`` when there is none, and never export
    placeholders."""
    walk = _users(ctx)
    offenders = [(i, f"{u.get('sourcedId')} ({u['email']!r})")
                 for i, u in enumerate(walk.records)
                 if _email(u) is not None and not PLAUSIBLE_EMAIL.fullmatch(u["email"])]
    return _report(walk, offenders, "have an implausible e-mail address",
                   "with e-mail have a plausible address")
