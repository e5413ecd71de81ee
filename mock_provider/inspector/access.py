"""Who may open the inspector: anyone who can reach a loopback address; elsewhere only with
the admin token, sent as a bearer token or as the password of HTTP Basic (which a browser
asks for itself after the 401)."""

from __future__ import annotations

import base64
import binascii
import ipaddress

from starlette.requests import Request

from ..errors import OneRosterError
from ..routes.admin import admin_token_matches

REALM = 'Basic realm="oneroster-inspector"'


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _supplied(header: str) -> str | None:
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


def check_access(request: Request, admin_token: str | None) -> None:
    """Nothing when the request may see the inspector; 401 with a Basic challenge if not.
    Without an admin token (served on loopback) the request must also name a loopback host,
    so a web page whose name was re-pointed at 127.0.0.1 cannot read or drive it."""
    if admin_token is None:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if not is_loopback(name):
            raise OneRosterError(403, "forbidden", f"the inspector answers only requests "
                                 f"addressed to a loopback host, not {host[:80]!r}")
        return
    supplied = _supplied(request.headers.get("authorization", ""))
    if supplied is None or not admin_token_matches(supplied, admin_token):
        raise OneRosterError(401, "unauthorisedrequest",
                             "the inspector needs the admin token (as the password, any user "
                             "name, or as Authorization: Bearer <admin token>)",
                             headers={"WWW-Authenticate": REALM})


__all__ = ["check_access", "is_loopback"]
