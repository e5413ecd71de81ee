"""A provider under test at a URL: OAuth 2.0 client credentials, bounded GETs, masked evidence."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from .model import Evidence

BASE_PATHS = {"1.2": "/ims/oneroster/rostering/v1p2", "1.1": "/ims/oneroster/v1p1"}
EXCERPT = 600


class TargetError(Exception):
    """The provider cannot be used at all (no token, nothing listening): a usage problem."""


class BudgetExceeded(Exception):
    """The run reached its request limit; the remaining checks are skipped."""


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    status: int | None
    headers: httpx.Headers
    text: str
    auth: str  # how the request was authorised: "bearer", "none" or "custom"

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (a finding for the caller)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def evidence(self) -> Evidence:
        header = {"bearer": " -H 'Authorization: Bearer ***'", "none": "",
                  "custom": " -H 'Authorization: ***'"}[self.auth]
        return Evidence(self.method, self.url, self.status, self.text[:EXCERPT],
                        f"curl -s{header} '{self.url}'")


class Target:
    """Talks to one provider. Every request counts against ``max_requests``."""

    def __init__(self, base_url: str, token_url: str, client_id: str, client_secret: str,
                 version: str = "1.2", timeout: float = 10.0, max_requests: int = 2_000,
                 client: httpx.Client | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_url = token_url
        self.version = version
        self.root = self.base_url + BASE_PATHS[version]
        self._credentials = (client_id, client_secret)
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._token: str | None = None
        self.max_requests = max_requests
        self.requests = 0

    def close(self) -> None:
        self._client.close()

    def token(self) -> str:
        if self._token is None:
            try:
                response = self._client.post(self.token_url,
                                             data={"grant_type": "client_credentials"},
                                             auth=self._credentials)
            except httpx.HTTPError as exc:
                raise TargetError(f"cannot reach the token URL {self.token_url}: {exc}") from None
            if response.status_code != 200:
                raise TargetError(f"the token URL answered {response.status_code}; check the "
                                  "client id and secret")
            try:
                self._token = response.json()["access_token"]
            except (ValueError, KeyError, TypeError):
                raise TargetError("the token URL did not answer an OAuth 2.0 token") from None
        return self._token

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = path if path.startswith("http") else self.root + path
        return f"{url}?{urlencode(params)}" if params else url

    def get(self, path: str, params: dict[str, Any] | None = None, *,
            authorization: str | None = None) -> Exchange:
        """GET with the run's bearer token, or with ``authorization`` as given ("" for none)."""
        if self.requests >= self.max_requests:
            raise BudgetExceeded(f"the run reached its limit of {self.max_requests} requests")
        self.requests += 1
        url = self.url(path, params)
        if authorization is None:
            headers, auth = {"Authorization": f"Bearer {self.token()}"}, "bearer"
        elif authorization == "":
            headers, auth = {}, "none"
        else:
            headers, auth = {"Authorization": authorization}, "custom"
        try:
            response = self._client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            return Exchange("GET", url, None, httpx.Headers(), f"no answer: {exc}", auth)
        return Exchange("GET", url, response.status_code, response.headers, response.text, auth)
