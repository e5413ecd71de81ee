"""What each kind of consumer does in one sync, over its ``VendorConnection``, written into its
``Sync``: the walks of a full or delta sync, a help desk's lookups, a grade-passback burst and
its read-back. No Locust here: ``Together`` runs the parallel parts (the consumer module gives
it greenlets), so the same code could run on plain threads.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from harness.target import BASE_PATHS, GRADEBOOK_PATHS

from .connection import Answer, Refused, VendorConnection
from .ledger import EXAMPLES, Sync, Walk
from .profile import DELTA_COLLECTIONS, FULL_SYNC_COLLECTIONS

MAX_PAGES = 100_000  # a walk stops after this many pages whatever the provider says
# A run of the same vendor writes the same ids again: a PUT replaces instead of piling up.
ID_NAMESPACE = uuid.UUID("5f1b8c52-9d0e-4c0b-9a55-6c1f0e3e8a11")

Together = Callable[[Iterable[Callable[[], None]]], None]  # run these at once, wait for all


@dataclass(frozen=True)
class Provider:
    """Where the provider's services are."""

    base_url: str
    version: str

    @property
    def rostering(self) -> str:
        return self.base_url.rstrip("/") + BASE_PATHS[self.version]

    @property
    def gradebook(self) -> str:
        return self.base_url.rstrip("/") + GRADEBOOK_PATHS[self.version]


def _records(answer: Answer, key: str) -> list[dict[str, Any]]:
    body = answer.body
    found = body.get(key) if isinstance(body, dict) else None
    if not isinstance(found, list):
        raise Refused(f"the answer has no {key!r} list")
    return [r for r in found if isinstance(r, dict)]


def _record(answer: Answer, key: str) -> dict[str, Any]:
    body = answer.body
    found = body.get(key) if isinstance(body, dict) else None
    if not isinstance(found, dict):
        raise Refused(f"the answer has no {key!r} record")
    return found


def walk(conn: VendorConnection, url: str, key: str, name: str, into: Walk, page_size: int,
         params: dict[str, str] | None = None) -> None:
    """Read a collection page by page to its end, noting each sourcedId read twice. The end:
    X-Total-Count reached (a provider may cap pages below the size asked: shorter pages go
    on), or without it a short page; an empty page always. A failure ends the walk with
    ``error`` set."""
    seen: set[str] = set()
    offset = 0
    try:
        for _ in range(MAX_PAGES):
            answer = conn.send("GET", url, name, params={
                **(params or {}), "limit": str(page_size), "offset": str(offset)})
            records = _records(answer, key)
            total = answer.total()
            if into.pages == 0:
                into.total = total
            into.last_total = total
            into.pages += 1
            for record in records:
                sourced_id = str(record.get("sourcedId"))
                if sourced_id in seen:
                    into.repeats += 1
                    if len(into.repeated) < EXAMPLES:
                        into.repeated.append(sourced_id)
                seen.add(sourced_id)
            into.read += len(records)
            into.distinct = len(seen)
            offset += len(records)
            if not records or (offset >= total if total is not None
                               else len(records) < page_size):
                into.finished = True
                return
        into.error = f"still not at the end after {MAX_PAGES} pages"
    except Refused as exc:
        into.error = str(exc)


Job = tuple[str, str, str, int, dict[str, str] | None]  # url, key, operation, page size, query


def _walk_all(conn: VendorConnection, sync: Sync, together: Together, jobs: list[Job]) -> None:
    walks = []
    for url, key, name, page_size, params in jobs:
        sync.walks.append(Walk(key))
        walks.append(lambda w=sync.walks[-1], u=url, k=key, n=name, p=page_size, q=params:
                     walk(conn, u, k, n, w, p, q))
    together(walks)
    failed = [w for w in sync.walks if w.error]
    if failed:
        sync.error = f"{failed[0].collection}: {failed[0].error}"


