"""The deliberately bad example consumers: each overrides one hook of the good one (or of its
credentials) to make one mistake real consumers make."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import httpx
from example_auth import BearerToken, OAuth1Signer
from example_env import Fatal
from example_lms import PAGE, Consumer, Credentials, Record, _day


class IgnoresPagination(Consumer):
    """Reads only the first page of each collection."""

    def walk(self, collection: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        records, _ = self.page(f"{self.rostering}/{collection}", {**params, "limit": PAGE},
                               collection)
        yield records


class KeepsOldYear(Consumer):
    """Never notices a new school year: a plain delta sync, which cannot see last year's
    classes and enrollments disappear (they are not marked tobedeleted), so they stay."""

    def school_year_changed(self) -> bool:
        return False


class FollowsLinkOnly(Consumer):
    """Walks by Link rel="next" alone: a page without one is taken for the last."""

    def walk(self, collection: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        url, query = f"{self.rostering}/{collection}", {**params, "limit": PAGE}
        while True:
            records, response = self.page(url, query, collection)
            if records:
                yield records
            link = response.links.get("next", {}).get("url")
            if not records or not link:
                return
            url, query = link, None


class Ignores429(Consumer):
    """On 429 retries at once, ignoring Retry-After, up to 50 tries."""

    def on_429(self, response: httpx.Response, count: int) -> None:
        if count >= 50:
            raise Fatal("429 on 50 tries; giving up")


class StaleToken(BearerToken):
    """Never renews early; on 401 tries the same token again, then gives up."""

    def token(self) -> str:
        if self._token is None:
            self.fetch()
        assert self._token is not None
        return self._token

    def refused(self, used: str, count: int, why: str) -> None:
        if count > 3:
            raise Fatal(f"401 on 4 tries with the same token, giving up: {why}")


class NoTokenRefresh(Consumer):
    """On 401 retries the same token a few times, then exits non-zero; never renews early."""

    def make_credentials(self) -> Credentials:
        return StaleToken(self.http, self.env, self.with_retries)


class HammeringToken(BearerToken):
    """Takes every failed token request for a passing hiccup: tries again, ten times."""

    TRIES = 10

    def fetch(self) -> None:
        for attempt in range(1, self.TRIES + 1):
            try:
                super().fetch()
                return
            except Fatal:
                if attempt == self.TRIES:
                    raise
                time.sleep(0.1)


class HammersToken(Consumer):
    """Retries a refused token request (401 invalid_client) ten times before giving up."""

    def make_credentials(self) -> Credentials:
        if self.env.oauth1 is not None:
            raise Fatal("--bad hammers-token fetches tokens: run it without --oauth1")
        return HammeringToken(self.http, self.env, self.with_retries)


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


GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}")


class ExpectsGuids(Consumer):
    """Takes every sourcedId for a GUID and drops records whose id is not one, as Infinite
    Campus's 1.1 user ids (s200123) are not."""

    def keep(self, collection: str, record: Record) -> bool:
        return GUID.fullmatch(record["sourcedId"]) is not None


class ReplayingSigner(OAuth1Signer):
    """Re-sends the signature of the request before when the same request goes out again (a
    retry after a 5xx or a 429), as a client that signs once and retries the prepared request
    does."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._last: tuple[tuple[str, str], str] | None = None

    def authorize(self, request: httpx.Request) -> str:
        key = (request.method, str(request.url))
        if self._last is not None and self._last[0] == key:
            request.headers["Authorization"] = self._last[1]
            return self._last[1]
        header = super().authorize(request)
        self._last = (key, header)
        return header


class ReusesNonce(Consumer):
    """With --oauth1: a retried request goes out with the signature (nonce and timestamp) of
    the failed attempt instead of being signed anew."""

    def make_credentials(self) -> Credentials:
        if self.env.oauth1 is None:
            raise Fatal("--bad reuses-nonce signs requests: run it with --oauth1")
        return ReplayingSigner(self.env.oauth1)


BAD: dict[str, type[Consumer]] = {
    "ignores-pagination": IgnoresPagination,
    "follows-link-only": FollowsLinkOnly,
    "ignores-429": Ignores429,
    "no-token-refresh": NoTokenRefresh,
    "dates-outside-term": DatesOutsideTerm,
    "parallel-20": Parallel20,
    "reuses-nonce": ReusesNonce,
    "expects-guids": ExpectsGuids,
    "hammers-token": HammersToken,
    "keeps-old-year": KeepsOldYear,
}
