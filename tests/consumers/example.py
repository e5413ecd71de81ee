"""An example OneRoster 1.2 consumer (an LMS syncing rosters and writing grades back), plus
deliberately bad variants for the harness's ``check consumer`` scenarios.

    python tests/consumers/example.py [--bad KIND]

Everything it needs comes from the ONEROSTER_* environment variables (see README.md). Only the
standard library and httpx, so it runs anywhere the harness does.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

SCOPE = "https://purl.imsglobal.org/spec/or/v1p2/scope/"
ROSTER_SCOPES = (SCOPE + "roster.readonly",)
GRADEBOOK_SCOPES = (SCOPE + "gradebook.createput", SCOPE + "gradebook.readonly")
# The 1.2 rostering collections this LMS keeps (also the envelope keys).
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


class Fatal(Exception):
    """A failure the consumer cannot recover from: report it and exit 1."""


class ApiError(Fatal):
    """A 4xx answer other than 401/429: the request itself is wrong, retrying cannot help."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        # The path only: short, and no query string or host to leak into logs.
        super().__init__(f"{response.request.method} {response.request.url.path} -> "
                         f"{self.status}: {_description(response)}")


def _description(response: httpx.Response) -> str:
    """The provider's own words for an error (imsx_description), else a bit of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "imsx_description" in body:
        return str(body["imsx_description"])
    return json.dumps(body)[:200]


@dataclass(frozen=True)
class Env:
    base_url: str
    token_url: str
    client_id: str
    client_secret: str
    vendor_key: str | None
    write_grades: bool
    phase: str
    state_dir: Path | None
    result_file: Path | None

    @classmethod
    def read(cls) -> Env:
        def need(name: str) -> str:
            value = os.environ.get(name)
            if not value:
                raise Fatal(f"{name} is not set")
            return value

        version = os.environ.get("ONEROSTER_VERSION") or "1.2"
        if version != "1.2":
            raise Fatal(f"ONEROSTER_VERSION {version} is not supported (only 1.2)")
        phase = os.environ.get("ONEROSTER_SYNC_PHASE") or "full"
        if phase not in ("full", "delta"):
            raise Fatal(f"ONEROSTER_SYNC_PHASE must be full or delta, not {phase!r}")
        state = os.environ.get("ONEROSTER_STATE_DIR")
        result = os.environ.get("ONEROSTER_RESULT_FILE")
        return cls(base_url=need("ONEROSTER_BASE_URL").rstrip("/"),
                   token_url=need("ONEROSTER_TOKEN_URL"),
                   client_id=need("ONEROSTER_CLIENT_ID"),
                   client_secret=need("ONEROSTER_CLIENT_SECRET"),
                   vendor_key=os.environ.get("ONEROSTER_VENDOR_KEY") or None,
                   write_grades=os.environ.get("ONEROSTER_GRADEBOOK") == "write",
                   phase=phase,
                   state_dir=Path(state) if state else None,
                   result_file=Path(result) if result else None)


def _retry_after(response: httpx.Response) -> float | None:
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
    """The good consumer. The bad variants below override one hook each."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.rostering = f"{env.base_url}/ims/oneroster/rostering/v1p2"
        self.gradebook = f"{env.base_url}/ims/oneroster/gradebook/v1p2"
        self.http = httpx.Client(timeout=TIMEOUT)
        self._token: str | None = None
        self._token_deadline = 0.0
        self._token_lock = threading.Lock()  # only the parallel variant has several threads
        self.roster: Roster = {name: {} for name in COLLECTIONS}
        self.written = {"lineItems": 0, "results": 0}
        self.write_failures = 0

    # --- the token ----------------------------------------------------------------------

    def token(self) -> str:
        with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_deadline:
                self._fetch_token()
            assert self._token is not None
            return self._token

    def refresh_token(self, stale: str) -> None:
        with self._token_lock:
            if self._token == stale:  # another thread may have refreshed it already
                self._fetch_token()

    def _fetch_token(self) -> None:
        scopes = ROSTER_SCOPES + (GRADEBOOK_SCOPES if self.env.write_grades else ())
        form = {"grant_type": "client_credentials", "scope": " ".join(scopes)}
        response = self._with_retries(lambda: self.http.post(
            self.env.token_url, data=form, auth=(self.env.client_id, self.env.client_secret)))
        if response.status_code != 200:
            # Wrong credentials or scopes. The answer is RFC 6749 JSON (error, description),
            # which never holds the secret, so it is safe to show.
            raise Fatal(f"token request -> {response.status_code}: {response.text[:200]}")
        body = response.json()
        self._token = body["access_token"]
        lifetime = float(body.get("expires_in") or 3600)
        # Renew a little early so a token never expires between our check and the server's.
        self._token_deadline = time.monotonic() + lifetime * 0.9

    # --- one request, with the retry policy ----------------------------------------------

    def send(self, method: str, url: str, *, params: dict[str, Any] | None = None,
             body: Record | None = None, gradebook: bool = False) -> httpx.Response:
        """One OneRoster call; answers the 2xx response or raises Fatal / ApiError."""
        unauthorized = 0
        while True:
            token = self.token()
            headers = {"Authorization": f"Bearer {token}"}
            if gradebook and self.env.vendor_key:
                headers["x-vendor-authorization"] = self.env.vendor_key
            response = self._with_retries(lambda h=headers: self.http.request(
                method, url, params=params, json=body, headers=h))
            if response.status_code == 401:
                unauthorized += 1
                self.on_401(token, unauthorized)
                continue
            if response.is_success:
                return response
            raise ApiError(response)

    def on_401(self, token: str, count: int) -> None:
        """The token may have been revoked or expired early: fetch a new one ONCE."""
        if count > 1:
            raise Fatal("401 again with a fresh token: the credentials are not accepted")
        self.refresh_token(token)

    def _with_retries(self, call: Callable[[], httpx.Response]) -> httpx.Response:
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
                self.backoff(failures, f"HTTP {response.status_code}", _retry_after(response))
                continue
            return response

    def on_429(self, response: httpx.Response, count: int) -> None:
        if count > MAX_THROTTLES:
            raise Fatal(f"still throttled (429) after {MAX_THROTTLES} waits")
        asked = _retry_after(response)
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
        not trusted: a provider may cap the page size below what we asked."""
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
                self.roster[collection][record["sourcedId"]] = record
        return mark or None

    def sync(self) -> str:
        """Full or delta sync into self.roster; answers the phase actually run."""
        stored = self.load_state() if self.env.phase == "delta" else None
        phase = "delta" if stored is not None else "full"  # a delta without state is a full
        if stored is not None:
            self.roster = stored
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

    def grade_class(self, klass: Record, term: Record, dates: tuple[date, date],
                    students: list[str]) -> None:
        class_id = klass["sourcedId"]
        # Deterministic ids: a retried or re-run PUT replaces instead of duplicating.
        item_id = str(uuid.uuid5(ID_NAMESPACE, f"{class_id}/hw1"))
        assign, due = dates
        line_item = {
            "sourcedId": item_id, "status": "active", "dateLastModified": _now(),
            "title": LINE_ITEM_TITLE, "description": "Written by the example LMS consumer",
            "assignDate": _stamp(assign, 8), "dueDate": _stamp(due, 20),
            "class": self.ref("class", "classes", class_id),
            "school": self.ref("org", "orgs", klass["school"]["sourcedId"]),
            "academicSession": self.ref("academicSession", "academicSessions",
                                        term["sourcedId"]),
            "resultValueMin": 0.0, "resultValueMax": 100.0,
            # No category: the provider files it under the class's Uncategorized category.
        }
        if not self.put("lineItems", item_id, {"lineItem": line_item}):
            return  # results would only be refused for an unknown line item
        for student_id in students:
            result_id = str(uuid.uuid5(ID_NAMESPACE, f"{item_id}/{student_id}"))
            score = 60 + uuid.UUID(result_id).int % 41  # stable per student
            result = {
                "sourcedId": result_id, "status": "active", "dateLastModified": _now(),
                "lineItem": {"href": f"{self.gradebook}/lineItems/{item_id}",
                             "sourcedId": item_id, "type": "lineItem"},
                "student": self.ref("user", "users", student_id),
                "class": self.ref("class", "classes", class_id),
                "scoreStatus": "fully graded", "score": float(score),
                "scoreDate": due.isoformat(),
            }
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
        print(f"{phase} sync: {counts}{grades}")
        return 1 if self.write_failures else 0


# --- the bad variants: each overrides one hook ----------------------------------------------


class IgnoresPagination(Consumer):
    """Reads only the first page of each collection."""

    def walk(self, collection: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        records, _ = self.page(f"{self.rostering}/{collection}", {**params, "limit": PAGE},
                               collection)
        yield records


class Ignores429(Consumer):
    """On 429 retries at once, ignoring Retry-After, up to 50 tries."""

    def on_429(self, response: httpx.Response, count: int) -> None:
        if count >= 50:
            raise Fatal("429 on 50 tries; giving up")


class NoTokenRefresh(Consumer):
    """On 401 retries the same token a few times, then exits non-zero; never renews early."""

    def token(self) -> str:
        if self._token is None:
            self._fetch_token()
        assert self._token is not None
        return self._token

    def on_401(self, token: str, count: int) -> None:
        if count > 3:
            raise Fatal("401 on 4 tries with the same token; giving up")


class DatesOutsideTerm(Consumer):
    """Dates its line items a month after the class's last term has ended."""

    def line_item_dates(self, terms: list[Record]) -> tuple[date, date] | None:
        after = max(_day(t["endDate"]) for t in terms) + timedelta(days=30)
        return after, after + timedelta(days=7)


class Parallel20(Consumer):
    """Fetches 20 pages of a collection at once (offsets 0, 100, ..., 1900), batch by batch."""

    THREADS = 20

    def walk(self, collection: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        url = f"{self.rostering}/{collection}"
        with ThreadPoolExecutor(self.THREADS) as pool:
            start = 0
            while True:
                offsets = range(start, start + self.THREADS * PAGE, PAGE)
                pages = list(pool.map(lambda o: self.page(
                    url, {**params, "limit": PAGE, "offset": o}, collection)[0], offsets))
                yield from pages
                if not all(pages):
                    return
                start += self.THREADS * PAGE


BAD: dict[str, type[Consumer]] = {
    "ignores-pagination": IgnoresPagination,
    "ignores-429": Ignores429,
    "no-token-refresh": NoTokenRefresh,
    "dates-outside-term": DatesOutsideTerm,
    "parallel-20": Parallel20,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="An example OneRoster 1.2 consumer.")
    parser.add_argument("--bad", choices=sorted(BAD), help="run a deliberately bad variant")
    args = parser.parse_args(argv)
    try:
        consumer = BAD.get(args.bad, Consumer)(Env.read())
        with consumer.http:
            return consumer.run()
    except Fatal as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