def full_sync(conn: VendorConnection, provider: Provider, sync: Sync, together: Together,
              page_size: int) -> None:
    """Every core collection walked to its end, the collections side by side."""
    _walk_all(conn, sync, together, [
        (f"{provider.rostering}/{c}", c, f"{c} page", page_size, None)
        for c in FULL_SYNC_COLLECTIONS])


def since(hours: float, now: dt.datetime | None = None) -> str:
    moment = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def delta_sync(conn: VendorConnection, provider: Provider, sync: Sync, together: Together,
               page_size: int, watermark: str) -> None:
    """What changed since ``watermark``, walked like a full sync."""
    query = {"filter": f"dateLastModified>'{watermark}'"}
    _walk_all(conn, sync, together, [
        (f"{provider.rostering}/{c}", c, f"{c} delta page", page_size, query)
        for c in DELTA_COLLECTIONS])


def _sample(conn: VendorConnection, provider: Provider, collection: str, count: int,
            rng: random.Random) -> list[dict[str, Any]]:
    """``count`` records from a random place in the collection."""
    url = f"{provider.rostering}/{collection}"
    first = conn.send("GET", url, f"{collection} sample", params={"limit": "1"})
    total = first.total() or len(_records(first, collection))
    offset = rng.randrange(max(1, total - count + 1))
    return _records(conn.send("GET", url, f"{collection} sample",
                              params={"limit": str(count), "offset": str(offset)}), collection)


def help_desk(conn: VendorConnection, provider: Provider, sync: Sync, together: Together,
              lookups: int, rng: random.Random) -> None:
    """People looked up by e-mail and by username (each must find exactly that person), and a
    class roster read whole."""
    url = f"{provider.rostering}/users"
    try:
        people = _sample(conn, provider, "users", lookups, rng)
        jobs = []
        for person in people:
            for field in ("email", "username"):
                value = person.get(field)
                if isinstance(value, str) and value and "'" not in value:
                    jobs.append((field, value, str(person.get("sourcedId"))))

        def look(field: str, value: str, wanted: str) -> None:
            answer = conn.send("GET", url, f"users by {field}",
                               params={"filter": f"{field}='{value}'"})
            found = [str(r.get("sourcedId")) for r in _records(answer, "users")]
            sync.lookups += 1
            if wanted not in found and len(sync.lookups_missed) < EXAMPLES:
                sync.lookups_missed.append(f"{field}='{value}': {len(found)} records, not "
                                           f"{wanted}")

        together([lambda j=job: look(*j) for job in jobs])
        classes = _sample(conn, provider, "classes", 1, rng)
        for klass in classes:
            sync.walks.append(Walk("students of a class"))
            walk(conn, f"{provider.rostering}/classes/{klass['sourcedId']}/students", "users",
                 "class roster page", sync.walks[-1], 100)
            if sync.walks[-1].error:
                sync.error = f"class roster: {sync.walks[-1].error}"
    except Refused as exc:
        sync.error = str(exc)


