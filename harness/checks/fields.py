"""Field selection (OR-FIELDS): fields=a,b returns exactly the named fields, and an unknown
field is refused (1.2) or reported (1.1)."""

from __future__ import annotations

from ..engine import Finding, Outcome, passed
from ..exchange import Exchange
from .context import Context, answered
from .support import (
    Offenders,
    by_id,
    check,
    code_minor,
    few,
    first_records,
    member,
    singular_envelopes,
    status_payload_errors,
)

FIELD_SETS = (("users", ("sourcedId", "familyName", "email")),
              ("enrollments", ("sourcedId", "role", "user")))
FIELDS_PAGE = 20
UNKNOWN_FIELD = "notAOneRosterField"


def _page(exchange: Exchange, envelope: str, what: str) -> list[dict]:
    body = exchange.json()
    records = member(body, envelope)
    if exchange.status != 200 or not isinstance(records, list):
        raise Finding(f"{what} {answered(exchange)} without a {envelope!r} list",
                      exchange)
    return [r for r in records if isinstance(r, dict)]


@check("OR-FIELDS-001", "fields=a,b returns exactly the named fields",
       "OneRoster 1.2 REST binding: field selection (fields); 1.1 the same")
def fields_are_selected(ctx: Context) -> Outcome:
    """``GET /users?fields=sourcedId,familyName,email`` and
    ``GET /enrollments?fields=sourcedId,role,user`` (one comma-separated value) must return
    records with exactly those keys, those the record has (a user without an e-mail has no
    ``email``), and the same values as the full record; nothing else, not even required
    fields. Fix: project each record onto the named top-level fields after filtering and
    paging."""
    checked = 0
    for collection, names in FIELD_SETS:
        full = by_id(ctx.walk(collection))
        exchange = ctx.target.get(f"/{collection}", {"fields": ",".join(names),
                                                     "limit": FIELDS_PAGE})
        what = f"GET /{collection}?fields={','.join(names)}"
        records = _page(exchange, collection, what)
        if not records:
            raise Finding(f"{what} returned no records", exchange)
        for record in records:
            whole = full.get(record.get("sourcedId"))  # type: ignore[arg-type]
            keys = set(record)
            expected = set(names) & set(whole) if whole is not None else set(names)
            extra, lacking = sorted(keys - set(names)), sorted(expected - keys)
            if extra or lacking:
                raise Finding(f"{what}: record {record.get('sourcedId')} has keys "
                              f"{sorted(keys)}" + (f"; not asked for: {few(extra)}" if extra
                                                   else "")
                              + (f"; missing: {few(lacking)}" if lacking else ""), exchange)
            changed = sorted(k for k in keys if whole is not None and record[k] != whole.get(k))
            if changed:
                raise Finding(f"{what}: record {record.get('sourcedId')} has other values "
                              f"for {few(changed)} than the full record", exchange, items=changed)
            checked += 1
    return passed(f"{checked} records carried exactly the selected fields")


def _whole(record: dict, full: dict[str, dict]) -> bool:
    """Whether a record carries every field its full walk copy has (more than its id when
    the walk did not see it)."""
    sourced_id = record.get("sourcedId")
    known = full.get(sourced_id) if isinstance(sourced_id, str) else None
    return set(known) <= set(record) if known is not None else len(record) > 1


def _warnings(body: object) -> list[dict]:
    items = member(body, "statusInfoSet")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


@check("OR-FIELDS-002", "An unknown field in fields is refused (1.2) or reported (1.1)",
       "OneRoster 1.2 OpenAPI: 400 invalid_selection_field (binding prose: all data "
       "returned); 1.1: 200, all fields, statusInfoSet warning invalid_selection_field")
