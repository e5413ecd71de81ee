"""Infinite Campus: its URL layout and the rules it applies to OneRoster connections.

- 1.2 under ``/campus/api/oneroster/v1p2/{appName}/ims/oneroster/...``; this mock puts 1.1
  under the matching ``/campus/api/oneroster/v1p1/{appName}`` prefix.
- Token at ``/campus/oauth2/token?appName={appName}``: the app name travels as a query string
  on the token request, and a token request for another app name is refused.
- Guardians and relatives are shared only with grade-book connections (Campus KB, OneRoster
  1.1 data models), so rostering-only connections never see them.
- Every grade-book call must carry ``x-vendor-authorization: {vendorKey}:{vendorSecret}`` when
  the connection has a vendor key (401 without it).
- Only the active school year is served (last year's records stay hidden) and pages go up to
  50,000 records; both are the mock's defaults anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..middleware.auth import require_vendor_key
from .base import Profile

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
