"""What a token URL's successful answer must hold (RFC 6749 §5.1, RFC 6750): an
``access_token`` the client can send back in a header, a ``token_type`` of ``bearer`` (any
letter case) and, when present, an ``expires_in`` that is a positive number of seconds.

``issued_token`` says what token an answer issues, so the run can go on with a token that is
usable though badly typed (a number), and OR-AUTH-012 reports what ``problems`` finds.
"""

from __future__ import annotations

import math
import re
from typing import Any

# Whitespace and control characters cannot travel in an Authorization header (RFC 9110 §5.5);
# RFC 6750 §2.1's b64token has none of them.
_UNSENDABLE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")
SHOWN_CHARS = 40  # of a wrong token_type quoted in a problem


def issued_token(body: Any) -> str | None:
    """The token an answer issues: a non-empty ``access_token`` string, or a number's text (a
    problem, but one the token can still be sent with); None when it issues none."""
    if not isinstance(body, dict):
        return None
    token = body.get("access_token")
    if isinstance(token, str):
        return token or None
    if isinstance(token, int | float) and not isinstance(token, bool) and math.isfinite(token):
        return str(token)
    return None


def positive_number(value: Any) -> bool:
    """A JSON number above zero (and finite); booleans are not numbers here."""
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value) and value > 0


def problems(body: Any) -> list[str]:
    """What is wrong with a token answer that issued a token, each as a phrase (empty when
    nothing is). Never quotes the token."""
    if not isinstance(body, dict):
        return ["the answer is not a JSON object"]
    found = []
    token = body.get("access_token")
    if not isinstance(token, str):
        found.append(f"access_token is {_kind(token)}, not a string")
    elif not token:
        found.append("access_token is empty")
    elif _UNSENDABLE.search(token):
        found.append("access_token holds whitespace or control characters, which an "
                     "Authorization header cannot carry (RFC 6750 §2.1 b64token)")
    kind = body.get("token_type")
    if kind is None:
        found.append("token_type is missing (RFC 6749 §5.1: REQUIRED)")
    elif not isinstance(kind, str) or kind.lower() != "bearer":
        shown = repr(kind[:SHOWN_CHARS]) if isinstance(kind, str) else _kind(kind)
        found.append(f"token_type is {shown}, not bearer")
    if "expires_in" in body and not positive_number(body["expires_in"]):
        lifetime = body["expires_in"]
        shown = f"{lifetime!r}"[:SHOWN_CHARS] if isinstance(lifetime, int | float) and \
            not isinstance(lifetime, bool) else _kind(lifetime)
        found.append(f"expires_in is {shown}, not a positive number of seconds")
    return found


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


__all__ = ["issued_token", "positive_number", "problems"]
