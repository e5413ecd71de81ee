"""What a provider flavor decides; the routes ask the profile instead of testing flavor names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..query.sql import Translate


@dataclass(frozen=True)
class Profile:
    name: str
    # Path in front of /ims/oneroster, per OneRoster version ("1.2", "1.1").
    prefixes: dict[str, str] = field(default_factory=lambda: {"1.2": "", "1.1": ""})
    token_path: str = "/oauth2/token"
    # Query parameters the token URL carries (Campus's ?appName=...), shown in banners and
    # discovery documents.
    token_query: str = ""

    def check_token_request(self, request: Request) -> Response | None:
        """A refusal for a token request this flavor does not accept, or None."""
        return None

    def check_gradebook_request(self, request: Request, grant: object) -> None:
        """Raise a OneRosterError for a grade-book call this flavor refuses."""

    def resolve_path_ids(self, request: Request, version: str) -> None:
        """Rewrite path parameters given in this flavor's id forms to stored sourcedIds."""

    def stored_write(self, request: Request, version: str, table: str,
                     record: dict[str, Any]) -> dict[str, Any]:
        """A grade-book record sent to be written, with the ids it names in this flavor's
        served forms turned into stored sourcedIds (the write's counterpart of
        ``resolve_path_ids``)."""
        return record

    def filter_translation(self, request: Request, version: str,
                           table: str) -> Translate | None:
        """How this flavor's filter values map to stored values, for fields it serves
        differently from how they are stored (see ``query.sql.StoredValues``); None when it
        serves them as stored."""
        return None

    def transform_records(self, request: Request, version: str, table: str,
                          texts: list[str]) -> list[str]:
        """Stored record texts as this flavor serves them (before field selection)."""
        return texts

    def transform_body(self, request: Request, version: str, body: str) -> str:
        """A response body, compact refs still in place, as this flavor serves it."""
        return body

    def user_condition(self, request: Request) -> str:
        """Extra SQL restricting which users (and their demographics) a caller sees."""
        return ""

    def serves_stored(self, version: str, table: str) -> bool:
        """True when this flavor serves ``table``'s stored texts in ``version`` as they are
        (``transform_records`` and ``transform_body`` change nothing), so a page may be built
        from the stored bytes without decoding them. A flavor that overrides either transform
        is asked to override this too; until it does, its pages take the text path."""
        cls = type(self)
        return (cls.transform_records is Profile.transform_records
                and cls.transform_body is Profile.transform_body)

    @property
    def token_url_path(self) -> str:
        return self.token_path + (f"?{self.token_query}" if self.token_query else "")
