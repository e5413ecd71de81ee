"""Filtering (OR-FILTER-*), checked against the provider's own data.

The filter check generates filters with Hypothesis strategies over the fields, operators and
values the provider itself serves (seeded, so a run against the same data with the same
``--seed`` asks the same questions) and compares each answer with the same filter evaluated
here over the full walk of the collection. The evaluation is the checker's own reading of the
spec, ``harness.oneroster.filters`` (independent of the mock provider, so a misreading the
mock makes shows up here; a field's values are read once per walk): text by code point, dates
and date-times as UTC instants, a missing field never matching (``!=`` included), an array
field matching when any element does. Where the spec is silent the checks accept every
reasonable reading: ``~`` may or may not ignore case in OR-FILTER-001 (OR-FILTER-003 asks for
case-insensitivity, as a warning).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import hypothesis
from hypothesis import strategies as st

from ..engine import Finding, Offenders, Outcome, passed
from ..exchange import Exchange
from ..oneroster.fields import Catalogue, Field, Kind, catalogue
from ..oneroster.filters import (
    Contains,
    Filter,
    FilterError,
    Predicate,
    check_filter,
    check_predicate,
    read_values,
)
from ..oneroster.values import read_time
from .context import Context, Walk, WalkLimits, answered
from .support import check, code_minor, few, record_ids, status_payload_errors

FILTER_QUERIES = 12  # generated filters per run
FILTER_SEED = "OR-FILTER-001"  # with the version: the same data gets the same filters
FILTER_TRIES = 25  # candidates drawn per filter while looking for an informative one
FILTER_MAX_PAGES = 5  # pages per filtered walk
FILTER_SIZE_PAGES = 2  # pages' worth of records a generated filter is meant to select at most
FILTER_BUDGET = 150  # requests the generated filters may use at most (also <= 1/4 remaining)
SCREEN_SAMPLE = 3_000  # records (evenly spread) candidates are tried on
OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")
SHAPES = (None, "AND", "OR")  # single predicate, two joined by AND, two joined by OR
SLOT_COLLECTIONS = ("users", "users", "users", "enrollments")

EQ = ("=", "!=")
TEXT = ("=", "!=", "~")
ORDERED = ("=", "!=", ">", ">=", "<", "<=")  # the spec's ordering operators: dates, numbers
ANY = ("=",)  # array fields: "any element equals" is the one reading everybody shares
FILTER_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "users": {"sourcedId": EQ, "status": EQ, "dateLastModified": ORDERED, "username": TEXT,
              "enabledUser": EQ, "givenName": TEXT, "familyName": TEXT, "email": TEXT,
              "identifier": TEXT, "role": EQ, "roles.role": ANY, "primaryOrg.sourcedId": EQ,
              "orgs.sourcedId": ANY, "grades": ANY},
    "enrollments": {"sourcedId": EQ, "status": EQ, "dateLastModified": ORDERED, "role": EQ,
                    "primary": EQ, "user.sourcedId": EQ, "class.sourcedId": EQ,
                    "school.sourcedId": EQ, "beginDate": ORDERED, "endDate": ORDERED},
}
# Readings of ``~`` accepted in OR-FILTER-001; the first is the one OR-FILTER-003 asks for.
CONTAINS: tuple[Contains, ...] = (Contains.ASCII, Contains.EXACT, Contains.CASEFOLD)
MALFORMED = ("familyName~", "familyName='Smith' AND")
MALFORMED_CODES = {"1.2": ("invaliddata", "invalid_filter_field"),
                   "1.1": ("invalid data", "invalid_filter_field")}


def raw_values(record: dict, found: Field) -> list[str]:
    """The field's text values exactly as served (one per array element for array fields)."""
    return [v for v in found.served(record) or [] if isinstance(v, str)]


def _usable(value: str, found: Field) -> bool:
    """A value that every provider should read the same way inside single quotes."""
    if not value.strip() or value != value.strip() or "'" in value or " AND " in value \
            or " OR " in value:
        return False
    return not found.kind.is_time or read_time(value) is not None


