"""Infinite Campus: its URL layout and the rules it applies to OneRoster connections.

- 1.2 under ``/campus/api/oneroster/v1p2/{appName}/ims/oneroster/...``; this mock puts 1.1
  under the matching ``/campus/api/oneroster/v1p1/{appName}`` prefix.
- Token at ``/campus/oauth2/token?appName={appName}``: the app name travels as a query string
  on the token request, and a token request for another app name is refused.
- Guardians and relatives are shared only with grade-book connections (Campus KB, OneRoster
  1.1 data models), so rostering-only connections never see them.
- Every grade-book call must carry ``x-vendor-authorization: {vendorKey}:{vendorSecret}`` when
  the connection has a vendor key (401 without it).
- 1.1 user ids are a role letter plus the legacy person number (``s200123``), in records,
  references and paths, grade-book writes included; 1.2 users keep GUIDs and carry
  ``metadata.ic.legacysourceId`` (campus_ids.py). 1.1 filters on user-id fields take those
  ids too (``sourcedId='s200123'``, ``user.sourcedId~'s2001'``); a user's GUID there matches
  nothing, as on Campus.
- Only the active school year is served (last year's records stay hidden) and pages go up to
  50,000 records; both are the mock's defaults anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..middleware.auth import require_vendor_key
from ..query.sql import Translate
from ..state import shared
from .base import Profile
from .campus_ids import (
    guid_for_legacy,
    served_id_translation,
    stored_user_refs,
    to_legacy_ids,
    with_legacy_metadata,
)

GUARDIAN_ROLES = "('parent', 'guardian', 'relative')"


@dataclass(frozen=True)
class InfiniteCampus(Profile):
    app_name: str = "district"

    def check_token_request(self, request: Request) -> Response | None:
        asked = request.query_params.get("appName")
        if asked == self.app_name:
            return None
        detail = "appName is missing" if asked is None else f"unknown appName {asked!r}"
        return JSONResponse({"error": "invalid_request", "error_description": detail},
                            status_code=400, headers={"Cache-Control": "no-store"})

    def check_gradebook_request(self, request: Request, grant: object) -> None:
        # Campus wants x-vendor-authorization: key:secret on every grade-book call.
        require_vendor_key(request, grant)

    def resolve_path_ids(self, request: Request, version: str) -> None:
        if version != "1.1":
            return
        params = request.scope.get("path_params", {})
        conn = shared(request).store.conn
        for name, value in params.items():
            guid = guid_for_legacy(conn, value)
            if guid is not None:
                params[name] = guid

    def stored_write(self, request: Request, version: str, table: str,
                     record: dict[str, Any]) -> dict[str, Any]:
        if version != "1.1":
            return record
        return stored_user_refs(shared(request).store.conn, table, record)

    def filter_translation(self, request: Request, version: str,
                           table: str) -> Translate | None:
        if version != "1.1":
            return None
        return served_id_translation(shared(request).store.conn, table)

    def transform_records(self, request: Request, version: str, table: str,
                          texts: list[str]) -> list[str]:
        if version != "1.2" or table != "users":
            return texts
        return [with_legacy_metadata(text) for text in texts]

    def transform_body(self, request: Request, version: str, body: str) -> str:
        if version != "1.1":
            return body
        return to_legacy_ids(shared(request).store.conn, body)

    def serves_stored(self, version: str, table: str) -> bool:
        # The two transforms above: 1.2 users gain legacy metadata, 1.1 bodies legacy ids.
        return version == "1.2" and table != "users"

    def user_condition(self, request: Request) -> str:
        grant = request.scope.get("state", {}).get("grant")
        scopes = getattr(grant, "scopes", frozenset())
        if any("/scope/gradebook" in scope for scope in scopes):
            return ""
        return f"role NOT IN {GUARDIAN_ROLES}"


def infinite_campus(app_name: str) -> InfiniteCampus:
    return InfiniteCampus(
        "infinite-campus",
        prefixes={"1.2": f"/campus/api/oneroster/v1p2/{app_name}",
                  "1.1": f"/campus/api/oneroster/v1p1/{app_name}"},
        token_path="/campus/oauth2/token",
        token_query=f"appName={app_name}",
        app_name=app_name,
    )