def _ref(root: str, kind: str, path: str, sourced_id: str) -> dict[str, str]:
    return {"href": f"{root}/{path}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(str(text)[:10])


def _line_item(provider: Provider, item_id: str, klass: dict, term: dict,
               vendor: str) -> dict[str, Any]:
    """A line item in the version's shape, its title the vendor's own (titles are unique in
    a class under Infinite Campus's rules, and several vendors may grade one class)."""
    start, end = _day(term["startDate"]), _day(term["endDate"])
    due = start + dt.timedelta(days=max(0, min(7, (end - start).days - 1)))
    item: dict[str, Any] = {
        "sourcedId": item_id, "status": "active", "dateLastModified": _now(),
        "title": f"Sync night {vendor}", "description": "Written by oneroster-harness load",
        "assignDate": f"{start.isoformat()}T08:00:00Z", "dueDate": f"{due.isoformat()}T20:00:00Z",
        "class": _ref(provider.rostering, "class", "classes", klass["sourcedId"]),
        "resultValueMin": 0.0, "resultValueMax": 100.0}
    session = _ref(provider.rostering, "academicSession", "academicSessions", term["sourcedId"])
    if provider.version == "1.1":
        item["gradingPeriod"] = session
    else:
        item["school"] = _ref(provider.rostering, "org", "orgs", klass["school"]["sourcedId"])
        item["academicSession"] = session
    return item


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def grade_passback(conn: VendorConnection, provider: Provider, sync: Sync, together: Together,
                   classes: int, students: int, rng: random.Random) -> None:
    """For each of ``classes`` classes: a line item and a result per student PUT, then each
    acknowledged write read back (it must hold the score written)."""
    book = provider.gradebook
    written: list[tuple[str, str, float | None]] = []  # (collection, id, score)

    def put(collection: str, sourced_id: str, body: dict) -> bool:
        try:
            conn.send("PUT", f"{book}/{collection}/{sourced_id}", f"{collection}/{{id}}",
                      json=body)
        except Refused as exc:
            if len(sync.writes_refused) < EXAMPLES:
                sync.writes_refused.append(f"{collection}/{sourced_id}: {exc}")
            return False
        sync.writes_acknowledged += 1
        record = next(iter(body.values()))
        written.append((collection, sourced_id, record.get("score")))
        return True

    def grade(klass: dict) -> None:
        terms = klass.get("terms") or []
        if not terms:
            return
        term = _record(conn.send("GET", f"{provider.rostering}/academicSessions/"
                                 f"{terms[0]['sourcedId']}", "academicSessions/{id}"),
                       "academicSession")
        roster = _records(conn.send(
            "GET", f"{provider.rostering}/classes/{klass['sourcedId']}/students",
            "class roster page", params={"limit": str(students)}), "users")
        item_id = str(uuid.uuid5(ID_NAMESPACE, f"{conn.vendor}/{klass['sourcedId']}"))
        if not put("lineItems", item_id,
                   {"lineItem": _line_item(provider, item_id, klass, term, conn.vendor)}):
            return
        results = []
        for person in roster:
            result_id = str(uuid.uuid5(ID_NAMESPACE, f"{item_id}/{person['sourcedId']}"))
            result: dict[str, Any] = {
                "sourcedId": result_id, "status": "active", "dateLastModified": _now(),
                "lineItem": _ref(book, "lineItem", "lineItems", item_id),
                "student": _ref(provider.rostering, "user", "users", person["sourcedId"]),
                "scoreStatus": "fully graded", "score": float(rng.randrange(50, 101)),
                "scoreDate": dt.date.today().isoformat()}
            if provider.version == "1.2":
                result["class"] = _ref(provider.rostering, "class", "classes",
                                       klass["sourcedId"])
            results.append(lambda r=result: put("results", r["sourcedId"], {"result": r}))
        together(results)

    try:
        together([lambda k=k: grade(k) for k in _sample(conn, provider, "classes", classes, rng)])
        together([lambda w=w: _read_back(conn, book, sync, *w) for w in written])
    except Refused as exc:
        sync.error = str(exc)


def _read_back(conn: VendorConnection, book: str, sync: Sync, collection: str, sourced_id: str,
               score: float | None) -> None:
    key = collection[:-1]  # lineItems -> lineItem, results -> result
    try:
        answer = conn.send("GET", f"{book}/{collection}/{sourced_id}",
                           f"{collection}/{{id}} read back")
        record = answer.body.get(key) if isinstance(answer.body, dict) else None
    except Refused as exc:
        record, problem = None, str(exc)
    else:
        problem = "answered without the record"
    if isinstance(record, dict) and (score is None or record.get("score") == score):
        sync.read_back += 1
        return
    if isinstance(record, dict):
        problem = f"score {record.get('score')!r}, not {score!r} as written"
    if len(sync.read_back_wrong) < EXAMPLES:
        sync.read_back_wrong.append(f"{collection}/{sourced_id}: {problem}")


__all__ = ["MAX_PAGES", "Provider", "Together", "delta_sync", "full_sync", "grade_passback",
           "help_desk", "since", "walk"]