@dataclass
class FilterPool:
    """What filters on one collection are built from and checked against: the walk, the
    fields' values per record (computed once per field), and the values to filter by."""

    collection: str
    walk: Walk
    cat: Catalogue
    values: dict[str, list[str]]  # field -> distinct usable values of the screened records
    ops: dict[str, tuple[str, ...]]
    screen: list[int]  # indices of the records candidates are tried on
    index: dict[str, int] = field(default_factory=dict)
    columns: dict[str, list] = field(default_factory=dict)
    sets: dict[tuple, frozenset[int]] = field(default_factory=dict)
    page_size: int = WalkLimits.page_size  # of the filtered walks

    @classmethod
    def build(cls, collection: str, walk: Walk, version: str,
              page_size: int = WalkLimits.page_size) -> FilterPool:
        cat = catalogue(collection, version)
        step = max(1, -(-len(walk.records) // SCREEN_SAMPLE))
        screen = list(range(0, len(walk.records), step))
        values: dict[str, list[str]] = {}
        ops: dict[str, tuple[str, ...]] = {}
        for name, allowed in FILTER_FIELDS[collection].items():
            found = cat.fields.get(name)
            if found is None:
                continue  # not a field in this version (1.2 roles.role, 1.1 role)
            seen = dict.fromkeys(v for i in screen for v in raw_values(walk.records[i], found)
                                 if _usable(v, found))
            if seen:
                values[name], ops[name] = list(seen), allowed
        index = {r["sourcedId"]: i for i, r in enumerate(walk.records)
                 if isinstance(r.get("sourcedId"), str)}
        return cls(collection, walk, cat, values, ops, screen, index, page_size=page_size)

    def column(self, name: str) -> list:
        if name not in self.columns:
            found = self.cat.fields[name]
            self.columns[name] = [read_values(r, found) for r in self.walk.records]
        return self.columns[name]

    def selected(self, predicate: Predicate, contains: Contains = Contains.ASCII,
                 screened: bool = False) -> frozenset[int]:
        """Indices of the walk's records (or of the screened ones) the predicate selects."""
        screened = screened and len(self.screen) < len(self.walk.records)
        key = (predicate, contains if predicate.op == "~" else None, screened)
        if key not in self.sets:
            condition = check_predicate(predicate, self.cat)
            column = self.column(predicate.field)
            where = self.screen if screened else range(len(column))
            test = condition.test(contains)
            self.sets[key] = frozenset(
                i for i in where if condition.holds(column[i], contains, test))
        return self.sets[key]

    def result(self, flt: Filter, contains: Contains = Contains.ASCII,
               screened: bool = False) -> frozenset[int]:
        first, *rest = (self.selected(p, contains, screened) for p in flt.predicates)
        if not rest:
            return first
        return first & rest[0] if flt.logical == "AND" else first | rest[0]

    def predicates(self, op: str | None = None) -> st.SearchStrategy[Predicate | None]:
        """Predicates over this pool's fields and served values (``op`` fixed when given): a
        field, an operator it allows, a value seen in the data (for ``~`` a short piece of
        one)."""
        names = [n for n in self.values if op is None or op in self.ops[n]]
        if not names:
            return st.none()

        def of_field(name: str) -> st.SearchStrategy[Predicate | None]:
            ops = st.just(op) if op else st.sampled_from(self.ops[name])
            timed = self.cat.fields[name].kind == Kind.DATETIME
            values = st.sampled_from(self.values[name])
            if timed:  # the served instant, as served or written another equivalent way
                values = values.flatmap(lambda v: st.sampled_from(respellings(v)))
            return st.tuples(ops, values).flatmap(lambda pair: _valued(name, *pair))

        return st.sampled_from(names).flatmap(of_field)

    def informative(self, flt: Filter) -> bool:
        """On the screened records: selects some but not all, each predicate makes a
        difference, and the answer should fit in FILTER_SIZE_PAGES pages."""
        n = len(self.screen)
        result = self.result(flt, screened=True)
        ok = 0 < len(result) < n
        if ok and flt.logical:
            ok = all(result != self.selected(p, screened=True) for p in flt.predicates)
        expected_size = len(result) * len(self.walk.records) / max(1, n)
        return ok and expected_size <= 0.9 * FILTER_SIZE_PAGES * self.page_size

    def filters(self, op: str, logical: str | None) -> st.SearchStrategy[Filter | None]:
        """Filters whose first predicate uses ``op``: one predicate, or two joined by
        ``logical``; None where the pool cannot make one the filter grammar accepts."""
        second = self.predicates() if logical else st.none()
        return st.tuples(self.predicates(op), second).map(
            lambda pair: self._filter(pair[0], pair[1], logical))

    def _filter(self, first: Predicate | None, second: Predicate | None,
                logical: str | None) -> Filter | None:
        if first is None or (logical and second is None) or first == second:
            return None  # "X AND X" says nothing a single X does not
        flt = Filter((first, second), logical) if second else Filter((first,))
        try:
            check_filter(flt, self.cat)
        except FilterError:
            return None
        return flt


def respellings(value: str) -> list[str]:
    """A UTC date-time as served, then the same instant written other ISO 8601 ways a client
    may keep its watermark in (with milliseconds, with +00:00): a provider that compares
    date-times as instants answers them all alike, one that compares text does not."""
    if not value.endswith("Z") or "T" not in value:
        return [value]
    head = value[:-1]
    millis = head if "." in head else head + ".000"
    return [value, millis + "Z", head + "+00:00"]


def respelled_note(flt: Filter) -> str:
    """For a message: the predicates whose date-time is not written as served."""
    odd = [p for p in flt.predicates if p.value.endswith(("+00:00", ".000Z"))]
    return "".join(f"; {p.value!r} is a served instant written another ISO 8601 way: "
                   "compare date-times as instants, not as text" for p in odd[:1])


def _valued(name: str, op: str, value: str) -> st.SearchStrategy[Predicate | None]:
    if op != "~":
        return st.just(Predicate(name, op, value))
    # ``~``: a piece of 1 to 4 characters of a served value, without edge spaces.
    return st.integers(1, min(4, len(value))).flatmap(
        lambda size: st.integers(0, len(value) - size).map(
            lambda start: _piece(name, value[start:start + size])))


def _piece(name: str, piece: str) -> Predicate | None:
    return Predicate(name, "~", piece) if piece and piece == piece.strip() else None


def _draws(strategy: st.SearchStrategy, seed: int, count: int) -> list:
    """``count`` examples of ``strategy``, the same ones for the same seed."""
    found: list = []

    @hypothesis.seed(seed)
    @hypothesis.settings(max_examples=count, database=None, deadline=None,
                         phases=[hypothesis.Phase.generate],
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(strategy)
    def collect(example: object) -> None:
        found.append(example)

    collect()
    return found


def generate_filters(pools: dict[str, FilterPool], rng: random.Random,
                     count: int = FILTER_QUERIES) -> list[tuple[FilterPool, Filter]]:
    """``count`` distinct filters drawn with Hypothesis: the first predicates cycle through
    every operator, the shapes through one predicate, AND and OR, the collections through
    users and enrollments; of the candidates drawn for each, the first informative one is
    kept. ``rng`` orders the operators and seeds the draws."""
    operators = list(OPERATORS)
    rng.shuffle(operators)
    chosen: list[tuple[FilterPool, Filter]] = []
    seen: set[str] = set()
    for slot in range(count):
        op = operators[slot % len(operators)]
        logical = SHAPES[slot % len(SHAPES)]
        preferred = pools.get(SLOT_COLLECTIONS[slot % len(SLOT_COLLECTIONS)])
        usable = [p for p in pools.values() if any(op in o for o in p.ops.values())]
        if not usable:
            continue
        pool = preferred if any(p is preferred for p in usable) else usable[0]
        best = None
        for flt in _draws(pool.filters(op, logical), rng.randrange(2**32), FILTER_TRIES):
            if flt is None or str(flt) in seen:
                continue
            best = flt
            if pool.informative(flt):
                break
        if best is not None:
            chosen.append((pool, best))
            seen.add(str(best))
    return chosen


def _records(count: int) -> str:
    return f"{count} record{'' if count == 1 else 's'}"


def _compare(pool: FilterPool, flt: Filter, got: Walk, contains: Contains
             ) -> tuple[set[str], list[str], list[str]]:
    """(expected ids over the full walk, missing from the answer, answered but not matching).
    An answered record is judged as served in the answer (by the walk's verdict when it is the
    same as the walk's copy)."""
    records = pool.walk.records
    chosen = pool.result(flt, contains)
    checked = check_filter(flt, pool.cat)
    expected = {records[i]["sourcedId"] for i in chosen}
    returned = set(record_ids(got.records))
    missing = sorted(expected - returned) if got.complete else []
    wrong = []
    for record in got.records:
        sourced_id = record.get("sourcedId")
        i = pool.index.get(sourced_id) if isinstance(sourced_id, str) else None
        same = i is not None and records[i] == record
        if not (i in chosen if same else checked.matches(record, contains)):
            wrong.append(str(record.get("sourcedId")))
    return expected, missing, wrong


def _clauses_alone(ctx: Context, pool: FilterPool, flt: Filter, got: Walk,
                   readings: tuple[Contains, ...]) -> list[str]:
    """Which clause of a failing compound filter disagrees, by asking each clause alone; and,
    when each agrees alone, whether the answer is what one clause alone selects."""
    notes: list[str] = []
    alone: list[tuple[Predicate, set[str]]] = []
    for predicate in flt.predicates:
        single = Filter((predicate,))
        try:
            walk = ctx.walk_pages(f"/{pool.collection}", pool.collection,
                                  {"filter": str(single)}, max_pages=FILTER_MAX_PAGES)
        except Finding as finding:
            notes.append(f"alone, {single} failed too ({finding.message})")
            continue
        if any(not missing and not wrong
               for _, missing, wrong in (_compare(pool, single, walk, c) for c in readings)):
            alone.append((predicate, set(record_ids(walk.records))))
        else:
            notes.append(f"alone, {single} disagrees as well")
    if len(alone) == len(flt.predicates):
        returned = set(record_ids(got.records))
        same = [str(Filter((p,))) for p, ids in alone if ids == returned]
        notes.append(f"each clause alone agrees, so the provider does not join them with "
                     f"{flt.logical}" + (f" (it answered what {same[0]} alone selects)"
                                         if same else ""))
    return notes


@check("OR-FILTER-001", "Generated filters return exactly the records they select",
       "OneRoster 1.2 REST binding §3.5 filtering: field, the operators = != > >= < <= ~, "
       "AND / OR; 1.1 §3 the same grammar")
def generated_filters_agree(ctx: Context) -> Outcome:
    """Twelve filters are built from values the provider itself serves in /users and
    /enrollments (seeded by the version, so the same data gets the same filters): one
    predicate, or two joined by `` AND `` or `` OR ``, over fields such as ``sourcedId``,
    ``status``, ``givenName``, ``familyName``, ``email``, ``username``, ``enabledUser``,
    ``dateLastModified``, ``roles.role`` (1.2) or ``role`` (1.1), ``primaryOrg.sourcedId``,
    an enrollment's ``user.sourcedId``, ``class.sourcedId``, ``role``, ``beginDate`` and
    ``endDate``; every operator is used, the ordering ones on dates only, ``~`` (contains) on
    text. Each filter's answer (every page) must be exactly the records of the full walk that
    satisfy it: text compared exactly, dates and date-times as UTC instants, a record without
    the field matching nothing (``!=`` included), an array field matching when any element
    does; ``~`` may ignore case or not. Fix: apply both predicates with the right operator
    and logical, and compare dates as dates rather than text in another zone."""
    target = ctx.target
    pools = {c: FilterPool.build(c, ctx.walk(c), target.version, ctx.limits.page_size)
             for c in FILTER_FIELDS}
    pools = {c: p for c, p in pools.items() if p.values}
    if not pools:
        return Outcome("skipped", "no served values to build filters from")
    rng = random.Random(f"{FILTER_SEED}/{ctx.seed}/{target.version}")
    start = target.requests
    budget = min(FILTER_BUDGET, max(1, (target.max_requests - target.requests) // 4))
    failures = Offenders()
    refused: list[str] = []  # filters on dotted or list fields refused with a 4xx
    checked: dict[str, int] = {}
    stopped = False
    for pool, flt in generate_filters(pools, rng):
        if target.requests - start >= budget:
            stopped = True
            break
        text, path = str(flt), f"/{pool.collection}"
        checked[pool.collection] = checked.get(pool.collection, 0) + 1
        try:
            got = ctx.walk_pages(path, pool.collection, {"filter": text},
                             max_pages=FILTER_MAX_PAGES)
        except Finding as finding:
            if _structured(flt, pool.cat) and _refused(ctx, path, text):
                refused.append(text)  # the spec is silent on these: OR-FILTER-004 warns
                continue
            failures.add_finding(f"filter {text!r} on {path}", finding)
            continue
        readings = CONTAINS if any(p.op == "~" for p in flt.predicates) else CONTAINS[:1]
        results = [_compare(pool, flt, got, contains) for contains in readings]
        if any(not missing and not wrong for _, missing, wrong in results):
            continue
        expected, missing, wrong = results[0]
        details = [f"expected {_records(len(expected))}, got {len(got.records)}"]
        if missing:
            details.append(f"missing {few(missing)}")
        if wrong:
            details.append(f"not matching {few(wrong)}")
        if len(readings) > 1:
            details.append(f"~ read {', '.join(c.value for c in CONTAINS)}: none agrees")
        if flt.logical:
            details += _clauses_alone(ctx, pool, flt, got, readings)
        details[-1] += respelled_note(flt)
        partial = pool.walk.extent + ("" if got.complete else " (the answer was cut short)")
        failures.add(f"filter {text!r} on {path}: {'; '.join(details)}{partial}",
                     got.exchanges[0])
    total = sum(checked.values())
    failures.raise_if_failed(total, "generated filters")
    if not total:
        return Outcome("skipped", "the request budget left no room for generated filters")
    where = ", ".join(f"{n} on /{c}" for c, n in checked.items())
    note = " (stopped early: request budget)" if stopped else ""
    if refused:
        note += (f"; {len(refused)} on dotted or list fields refused with a 4xx, "
                 f"not judged (OR-FILTER-004): {few(refused)}")
    partial = "".join(p.walk.extent for p in pools.values())
    return passed(f"{total} generated filters ({where}) returned exactly the records they "
                  f"select{note}{partial}")


def _structured(flt: Filter, cat: Catalogue) -> bool:
    """Whether a filter names a dotted field or one over a list (``roles.role``,
    ``school.sourcedId``, ``grades``): the spec's examples filter plain fields, and some
    certified providers refuse these."""
    return any("." in p.field or (p.field in cat.fields and cat.fields[p.field].many)
               for p in flt.predicates)


def _refused(ctx: Context, path: str, text: str) -> bool:
    """Whether the provider refuses the filter with a 4xx (whether its body is a proper status
    payload is OR-ERR-002's and OR-FILTER-002's business)."""
    exchange = ctx.target.get(path, {"filter": text, "limit": 1})
    return exchange.status is not None and 400 <= exchange.status < 500


@check("OR-FILTER-002", "A malformed filter answers 400 with a status payload",
       "OneRoster 1.2 REST binding §3.5 filtering and §3.3 errors: 400 invaliddata / "
       "invalid_filter_field; 1.1 statusInfoSet 'invalid data'")
def malformed_filter_is_400(ctx: Context) -> Outcome:
    """``GET /users?filter=familyName~`` (no value) and ``filter=familyName='Smith' AND`` (a
    dangling logical) must answer 400 with the spec's status payload (``imsx_StatusInfoDType``
    in 1.2, ``statusInfoSet`` in 1.1) whose codeMinor is ``invaliddata`` (1.1: ``invalid
    data``) or ``invalid_filter_field``, never 200 with data: a consumer whose filter is
    silently dropped or half-read syncs the wrong records. Fix: parse the filter fully
    (field, operator, single-quoted value, at most one AND or OR) and refuse what does not
    parse."""
    version = ctx.target.version
    accepted = MALFORMED_CODES[version]
    answers: list[Exchange] = []
    for text in MALFORMED:
        exchange = ctx.target.get("/users", {"filter": text, "limit": 1})
        if exchange.status != 400:
            raise Finding(f"the malformed filter {text!r} {answered(exchange)}, "
                          "expected 400", exchange)
        errors = status_payload_errors(exchange, version)
        if errors:
            raise Finding(f"the 400 for filter {text!r} is not a status payload: {errors[0]}",
                          exchange)
        code = code_minor(exchange.json(), version)
        if code not in accepted:
            raise Finding(f"the 400 for filter {text!r} has codeMinor {code!r}, expected "
                          f"{' or '.join(map(repr, accepted))}", exchange)
        answers.append(exchange)
    return passed(f"{len(MALFORMED)} malformed filters answered 400 with a status payload",
                  *answers[:1])


FAMILY_NAME = catalogue("users", "1.2").fields["familyName"]  # text in both versions


def _case_probe(walk: Walk) -> str | None:
    """A familyName with ASCII letters, usable in a filter: the first one served."""
    for record in walk.records:
        name = record.get("familyName")
        if isinstance(name, str) and _usable(name, FAMILY_NAME) and name.swapcase() != name \
                and any(c.isascii() and c.isalpha() for c in name):
            return name
    return None


@check("OR-FILTER-003", "The ~ (contains) operator ignores case",
       "OneRoster 1.2 REST binding §3.5 filtering: ~ (contains); case is not specified; 1.1 "
       "the same", severity="warning")
def contains_ignores_case(ctx: Context) -> Outcome:
    """``~`` is "contains". Whether it ignores case the spec does not say, but consumers use it
    for type-ahead search (``familyName~'smi'``) and expect Smith; this harness and the mock
    read it as ignoring (at least ASCII) case. A user's familyName, with the case of its
    ASCII letters swapped (``mCMAHON`` for ``Mcmahon``), must find that user, once the name
    as served does. Warning only. Fix: compare lower-cased (or case-folded) text, e.g. with a
    case-insensitive collation or ``lower(field) LIKE lower(value)``."""
    users = ctx.walk("users")
    name = _case_probe(users)
    if name is None:
        return Outcome("skipped", "no familyName with ASCII letters to search for")
    swapped = "".join(c.swapcase() if c.isascii() else c for c in name)
    wanted = {r["sourcedId"] for r in users.records if r.get("familyName") == name}
    found: list[Walk] = []
    for value in (name, swapped):
        text = f"familyName~'{value}'"
        try:
            found.append(ctx.walk_pages("/users", "users", {"filter": text},
                                    max_pages=FILTER_MAX_PAGES))
        except Finding as finding:
            refused = Finding(f"filter {text!r} failed: {finding.message}")
            refused.evidence = finding.evidence
            raise refused from None
    as_served, case_swapped = (set(record_ids(w.records)) for w in found)
    if not wanted <= as_served:
        return Outcome("skipped", f"familyName~'{name}' does not find the users named {name} "
                                  "(a filter fault for OR-FILTER-001)")
    if not wanted <= case_swapped:
        raise Finding(f"familyName~'{swapped}' does not find the users named {name} "
                      f"({few(sorted(wanted))}): ~ is case-sensitive", found[1].exchanges[0],
                      items=sorted(wanted))
    return passed(f"familyName~'{swapped}' finds the users named {name}", found[1].exchanges[0])


STRUCTURED_PROBES = {"1.2": (("users", "roles.role", "roles"), ("enrollments", "class.sourcedId",
                                                                  "class")),
                     "1.1": (("users", "orgs.sourcedId", "orgs"), ("enrollments",
                                                                   "class.sourcedId", "class"))}


@check("OR-FILTER-004", "Filters on dotted and list fields are answered",
       "OneRoster 1.2 REST binding §3.5 filtering (its examples name plain fields; dotted "
       "fields over references and lists are not spelled out); 1.1 §3 the same",
       severity="warning")
def structured_filters_answered(ctx: Context) -> Outcome:
    """Consumers filter enrollments by class (``class.sourcedId='…'``) and users by role
    (1.2 ``roles.role='student'``, 1.1 ``orgs.sourcedId='…'``). The spec's filter grammar
    allows a dotted field, but its examples name plain ones, and some certified providers
    refuse them with 400; a consumer then has to walk everything. Each such filter, built
    from a served value, should be answered 200 (OR-FILTER-001 judges whether the answer is
    right). Warning only. Fix: resolve dotted fields through the reference or the list."""
    offenders = Offenders()
    asked = 0
    for collection, name, source in STRUCTURED_PROBES[ctx.version]:
        walk = ctx.walk(collection)
        value = next((v for r in walk.records for v in _served(r.get(source), name)), None)
        if value is None:
            continue
        text = f"{name}='{value}'"
        exchange = ctx.target.get(f"/{collection}", {"filter": text, "limit": 1})
        asked += 1
        if exchange.status != 200:
            offenders.add(f"/{collection}?filter={text} {answered(exchange)}", exchange)
    offenders.raise_if_any(lambda n: f"{n} of {asked} filters on dotted or list fields were "
                                     "not answered")
    if not asked:
        return Outcome("skipped", "no served value to filter dotted fields by")
    return passed(f"{asked} filters on dotted or list fields were answered")


def _served(node: object, field: str) -> list[str]:
    """The values a dotted field's last part takes in a served reference or list of them."""
    leaf = field.rsplit(".", 1)[-1]
    items = node if isinstance(node, list) else [node]
    return [item[leaf] for item in items
            if isinstance(item, dict) and isinstance(item.get(leaf), str)
            and "'" not in item[leaf]]


NUMBER_PAGES = 5  # pages of /results read to build and judge the number filters


def _scored(records: list[dict]) -> dict[str, float]:
    return {r["sourcedId"]: float(r["score"]) for r in records
            if isinstance(r.get("sourcedId"), str) and isinstance(r.get("score"), int | float)
            and not isinstance(r.get("score"), bool)}


def _results(ctx: Context, filter_text: str | None = None) -> Walk:
    """/results of the grade-book service, walked as grade-book calls (so with the vendor
    key a Campus connection needs)."""
    return ctx.walk_pages("/results", "results",
                          {"filter": filter_text} if filter_text else None,
                          max_pages=NUMBER_PAGES, service="gradebook")


@check("OR-FILTER-005", "Numbers in filters compare as numbers",
       "OneRoster 1.2 REST binding §3.5 filtering: >, <, >=, <= on numbers and dates; "
       "1.1 §3 the same", severity="error")
def numbers_compare_as_numbers(ctx: Context) -> Outcome:
    """``GET /results?filter=score<'9'`` must return exactly the results whose ``score`` is
    below 9 as a number: ``100`` is not below ``9``, as it would be compared as text. The
    values are taken from the provider's own scores (a one-digit one when there is one, and
    the median), each also written with a decimal (``85.0``), and the answers compared with
    the walk of /results. Skipped when the provider serves no scored results. Fix: compare
    numeric fields as numbers, whatever way the value is written."""
    try:
        walk = _results(ctx)
    except Finding as finding:
        return Outcome("skipped", f"cannot read /results ({finding.message}): the provider "
                                  "serves no grade book, or this connection may not read it")
    scores = _scored(walk.records)
    distinct = sorted(set(scores.values()))
    if len(distinct) < 2:
        return Outcome("skipped", "fewer than two different scores to filter by")
    pivots = [distinct[len(distinct) // 2]]
    pivots += [v for v in distinct if 0 < v < 10 and v != pivots[0]][:1]
    if not any(0 < v < 10 for v in pivots) and any(v >= 10 for v in distinct):
        pivots.append(9.0)  # "100" < "9" as text: the text reading shows here
    offenders = Offenders()
    asked = 0
    for pivot in pivots:
        for written in dict.fromkeys((f"{pivot:g}", f"{pivot:.1f}")):
            text = f"score<'{written}'"
            asked += 1
            try:
                got = _results(ctx, text)
            except Finding as finding:
                offenders.add_finding(f"filter {text}", finding)
                continue
            returned = _scored(got.records)
            wrong = sorted(sid for sid, score in returned.items() if not score < pivot)
            expected = {sid for sid, score in scores.items() if score < pivot}
            missing = sorted(expected - set(returned)) if walk.complete and got.complete \
                else []
            if wrong or missing:
                offenders.add(f"filter {text}: " + "; ".join(
                    ([f"{len(wrong)} results not below {written}: {few(wrong)}"] if wrong
                     else []) + ([f"{len(missing)} below it missing: {few(missing)}"]
                                 if missing else [])), got.exchanges[0])
    offenders.raise_if_any(lambda n: f"{n} of {asked} number filters on /results disagree "
                                     "with the scores served")
    return passed(f"{asked} number filters on /results returned exactly the results below "
                  f"each value{walk.extent}")
