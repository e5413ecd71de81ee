"""What the example consumer is told (the ONEROSTER_* environment, see README.md) and how it
fails."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import httpx

SIGNATURE_METHODS = ("HMAC-SHA256", "HMAC-SHA1")  # the first is what OneRoster 1.1 asks for


class Fatal(Exception):
    """A failure the consumer cannot recover from: report it and exit 1."""


class ApiError(Fatal):
    """A 4xx answer other than 401/429: the request itself is wrong, retrying cannot help."""

    def __init__(self, response: httpx.Response) -> None:
        self.status = response.status_code
        # The path only: short, and no query string or host to leak into logs.
        super().__init__(f"{response.request.method} {response.request.url.path} -> "
                         f"{self.status}: {description(response)}")


def description(response: httpx.Response) -> str:
    """The provider's own words for an error (imsx_description, in 1.2 or in a 1.1
    statusInfoSet), else a bit of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "imsx_description" in body:
        return str(body["imsx_description"])
    infos = body.get("statusInfoSet") if isinstance(body, dict) else None
    if isinstance(infos, list) and infos and isinstance(infos[0], dict) \
            and "imsx_description" in infos[0]:
        return str(infos[0]["imsx_description"])
    return json.dumps(body)[:200]


@dataclass(frozen=True)
class OAuth1Keys:
    consumer_key: str
    consumer_secret: str
    signature_method: str


@dataclass(frozen=True)
class Env:
    version: str  # "1.2" or "1.1": which OneRoster this run speaks
    base_url: str  # everything before /ims/oneroster, for that version
    token_url: str | None  # None when signing with OAuth 1.0a
    client_id: str
    client_secret: str
    oauth1: OAuth1Keys | None
    vendor_key: str | None
    write_grades: bool
    phase: str
    state_dir: Path | None
    result_file: Path | None

    @classmethod
    def read(cls, oauth1: bool = False, signature_method: str = SIGNATURE_METHODS[0]) -> Env:
        """The run's settings; ``oauth1`` signs 1.1 requests with the OAuth 1.0a keys instead
        of fetching bearer tokens (OAuth 1.0a exists only in OneRoster 1.1)."""
        def need(name: str) -> str:
            value = os.environ.get(name)
            if not value:
                raise Fatal(f"{name} is not set")
            return value

        version = "1.1" if oauth1 else os.environ.get("ONEROSTER_VERSION") or "1.2"
        if version not in ("1.2", "1.1"):
            raise Fatal(f"ONEROSTER_VERSION must be 1.2 or 1.1, not {version!r}")
        phase = os.environ.get("ONEROSTER_SYNC_PHASE") or "full"
        if phase not in ("full", "delta"):
            raise Fatal(f"ONEROSTER_SYNC_PHASE must be full or delta, not {phase!r}")
        base = need("ONEROSTER_BASE_URL")
        if version == "1.1":
            base = os.environ.get("ONEROSTER_BASE_URL_V11") or base
        keys = OAuth1Keys(need("ONEROSTER_OAUTH1_CONSUMER_KEY"),
                          need("ONEROSTER_OAUTH1_CONSUMER_SECRET"),
                          signature_method) if oauth1 else None
        state = os.environ.get("ONEROSTER_STATE_DIR")
        result = os.environ.get("ONEROSTER_RESULT_FILE")
        return cls(version=version, base_url=base.rstrip("/"),
                   token_url=None if oauth1 else need("ONEROSTER_TOKEN_URL"),
                   client_id="" if oauth1 else need("ONEROSTER_CLIENT_ID"),
                   client_secret="" if oauth1 else need("ONEROSTER_CLIENT_SECRET"),
                   oauth1=keys,
                   vendor_key=os.environ.get("ONEROSTER_VENDOR_KEY") or None,
                   write_grades=os.environ.get("ONEROSTER_GRADEBOOK") == "write",
                   phase=phase,
                   state_dir=Path(state) if state else None,
                   result_file=Path(result) if result else None)
