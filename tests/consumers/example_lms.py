"""The good example consumer: an LMS that syncs rosters (OneRoster 1.2 or 1.1) and writes
grades back. The bad variants (example_bad.py) override one hook each."""

from __future__ import annotations

import functools
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from example_auth import BearerToken, OAuth1Signer
from example_env import ApiError, Env, Fatal, description

# The rostering collections this LMS keeps (also the envelope keys), the same in 1.2 and 1.1.
COLLECTIONS = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments")
PAGE = 100
TIMEOUT = 10.0
MAX_TRIES = 6  # 5xx / network errors: attempts in all before giving up
FIRST_BACKOFF = 0.2
MAX_THROTTLES = 30  # 429s in a row for one request before giving up (never loop forever)
MAX_RETRY_AFTER = 120.0
DEFAULT_RETRY_AFTER = 1.0  # a 429 without a readable Retry-After
PASSBACK_CLASSES = 2
LINE_ITEM_TITLE = "LMS Sync: Homework 1"  # distinct from the district's own line item titles
ID_NAMESPACE = uuid.UUID("6f0f5c3e-0d6b-4a51-9a43-5a0c1f2e7b11")  # this LMS's uuid5 namespace

Record = dict[str, Any]
Roster = dict[str, dict[str, Record]]  # collection -> sourcedId -> record
Credentials = BearerToken | OAuth1Signer


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After as seconds (a number, integer or float, or an HTTP date); None when the
    answer has none we can read."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _offset(url: str) -> int | None:
    values = parse_qs(urlsplit(url).query).get("offset")
    return int(values[0]) if values and values[0].isdigit() else None


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(day: date, hour: int = 12) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


