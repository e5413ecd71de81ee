"""What a token URL's refusal means, in one line a user can act on.

RFC 6749 §5.2 says a refused token request answers JSON with an ``error`` code and an optional
``error_description``; real token URLs also answer 404 pages, HTML login pages and plain text.
``read_refusal`` sorts an answer into a kind (a wrong URL, an answer that is not JSON, a scope
problem, a client problem, an unsupported grant, ...) and ``Refusal.line`` says it with the
provider's own words quoted, never with the secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import httpx

from .token_answer import issued_token

DESCRIPTION_CHARS = 200  # of a provider's error_description quoted in a message

# kind -> what to do about it, with {scope} for the scope option's spelling
ADVICE = {
    "url": "check the token URL",
    "not-json": "check the token URL (it does not answer as an OAuth 2.0 token endpoint)",
    "scope": "give the scopes the connection holds with {scope} \"URI URI ...\"",
    "client": "check the client id and secret",
    "grant": "the connection must allow the client_credentials grant",
    "no-token": "check the token URL (it does not answer as an OAuth 2.0 token endpoint)",
    "other": "check the token URL and the credentials",
}


@dataclass(frozen=True)
class Refusal:
    """A token request that got no token: the HTTP status, the RFC 6749 ``error`` and
    ``error_description`` when the answer was JSON, and its kind (``url``, ``not-json``,
    ``scope``, ``client``, ``grant``, ``no-token`` or ``other``)."""

    status: int
    kind: str
    error: str | None = None
    description: str | None = None
    content_type: str = ""
    keys: tuple[str, ...] = ()  # of a JSON answer, to show what came instead of a token

    @property
    def said(self) -> str:
        """The answer in short: ``401 invalid_client "unknown client"``."""
        text = str(self.status)
        if self.error:
            text += f" {self.error}"
        if self.description:
            cut = self.description[:DESCRIPTION_CHARS]
            text += f' "{cut}{"..." if len(self.description) > DESCRIPTION_CHARS else ""}"'
        elif self.kind in ("url", "not-json"):
            text += f" with {_page(self.content_type)}"
        return text

    @property
    def style_may_matter(self) -> bool:
        """Whether another way of sending the client credentials (HTTP Basic or form fields)
        might be accepted: the refusal is about the client or the request, not the scope, the
        grant or the URL."""
        return self.kind == "client" or (self.kind == "other" and self.status in (400, 401))

    def line(self, token_url: str, scope_option: str = "--scope",
             asked: str | None = None) -> str:
        """One line: what the token URL answered, what that means and what to try; ``asked``
        is the scope the request asked for (short names), for a scope refusal."""
        meaning = {
            "url": "there is no token endpoint at that URL",
            "not-json": "that is not an OAuth 2.0 token endpoint's JSON",
            "scope": "the scope was refused (asked for " + (asked or "no scope") + ")",
            "client": "the client was refused",
            "grant": "the client_credentials grant was refused",
            "no-token": "the JSON has no access_token (its keys: "
                        + (", ".join(self.keys[:8]) or "none") + ")",
            "other": "no token was issued",
        }[self.kind]
        where = f" {token_url}" if self.kind in ("url", "not-json", "no-token") else ""
        return (f"the token URL{where} answered {self.said}: {meaning}; "
                f"{ADVICE[self.kind].format(scope=scope_option)}")


def _page(content_type: str) -> str:
    if content_type == "text/html":
        return "an HTML page"
    return f"a body of type {content_type}" if content_type else \
        "a body without a content type"


def _clean(text: object, secrets: tuple[str, ...]) -> str | None:
    if not isinstance(text, str) or not text.strip():
        return None
    line = " ".join(text[:4000].split())
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    return line


def read_refusal(response: httpx.Response, secrets: tuple[str, ...] = ()) -> Refusal | None:
    """None when the answer is a token (200 with an ``access_token``), else what it means;
    ``secrets`` are masked wherever the provider echoes them."""
    status = response.status_code
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        body = json.loads(response.text)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if status in (404, 405) or content_type == "text/html":
            return Refusal(status, "url", content_type=content_type)
        return Refusal(status, "not-json", content_type=content_type)
    if status == 200 and issued_token(body) is not None:
        return None
    error = _clean(body.get("error"), secrets)
    description = _clean(body.get("error_description"), secrets)
    about = f"{error or ''} {description or ''}".lower()
    if error == "invalid_scope" or (error == "invalid_request" and "scope" in about):
        kind = "scope"
    elif error in ("unsupported_grant_type", "unauthorized_client") or (
            error == "invalid_request" and "grant" in about):
        kind = "grant"
    elif error == "invalid_client" or status == 401:
        kind = "client"
    elif status == 404:
        kind = "url"
    elif status == 200:
        kind = "no-token"
    else:
        kind = "other"
    return Refusal(status, kind, error, description, content_type,
                   tuple(str(k)[:40] for k in body))


__all__ = ["Refusal", "read_refusal"]
