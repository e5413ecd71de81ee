"""Referential integrity: references resolve, nested rosters agree with /enrollments, one
primary role per user, and the org and session trees are trees.

The checks read whole collections through ``Context.walk`` (each walked once per run). When a
walk stops at its page cap, a check says so in its message and never reports what it could
not see as missing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from ..engine import Finding, Outcome, passed
from ..exchange import Exchange
from .context import Context, Walk
from .support import Offenders, by_id, check, evidence, few, index_of, ref_id

# The core collections whose records hold references, walked by these checks.
WALKED = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments")
# GUIDRef type -> the collection that serves it (1.1 also writes student, teacher and term).
TYPE_COLLECTION = {"org": "orgs", "academicSession": "academicSessions",
                   "term": "academicSessions", "course": "courses", "class": "classes",
                   "user": "users", "student": "users", "teacher": "users"}
# (collection, field path) -> the collection its references must point into.
FIELD_COLLECTION = {
    ("orgs", "parent"): "orgs", ("orgs", "children"): "orgs",
    ("academicSessions", "parent"): "academicSessions",
    ("academicSessions", "children"): "academicSessions",
    ("courses", "schoolYear"): "academicSessions", ("courses", "org"): "orgs",
    ("classes", "course"): "courses", ("classes", "school"): "orgs",
    ("classes", "terms"): "academicSessions",
    ("users", "roles.org"): "orgs", ("users", "primaryOrg"): "orgs", ("users", "orgs"): "orgs",
    ("users", "agents"): "users",
    ("enrollments", "user"): "users", ("enrollments", "class"): "classes",
    ("enrollments", "school"): "orgs",
}
SAMPLE_CLASSES = 3
NESTED_MAX_PAGES = 5


def guid_refs(record: dict) -> Iterator[tuple[str, dict]]:
    """(field path, GUIDRef) for every reference nested in ``record`` (list indices dropped,
    e.g. ``roles.org``); ``metadata`` is the provider's own and is left alone."""

    def visit(value: object, path: str) -> Iterator[tuple[str, dict]]:
        if isinstance(value, dict):
            if path and "sourcedId" in value:
                yield path, value
                return
            for key, item in value.items():
                if not path and key == "metadata":
                    continue
                yield from visit(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                yield from visit(item, path)

    yield from visit(record, "")


@check("OR-REF-001", "Every reference resolves to a served record of the right type",
       "OneRoster 1.2 Rostering information model: GUIDRef (href, sourcedId, type); "
       "1.1 GUIDRef")
def references_resolve(ctx: Context) -> Outcome:
    """Every GUIDRef in orgs, academicSessions, courses, classes, users and enrollments (a
    class's course, school and terms, an enrollment's user, class and school, a user's orgs,
    roles, primaryOrg and agents, parents and children, a course's org and schoolYear) must
    name a record the provider serves in the collection its ``type`` stands for (``org`` in
    /orgs, ``academicSession`` or 1.1 ``term`` in /academicSessions, ``course``, ``class``,
    ``user``/``student``/``teacher`` in /users), and the type must fit the field (a class's
    ``course`` is a ``course``). References of other services (``resource``) are not followed.
    A dangling reference breaks every consumer that joins records, typically an enrollment
    whose user or class was filtered out of the feed. Fix: serve every record that something
    references (with status ``tobedeleted`` rather than dropping it), and write the right
    ``type`` on each reference."""
    walks = {c: ctx.walk(c) for c in WALKED}
    served = {c: set(by_id(w)) for c, w in walks.items()}
    wrong: list[tuple[str, Exchange]] = []
    dangling: list[tuple[str, str, str, Exchange]] = []  # (where, collection, id, page)
    checked = 0
    for collection, walk in walks.items():
        for index, record in enumerate(walk.records):
            owner = f"{collection}/{record.get('sourcedId')}"
            for path, ref in guid_refs(record):
                kind = ref.get("type")
                expected = FIELD_COLLECTION.get((collection, path))
                pointed = TYPE_COLLECTION.get(kind) if isinstance(kind, str) else None
                if expected is None and pointed is None:
                    continue  # another service's reference (a resource, say)
                checked += 1
                if expected is not None and pointed != expected:
                    wrong.append((f"{owner} {path} has type {kind!r} (expected a reference "
                                  f"into /{expected})", walk.exchange_for(index)))
                    continue
                target_collection = expected or pointed
                sourced_id = ref_id(ref)
                if sourced_id not in served[target_collection]:
                    dangling.append((f"{owner} {path}", target_collection, str(sourced_id),
                                     walk.exchange_for(index)))
    if wrong:
        raise Finding(f"{len(wrong)} references have the wrong type: "
                      f"{few([w for w, _ in wrong])}", *evidence(*(e for _, e in wrong)),
                      items=[w for w, _ in wrong])
    partial = [c for c, w in walks.items() if not w.complete]
    confirmed: list[tuple[str, str, str, Exchange]] = []
    probes: list[Exchange] = []
    for where, collection, sourced_id, page in dangling:
        if walks[collection].complete:
            confirmed.append((where, collection, sourced_id, page))
        elif len(probes) < 5:  # not read: ask for it by id before calling it missing
            probe = ctx.target.get(f"/{collection}/{sourced_id}")
            probes.append(probe)
            if probe.status == 404:
                confirmed.append((where, collection, sourced_id, probe))
    if confirmed:
        first = confirmed[0]
        probe = ctx.target.get(f"/{first[1]}/{first[2]}") if walks[first[1]].complete else None
        listed = "" if probe is None or probe.status == 404 else (
            f"; GET /{first[1]}/{first[2]} answers {probe.status}, but the walk of /{first[1]} "
            "does not list it")
        raise Finding(f"{len(confirmed)} references point at records the provider does not "
                      f"serve: {few([f'{w} -> /{c}/{i}' for w, c, i, _ in confirmed])}{listed}",
                      *evidence(first[3], probe, *(e for *_, e in confirmed[1:])),
                      items=[f'{w} -> /{c}/{i}' for w, c, i, _ in confirmed])
    unread = len(dangling) - len(probes)
    note = (f" (walks cut short: {', '.join(partial)}; {len(probes)} references into records "
            f"not read were found by id, {unread} more were not followed)") if partial else ""
    return passed(f"{checked} references resolve to records of the right type{note}")


def _roster(ctx: Context, class_id: str, which: str) -> tuple[set[str], Exchange] | None:
    """The user ids /classes/{id}/{which} serves and its first page, or None when the provider
    does not offer the (optional) endpoint."""
    path = f"/classes/{class_id}/{which}"
    try:
        walk = ctx.walk_pages(path, "users", max_pages=NESTED_MAX_PAGES)
    except Finding as finding:
        if finding.evidence and finding.evidence[-1].status in (403, 404, 405, 501):
            return None
        raise
    return {r["sourcedId"] for r in walk.records if isinstance(r.get("sourcedId"), str)}, \
        walk.exchanges[0]


@check("OR-REF-002", "Class rosters (/classes/{id}/students, /teachers) agree with /enrollments",
       "OneRoster 1.2 Rostering REST binding: getStudentsForClass, getTeachersForClass; 1.1 "
       "the same operations")
def class_rosters_agree(ctx: Context) -> Outcome:
    """For a sample of classes (the first three with students), ``/classes/{id}/students`` must
    list every user with an active ``student`` enrollment in the class and nobody without a
    student enrollment there, and never a teacher of the class; ``/classes/{id}/teachers``
    likewise for ``teacher`` enrollments, never listing a student. Users whose only enrollment
    in the class is ``tobedeleted`` may appear or not. The nested endpoints are optional
    (roster.readonly, not roster-core): a provider that answers 403, 404, 405 or 501 for them
    is skipped. Fix: build the nested lists from the same enrollments /enrollments serves."""
    classes, enrollments, users = ctx.walk("classes"), ctx.walk("enrollments"), ctx.walk("users")
    if not enrollments.complete:
        return Outcome("skipped", "cannot compare rosters with a partial enrollments walk"
                       + enrollments.extent)
    # class -> role -> ids, for active enrollments and for enrollments of any status
    active: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    anyhow: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    position: dict[tuple[str, str], int] = {}  # (class, user) -> index of an enrollment
    for index, record in enumerate(enrollments.records):
        class_id, user_id = ref_id(record.get("class")), ref_id(record.get("user"))
        role = record.get("role")
        if class_id and user_id and role in ("student", "teacher"):
            anyhow[class_id][role].add(user_id)
            position.setdefault((class_id, user_id), index)
            if record.get("status") == "active":
                active[class_id][role].add(user_id)
    natural = {r.get("sourcedId"): _natural_role(r) for r in users.records}
    sample = [cid for cid in (ref_id(c) for c in classes.records)
              if cid and active[cid]["student"]][:SAMPLE_CLASSES]
    if not sample:
        return Outcome("skipped", "no class with an active student enrollment to sample")
    compared = 0
    for class_id in sample:
        for which, role, other in (("students", "student", "teacher"),
                                   ("teachers", "teacher", "student")):
            roster = _roster(ctx, class_id, which)
            if roster is None:
                return Outcome("skipped", f"the provider does not serve /classes/{{id}}/{which} "
                               "(an optional roster.readonly endpoint)")
            listed, exchange = roster
            wrong_role = sorted(u for u in listed if u in anyhow[class_id][other] or (
                natural.get(u) == other and u not in anyhow[class_id][role]))
            missing = sorted(active[class_id][role] - listed)
            stray = sorted(listed - anyhow[class_id][role] - set(wrong_role))
            where = f"/classes/{class_id}/{which}"
            first = (wrong_role or missing or [""])[0]
            at = position.get((class_id, first))  # the enrollment that contradicts the roster
            exchange_pair = evidence(exchange, None if at is None
                                     else enrollments.exchange_for(at))
            if wrong_role:
                raise Finding(f"{where} lists {len(wrong_role)} {other}s: {few(wrong_role)}",
                              *exchange_pair, items=wrong_role)
            if missing:
                raise Finding(f"{where} leaves out {len(missing)} users with an active {role} "
                              f"enrollment in the class: {few(missing)}", *exchange_pair,
                              items=missing)
            if stray:
                raise Finding(f"{where} lists {len(stray)} users without a {role} enrollment "
                              f"in the class: {few(stray)}", exchange, items=stray)
            compared += 1
    return passed(f"{compared} class rosters of {len(sample)} classes agree with /enrollments")


def _natural_role(user: dict) -> str | None:
    """A user's role: 1.1 ``role``, or the role of the 1.2 primary role."""
    if isinstance(user.get("role"), str):
        return user["role"]
    roles = user.get("roles")
    if isinstance(roles, list):
        for role in roles:
            if isinstance(role, dict) and role.get("roleType") == "primary":
                return role.get("role")
    return None


def _primary_problems(roles: object) -> str | None:
    """Why a 1.2 user's roles break "one, and only one, primary role for each org" (None
    when they keep it)."""
    if not isinstance(roles, list) or not roles:
        return "no roles"
    primaries: dict[str, int] = {}
    for role in roles:
        if isinstance(role, dict):
            org = ref_id(role.get("org")) or "(no org)"
            primaries[org] = primaries.get(org, 0) + (role.get("roleType") == "primary")
    wrong = [f"{count} primary roles for org {org}" for org, count in primaries.items()
             if count != 1]
    return "; ".join(wrong) or None


@check("OR-REF-003", "Each user has roles, exactly one primary role for each org",
       "OneRoster 1.2 UserDType.roles (minItems 1); RoleDType.roleType: there MUST be one, and "
       "only one, primary role for each org; 1.1 users have one role (not applicable)")
def one_primary_role(ctx: Context) -> Outcome:
    """OneRoster 1.2 users carry ``roles``, a list of (roleType, role, org) with at least one
    entry, and for each org that appears there, exactly one of the user's roles at that org
    has ``roleType`` ``primary`` (RoleDType: "one, and only one, primary role for each org").
    A teacher who works at two schools has a primary role at each; an aide who is also a
    parent at one school has one primary and one secondary role there. Consumers use the
    primary role at an org to decide what the user is at that org. The spec requires
    ``roles`` on every user, ``tobedeleted`` ones included, so a user without roles is
    reported. 1.1 users have a single ``role``, so the check is skipped for 1.1. Fix: for
    each org of a user, mark one role primary and the others secondary."""
    if ctx.target.version != "1.2":
        return Outcome("skipped", "1.1 users have a single role")
    walk = ctx.walk("users")
    offenders: list[str] = []
    pages: list[Exchange] = []
    for index, user in enumerate(walk.records):
        problem = _primary_problems(user.get("roles"))
        if problem:
            offenders.append(f"{user.get('sourcedId')} ({problem})")
            pages.append(walk.exchange_for(index))
    if offenders:
        raise Finding(f"{len(offenders)} users do not have exactly one primary role for each "
                      f"org: {few(offenders)}{walk.extent}", *evidence(*pages), items=offenders)
    return passed(f"{len(walk.records)} users, each with one primary role for each of their "
                  f"orgs{walk.extent}")


def _children(record: dict) -> list[str]:
    children = record.get("children")
    if not isinstance(children, list):
        return []
    return [cid for cid in map(ref_id, children) if cid is not None]


def _tree_problems(walk: Walk, label: str) -> tuple[list[str], list[Exchange]]:
    """Cycles and parent/children disagreements in one collection's tree. References to records
    not served are OR-REF-001's business and left out here."""
    records = by_id(walk)
    where = index_of(walk)
    parent: dict[str, str] = {}
    for sid, record in records.items():
        pid = ref_id(record.get("parent"))
        if pid in records:
            parent[sid] = pid
    kids = {sid: set(_children(record)) for sid, record in records.items()}
    uses_children = any("children" in r for r in records.values())
    problems: list[str] = []
    pages: list[Exchange] = []

    def note(problem: str, *ids: str) -> None:
        problems.append(problem)
        pages.extend(walk.exchange_for(where[i]) for i in ids if i in where)

    in_cycle: set[str] = set()
    for start in records:
        path: list[str] = []
        node: str | None = start
        on_path: set[str] = set()
        while node is not None and node not in on_path and node not in in_cycle:
            path.append(node)
            on_path.add(node)
            node = parent.get(node)
        if node is not None and node in on_path:
            cycle = path[path.index(node):]
            in_cycle.update(cycle)
            note(f"{label} {' -> '.join([*cycle, node])} is a cycle", node)
    for sid in records:
        pid = parent.get(sid)
        if pid is not None and pid != sid and uses_children and sid not in kids[pid]:
            note(f"{label} {sid} names parent {pid}, whose children leave it out", sid, pid)
        for cid in sorted(kids[sid]):
            if cid in records and cid != sid:
                named = ref_id(records[cid].get("parent"))
                if named != sid:
                    note(f"{label} {sid} lists child {cid}, whose parent is "
                         f"{named or 'not set'}", sid, cid)
    return problems, pages


@check("OR-REF-004", "Org and session trees have no cycles, and parent and children agree",
       "OneRoster 1.2 OrgDType and AcademicSessionDType: parent, children; 1.1 Org and "
       "AcademicSession the same")
def trees_are_trees(ctx: Context) -> Outcome:
    """Orgs (district -> schools) and academic sessions (school year -> terms -> grading
    periods) form trees through ``parent`` and ``children``. No record may be its own parent
    or ancestor, and the two directions must agree: a record listed in ``children`` names that
    record as its ``parent``, and when the provider writes ``children`` at all, a parent's
    ``children`` include every record that names it. Consumers walk these trees to place schools
    and terms, and a cycle makes them loop. Fix: derive ``children`` from ``parent`` (or the
    other way round) from one source, and never point a record at itself."""
    problems: list[str] = []
    pages: list[Exchange] = []
    counted = []
    extents = ""
    for collection, label in (("orgs", "org"), ("academicSessions", "session")):
        walk = ctx.walk(collection)
        found, shown = _tree_problems(walk, label)
        problems += found
        pages += shown
        extents += walk.extent
        counted.append(f"{len(walk.records)} {collection}{walk.extent}")
    if problems:
        raise Finding(f"{len(problems)} tree problems: {few(problems)}{extents}",
                      *evidence(*pages), items=problems)
    return passed(f"{' and '.join(counted)} form consistent trees")


def _roles_of(user: dict) -> set[str]:
    """Every role a user holds: 1.1 ``role``, 1.2 each ``roles[].role``."""
    found = {user["role"]} if isinstance(user.get("role"), str) else set()
    roles = user.get("roles")
    if isinstance(roles, list):
        found |= {r["role"] for r in roles if isinstance(r, dict) and isinstance(r.get("role"),
                                                                                   str)}
    return found


GUARDIANS = frozenset({"parent", "guardian"})


@check("OR-REF-005", "Parents and guardians have student agents; a teacher is no agent",
       "OneRoster 1.2 UserDType.agents: a student links to its parents or guardians, a parent "
       "has students as agents, a teacher is never an agent of a student; 1.1 the same")
def agents_link_families(ctx: Context) -> Outcome:
    """``agents`` links a student and the adults responsible for it, both ways: a user whose
    role is ``parent`` or ``guardian`` has at least one agent, and its agents are students; a
    student's agents are never teachers (teaching is what enrollments say). Consumers build
    parent portals and guardian e-mails from these links, and a parent without agents sees
    no child. Agents that do not resolve are OR-REF-001's business, and agents without any
    role OR-REF-003's; both are left out here. Fix:
    write ``agents`` on both sides of every student-guardian link."""
    walk = ctx.walk("users")
    users = by_id(walk)
    where = index_of(walk)
    offenders = Offenders()
    for sid, user in users.items():
        roles = _roles_of(user)
        agents = [a for a in map(ref_id, user.get("agents") or []) if a is not None] \
            if isinstance(user.get("agents"), list) else []
        known = [a for a in agents if a in users]
        page = walk.exchange_for(where[sid])
        if roles & GUARDIANS:
            if not agents:
                offenders.add(f"{sid} ({'/'.join(sorted(roles))}) has no agents", page)
            elif walk.complete and (others := [a for a in known if _roles_of(users[a])
                                               and "student" not in _roles_of(users[a])]):
                offenders.add(f"{sid} ({'/'.join(sorted(roles))}) has agents that are not "
                              f"students: {few(others)}", page)
        if "student" in roles and (teachers := [a for a in known
                                                if _roles_of(users[a]) == {"teacher"}]):
            offenders.add(f"student {sid} has teachers as agents: {few(teachers)}", page)
    offenders.raise_if_any(lambda n: f"{n} users break the agents rules", walk.extent)
    return passed(f"{len(users)} users: every parent and guardian has student agents, no "
                  f"student has a teacher as agent{walk.extent}")