class Consumer:
    """The good consumer."""

    def __init__(self, env: Env) -> None:
        self.env = env
        if env.version == "1.1":
            self.rostering = self.gradebook = f"{env.base_url}/ims/oneroster/v1p1"
        else:
            self.rostering = f"{env.base_url}/ims/oneroster/rostering/v1p2"
            self.gradebook = f"{env.base_url}/ims/oneroster/gradebook/v1p2"
        self.http = httpx.Client(timeout=TIMEOUT)
        self.credentials = self.make_credentials()
        self.roster: Roster = {name: {} for name in COLLECTIONS}
        self.written = {"lineItems": 0, "results": 0}
        self.write_failures = 0

    def make_credentials(self) -> Credentials:
        if self.env.oauth1 is not None:
            return OAuth1Signer(self.env.oauth1)
        return BearerToken(self.http, self.env, self.with_retries)

    # --- one request, with the retry policy ----------------------------------------------

    def send(self, method: str, url: str, *, params: dict[str, Any] | None = None,
             body: Record | None = None, gradebook: bool = False) -> httpx.Response:
        """One OneRoster call; answers the 2xx response or raises Fatal / ApiError. Every
        attempt is authorised when it is sent (a signature is never re-used)."""
        unauthorized = 0
        while True:
            used: list[str] = []  # what authorised each attempt; the last one is answered
            response = self.with_retries(functools.partial(
                self.attempt, method, url, params, body, gradebook, used))
            if response.status_code == 401:
                unauthorized += 1
                self.credentials.refused(used[-1], unauthorized, description(response))
                continue
            if response.is_success:
                return response
            raise ApiError(response)

    def attempt(self, method: str, url: str, params: dict[str, Any] | None,
                body: Record | None, gradebook: bool, used: list[str]) -> httpx.Response:
        request = self.http.build_request(method, url, params=params, json=body)
        if gradebook and self.env.vendor_key:
            request.headers["x-vendor-authorization"] = self.env.vendor_key
        used.append(self.credentials.authorize(request))
        return self.http.send(request)

    def with_retries(self, call: Callable[[], httpx.Response]) -> httpx.Response:
        """``call()`` again after 429 (Retry-After), 5xx and network errors (backoff)."""
        failures = throttles = 0
        while True:
            try:
                response = call()
            except httpx.TransportError as exc:  # connection errors and timeouts
                failures += 1
                self.backoff(failures, type(exc).__name__)
                continue
            if response.status_code == 429:
                throttles += 1
                self.on_429(response, throttles)
                continue
            if response.status_code in (500, 502, 503, 504):
                failures += 1
                self.backoff(failures, f"HTTP {response.status_code}", retry_after(response))
                continue
            return response

    def on_429(self, response: httpx.Response, count: int) -> None:
        if count > MAX_THROTTLES:
            raise Fatal(f"still throttled (429) after {MAX_THROTTLES} waits")
        asked = retry_after(response)
        time.sleep(DEFAULT_RETRY_AFTER if asked is None else asked)

    def backoff(self, failures: int, what: str, asked: float | None = None) -> None:
        """Wait before the next try: what the provider's Retry-After asked for (0 is at once),
        else our own exponential backoff."""
        if failures >= MAX_TRIES:
            raise Fatal(f"{what} on {MAX_TRIES} tries in a row; giving up")
        time.sleep(FIRST_BACKOFF * 2 ** (failures - 1) if asked is None else asked)

    # --- reading collections -------------------------------------------------------------

    def page(self, url: str, params: dict[str, Any] | None, collection: str
             ) -> tuple[list[Record], httpx.Response]:
        response = self.send("GET", url, params=params)
        try:
            records = response.json().get(collection)
        except (ValueError, AttributeError):
            records = None
        if not isinstance(records, list):
            raise Fatal(f"{collection}: the answer has no {collection!r} array")
        return records, response

    def walk(self, collection: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        """Every page of a collection until an empty page. X-Total-Count and short pages are
        not trusted (a provider may cap the page size below what we asked, or send neither
        X-Total-Count nor Link): without a usable Link, offset advances by what was read."""
        base = f"{self.rostering}/{collection}"
        url, query, offset = base, {**params, "limit": PAGE, "offset": 0}, 0
        while True:
            records, response = self.page(url, query, collection)
            if not records:
                return
            yield records
            offset += len(records)
            link = response.links.get("next", {}).get("url")
            # Follow rel="next" only when it continues right after what we received: a provider
            # that capped the page but built the link from the limit we asked for would
            # otherwise make us skip records.
            if link and _offset(link) in (None, offset):
                url, query = link, None
            else:
                url, query = base, {**params, "limit": PAGE, "offset": offset}

    def keep(self, collection: str, record: Record) -> bool:
        """Whether a record read goes into the roster (all of them do)."""
        return True

    def read(self, collection: str, since: str | None) -> str | None:
        """Walk the records modified after ``since`` (all when None) into the roster. Answers
        the newest dateLastModified on the first page (else ``since``): a mark no later than
        the provider's clock when the walk began (nothing is modified after that clock), so
        every record changed after that is newer than the mark."""
        params = {"filter": f"dateLastModified>'{since}'"} if since else {}
        mark = since
        for number, page in enumerate(self.walk(collection, params)):
            if number == 0:
                mark = max([since or "", *(r.get("dateLastModified") or "" for r in page)])
            for record in page:
                # Dedupe by sourcedId; a tobedeleted record stays, with that status.
                if self.keep(collection, record):
                    self.roster[collection][record["sourcedId"]] = record
        return mark or None

    def sync(self) -> str:
        """Full or delta sync into self.roster; answers the phase actually run."""
        stored = self.load_state() if self.env.phase == "delta" else None
        phase = "delta" if stored is not None else "full"  # a delta without state is a full
        if stored is not None:
            self.roster = stored
            if self.school_year_changed():
                # Infinite Campus serves only the active school year: last year's records
                # vanish without a tobedeleted, so only a full sync can tell what is gone.
                self.roster = {name: {} for name in COLLECTIONS}
                phase = "full (new school year)"
        marks = {}
        for collection in COLLECTIONS:
            # Delta: our own stored high-water mark, never the wall clock, since the
            # provider's clock is what dateLastModified is written with.
            since = self.high_water_mark(collection) if phase == "delta" else None
            marks[collection] = self.read(collection, since)
        # The district may change while we walk, and offset pages over a moving collection
        # miss changes to records already read (a student withdrawn after we read them). So,
        # once everything is read, read again what changed since each walk began.
        for collection in COLLECTIONS:
            self.read(collection, marks[collection])
        self.save_state()
        return phase

    def school_year_changed(self) -> bool:
        """Whether the district serves a school year newer than any this LMS holds (it has
        changed its active year since the last sync)."""
        def year(session: Record) -> int:
            value = str(session.get("schoolYear") or "")
            return int(value) if value.isdigit() else 0

        held = max((year(s) for s in self.roster["academicSessions"].values()
                    if s.get("type") == "schoolYear"), default=0)
        return any(year(session) > held
                   for page in self.walk("academicSessions", {"filter": "type='schoolYear'"})
                   for session in page)

    def high_water_mark(self, collection: str) -> str | None:
        marks = [r["dateLastModified"] for r in self.roster[collection].values()
                 if r.get("dateLastModified")]
        return max(marks) if marks else None

    # --- state and result -----------------------------------------------------------------

    def _state_file(self) -> Path | None:
        return self.env.state_dir / "roster.json" if self.env.state_dir else None

    def load_state(self) -> Roster | None:
        path = self._state_file()
        if path is None or not path.exists():
            return None
        stored = json.loads(path.read_text())
        return {name: stored.get(name, {}) for name in COLLECTIONS}

    def save_state(self) -> None:
        path = self._state_file()
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.roster))
        tmp.replace(path)  # never leave a half-written state for the next phase

    def write_result(self) -> None:
        if self.env.result_file is None:
            return
        result = {name: [{"sourcedId": sid, "status": r.get("status")}
                         for sid, r in records.items()]
                  for name, records in self.roster.items()}
        self.env.result_file.write_text(json.dumps(result))

    # --- grade passback -------------------------------------------------------------------

    def ref(self, kind: str, path: str, sourced_id: str) -> Record:
        return {"href": f"{self.rostering}/{path}/{sourced_id}", "sourcedId": sourced_id,
                "type": kind}

    def students_by_class(self) -> dict[str, list[str]]:
        """Active student enrollments of active students, per active class."""
        users, classes = self.roster["users"], self.roster["classes"]
        found: dict[str, list[str]] = {}
        for enrollment in self.roster["enrollments"].values():
            class_id = enrollment["class"]["sourcedId"]
            user_id = enrollment["user"]["sourcedId"]
            if (enrollment.get("role") == "student" and enrollment.get("status") == "active"
                    and users.get(user_id, {}).get("status") == "active"
                    and classes.get(class_id, {}).get("status") == "active"):
                found.setdefault(class_id, []).append(user_id)
        return found

    def terms_of(self, klass: Record) -> list[Record]:
        """The class's terms, from the synced sessions or else fetched one by one."""
        terms = []
        for term_ref in klass.get("terms", []):
            sid = term_ref["sourcedId"]
            term = self.roster["academicSessions"].get(sid)
            if term is None:
                term = self.send("GET", f"{self.rostering}/academicSessions/{sid}"
                                 ).json()["academicSession"]
            terms.append(term)
        return sorted(terms, key=lambda t: t["startDate"])

    def line_item_dates(self, terms: list[Record]) -> tuple[date, date] | None:
        """(assignDate, dueDate) inside the class's first term (its end date is exclusive)."""
        start, end = _day(terms[0]["startDate"]), _day(terms[0]["endDate"])
        if end <= start:
            return None
        return start, start + timedelta(days=min(7, (end - start).days - 1))

    def passback(self) -> None:
        students = self.students_by_class()
        chosen = 0
        for class_id in sorted(students):
            if chosen == PASSBACK_CLASSES:
                break
            klass = self.roster["classes"][class_id]
            terms = self.terms_of(klass)
            dates = self.line_item_dates(terms) if terms else None
            if dates is None:
                continue  # no term to date the assignment in
            chosen += 1
            self.grade_class(klass, terms[0], dates, sorted(students[class_id]))

    def line_item(self, item_id: str, klass: Record, term: Record,
                  dates: tuple[date, date]) -> Record:
        """The line item in this version's shape. No category: the provider files it under
        the class's Uncategorized category."""
        assign, due = dates
        item = {
            "sourcedId": item_id, "status": "active", "dateLastModified": _now(),
            "title": LINE_ITEM_TITLE, "description": "Written by the example LMS consumer",
            "assignDate": _stamp(assign, 8), "dueDate": _stamp(due, 20),
            "class": self.ref("class", "classes", klass["sourcedId"]),
            "resultValueMin": 0.0, "resultValueMax": 100.0,
        }
        session = self.ref("academicSession", "academicSessions", term["sourcedId"])
        if self.env.version == "1.1":
            item["gradingPeriod"] = session  # 1.1: required, a session of the class's terms
        else:
            item["school"] = self.ref("org", "orgs", klass["school"]["sourcedId"])
            item["academicSession"] = session
        return item

    def grade_class(self, klass: Record, term: Record, dates: tuple[date, date],
                    students: list[str]) -> None:
        class_id = klass["sourcedId"]
        # Deterministic ids: a retried or re-run PUT replaces instead of duplicating.
        item_id = str(uuid.uuid5(ID_NAMESPACE, f"{class_id}/hw1"))
        if not self.put("lineItems", item_id,
                        {"lineItem": self.line_item(item_id, klass, term, dates)}):
            return  # results would only be refused for an unknown line item
        for student_id in students:
            result_id = str(uuid.uuid5(ID_NAMESPACE, f"{item_id}/{student_id}"))
            score = 60 + uuid.UUID(result_id).int % 41  # stable per student
            result = {
                "sourcedId": result_id, "status": "active", "dateLastModified": _now(),
                "lineItem": {"href": f"{self.gradebook}/lineItems/{item_id}",
                             "sourcedId": item_id, "type": "lineItem"},
                "student": self.ref("user", "users", student_id),
                "scoreStatus": "fully graded", "score": float(score),
                "scoreDate": dates[1].isoformat(),
            }
            if self.env.version == "1.2":
                result["class"] = self.ref("class", "classes", class_id)
            self.put("results", result_id, {"result": result})

    def put(self, collection: str, sourced_id: str, body: Record) -> bool:
        """One grade-book PUT; a refusal is reported and counted, not fatal, so the other
        writes still go out."""
        try:
            self.send("PUT", f"{self.gradebook}/{collection}/{sourced_id}", body=body,
                      gradebook=True)
        except ApiError as exc:
            print(f"write refused: {exc}", file=sys.stderr)
            self.write_failures += 1
            return False
        self.written[collection] += 1
        return True

    # --- the whole run ----------------------------------------------------------------------

    def run(self) -> int:
        phase = self.sync()
        self.write_result()
        if self.env.write_grades:
            self.passback()
        counts = " ".join(f"{name}={len(records)}" for name, records in self.roster.items())
        grades = (f"; lineItems={self.written['lineItems']} results={self.written['results']}"
                  f" refused={self.write_failures}" if self.env.write_grades else "")
        print(f"{phase} sync (OneRoster {self.env.version}): {counts}{grades}")
        return 1 if self.write_failures else 0