def unknown_field_is_reported(ctx: Context) -> Outcome:
    """``GET /users?fields=sourcedId,notAOneRosterField``. In 1.2 the OpenAPI answers 400 with
    ``imsx_StatusInfoDType`` codeMinor ``invalid_selection_field``; the binding's prose
    instead returns all the data, so a 200 with every field of each record passes too. In 1.1
    the answer is 200 with every field and a ``statusInfoSet`` warning (codeMajor success,
    severity warning, codeMinor ``invalid_selection_field``). Silently returning only the
    known fields (1.1: or leaving out the warning) fails: the consumer cannot tell its
    selection was wrong. Fix: check every name in ``fields`` against the object's fields."""
    version = ctx.target.version
    full = by_id(ctx.walk("users"))
    exchange = ctx.target.get("/users", {"fields": f"sourcedId,{UNKNOWN_FIELD}", "limit": 5})
    what = f"fields=sourcedId,{UNKNOWN_FIELD}"
    if version == "1.2" and exchange.status == 400:
        errors = status_payload_errors(exchange, version)
        if errors:
            raise Finding(f"the 400 for {what} is not a status payload: {errors[0]}", exchange)
        code = code_minor(exchange.json(), version)
        if code != "invalid_selection_field":
            raise Finding(f"the 400 for {what} has codeMinor {code!r}, expected "
                          "'invalid_selection_field'", exchange)
        return passed("400 invalid_selection_field", exchange)
    expected = "400 invalid_selection_field or 200 with all fields" if version == "1.2" \
        else "200 with all fields and a statusInfoSet warning"
    if exchange.status != 200:
        raise Finding(f"{what} {answered(exchange)}, expected {expected}", exchange)
    records = _page(exchange, "users", f"GET /users?{what}")
    trimmed = [str(r.get("sourcedId")) for r in records if not _whole(r, full)]
    if trimmed or not records:
        raise Finding(f"{what} answered 200 with only the known fields (users "
                      f"{few(trimmed)}); expected {expected}", exchange, items=trimmed)
    if version == "1.2":
        return passed(f"{what}: 200 with all fields (the binding's 'all data is returned')",
                      exchange)
    codes = [i.get("imsx_codeMinor") for i in _warnings(exchange.json())]
    if "invalid_selection_field" not in codes:
        raise Finding(f"{what} answered 200 without a statusInfoSet warning "
                      f"invalid_selection_field (codeMinor seen: {codes or 'none'})", exchange)
    return passed(f"{what}: 200 with all fields and the invalid_selection_field warning",
                  exchange)


@check("OR-FIELDS-003", "fields selects on single records too",
       "OneRoster 1.2 REST binding: field selection on getOne operations (fields); 1.1 the same")
def fields_on_single_records(ctx: Context) -> Outcome:
    """``GET /users/{id}?fields=sourcedId,familyName`` and ``GET /orgs/{id}?fields=sourcedId,name``
    must return the record under its singular envelope (``user``, ``org``) with exactly the
    named fields it has, as a collection page does. Fix: apply the same field selection to
    get-by-id answers."""
    offenders = Offenders()
    asked = 0
    for collection, names in (("users", ("sourcedId", "familyName")),
                              ("orgs", ("sourcedId", "name"))):
        records = [r for r in first_records(ctx, collection)
                   if isinstance(r, dict) and isinstance(r.get("sourcedId"), str)]
        if not records:
            continue
        whole = records[0]
        path = f"/{collection}/{whole['sourcedId']}"
        exchange = ctx.target.get(path, {"fields": ",".join(names)})
        key = singular_envelopes(ctx.version)[collection]
        record = member(exchange.json(), key)
        asked += 1
        if exchange.status != 200 or not isinstance(record, dict):
            offenders.add(f"{path}?fields={','.join(names)} {answered(exchange)} without "
                          f"a {key!r} object", exchange)
            continue
        expected = set(names) & set(whole)
        if set(record) != expected:
            offenders.add(f"{path}?fields={','.join(names)} has keys {sorted(record)}, expected "
                          f"{sorted(expected)}", exchange)
    offenders.raise_if_any(lambda n: f"{n} single records ignored fields")
    if not asked:
        return Outcome("skipped", "no users or orgs to fetch by id")
    return passed(f"{asked} single records carried exactly the selected fields")


BLANK_CODES = {"1.2": ("invalid_selection_field", "invalid_blank_selection_field"),
               "1.1": ("invalid_blank_selection_field",)}


@check("OR-FIELDS-004", "A blank fields= is refused with 400",
       "OneRoster 1.1 §3.3: blank selection field, 400 invalid_blank_selection_field; 1.2 "
       "OpenAPI: 400 invalid_selection_field")
def blank_fields_refused(ctx: Context) -> Outcome:
    """``GET /users?fields=`` names no field at all. It must answer 400 with the version's
    status payload, codeMinor ``invalid_blank_selection_field`` (1.1; 1.2 has no code of its
    own for it, so ``invalid_selection_field`` or the 1.1 code), not 200 with nothing or with
    everything and not a 5xx. Fix: refuse an empty or blank ``fields`` value."""
    version = ctx.target.version
    exchange = ctx.target.get("/users", {"fields": "", "limit": 1})
    if exchange.status != 400:
        raise Finding(f"fields= {answered(exchange)}, expected 400", exchange)
    errors = status_payload_errors(exchange, version)
    if errors:
        raise Finding(f"the 400 for fields= is not a status payload: {errors[0]}", exchange)
    code = code_minor(exchange.json(), version)
    if code not in BLANK_CODES[version]:
        raise Finding(f"the 400 for fields= has codeMinor {code!r}, expected "
                      f"{' or '.join(map(repr, BLANK_CODES[version]))}", exchange)
    return passed(f"fields= answered 400 {code}", exchange)
