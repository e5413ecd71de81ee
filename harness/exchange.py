"""One request and its answer, whichever way the checker met it: sent live by a ``Target`` or
read back from a consumer recording. Checks read the same fields either way, and the evidence
a finding shows (a curl line with every secret masked) is built here and nowhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .model import Evidence

EXCERPT = 600  # characters of the answer a piece of evidence shows
VENDOR_HEADER = "x-vendor-authorization"  # Infinite Campus's extra grade-book credential
SECRET_HEADERS = frozenset({"authorization", "cookie", VENDOR_HEADER})
# How a request was authorised -> the masked header its curl line shows (None: no header).
# "form" sent the client credentials as form fields, masked in the body the recorder kept.
SHOWN_AUTHORIZATION: dict[str, str | None] = {
    "none": None, "form": None,
    "bearer": "Authorization: Bearer ***",
    "oauth1": "Authorization: OAuth ***",
    "basic": "Authorization: Basic ***",
}
UNKNOWN_AUTHORIZATION = "Authorization: ***"  # "custom", "other": whatever it was, masked


@dataclass(frozen=True)
class Exchange:
    """A request and its answer, without the credentials: ``auth`` says how the request was
    authorised ("bearer", "oauth1", "basic", "form", "custom", "other" or "none"), never with
    what. ``status`` is None when no answer came (the reason is then in ``text``)."""

    method: str
    url: str
    status: int | None
    headers: httpx.Headers
    text: str
    auth: str = "none"
    sent: str | None = None  # the JSON body of a write, as sent
    extra_headers: tuple[tuple[str, str], ...] = ()  # further headers sent (name, value)
    cut: bool = False  # the answer was longer than the checker reads: ``text`` is its start

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        """An answer header (any case), None when absent."""
        return self.headers.get(name)

    def json(self) -> Any:
        """The parsed body, or None when it is not JSON (a finding for the caller). A cut
        answer is not parsed: its start may be JSON that never ends."""
        if self.cut:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def trimmed(self, limit: int) -> Exchange:
        """This exchange keeping at most ``limit`` characters of its answer (marked cut when
        that drops some)."""
        if len(self.text) <= limit:
            return self
        return replace(self, text=self.text[:limit], cut=True)

    def evidence(self) -> Evidence:
        """The exchange as a finding shows it: an excerpt of the answer and a curl line that
        replays the request, with the credentials and every secret header masked."""
        shown = SHOWN_AUTHORIZATION.get(self.auth, UNKNOWN_AUTHORIZATION)
        options = [f"-X {self.method}"] if self.method != "GET" else []
        options += [f"-H {shell_quote(shown)}"] if shown else []
        for name, value in self.extra_headers:
            masked = "***" if name.lower() in SECRET_HEADERS else value
            options.append(f"-H {shell_quote(f'{name}: {masked}')}")
        if self.sent is not None:
            options += ["-H 'Content-Type: application/json'", f"--data {shell_quote(self.sent)}"]
        curl = " ".join(["curl -s", *options, shell_quote(self.url)])
        return Evidence(self.method, self.url, self.status, self.text[:EXCERPT], curl)


def encode_body(body: Any) -> str:
    """A JSON body as it goes on the wire (compact)."""
    return json.dumps(body, separators=(",", ":"))


def shell_quote(text: str) -> str:
    """``text`` single-quoted for a POSIX shell."""
    return "'" + text.replace("'", "'\\''") + "'"
