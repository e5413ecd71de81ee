"""Reading a recording of a consumer's traffic (the format is described in
``mock_provider.middleware.recorder``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from mock_provider.middleware.recorder import FORMAT, FORMAT_VERSION

from ..model import Evidence

GRADEBOOK_PARTS = ("/gradebook/", "/lineItems", "/results", "/categories", "/scoreScales")
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})


class RecordingError(Exception):
    """A file that is not a readable recording: one line naming the file and the problem."""


@dataclass(frozen=True)
class Recorded:
    """One exchange as the recorder wrote it."""

    seq: int
    start: float
    end: float
    method: str
    path: str
    phase: str = "full"
    query: str = ""
    auth: str = "none"
    token: str | None = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    vendor_header: bool = False
    body: Any = None
    envelope: str | None = None
    ids: tuple[str, ...] = ()
    count: int | None = None
    code_minor: str | None = None
    description: str | None = None
    issued: str | None = None
    expires_in: Any = None
    fault: str | None = None

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    @property
    def is_token_request(self) -> bool:
        return self.method == "POST" and "/ims/oneroster" not in self.path and (
            "token" in self.path)

    @property
    def is_oneroster(self) -> bool:
        return "/ims/oneroster" in self.path and "/discovery/" not in self.path

    @property
    def is_write(self) -> bool:
        return self.is_oneroster and self.method in WRITE_METHODS

    @property
    def is_gradebook(self) -> bool:
        return self.is_oneroster and any(part in self.path for part in GRADEBOOK_PARTS)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def header(self, name: str) -> str | None:
        return self.response_headers.get(name)

    def evidence(self, base_url: str) -> Evidence:
        url = base_url + self.path + (f"?{self.query}" if self.query else "")
        facts = {k: v for k, v in (("fault", self.fault), ("token", self.token),
                                   ("count", self.count), ("code_minor", self.code_minor),
                                   ("description", self.description),
                                   ("at", f"{self.start:.3f}s"))
                 if v is not None}
        facts.update({k: v for k, v in self.response_headers.items() if k != "content-type"})
        header = " -H 'Authorization: Bearer ***'" if self.auth == "bearer" else ""
        method = "" if self.method == "GET" else f" -X {self.method}"
        return Evidence(self.method, url, self.status, json.dumps(facts)[:600],
                        f"curl -s{method}{header} '{url}'")


@dataclass(frozen=True)
class Recording:
    header: dict[str, Any]
    exchanges: tuple[Recorded, ...]
    events: tuple[dict[str, Any], ...]

    @property
    def base_url(self) -> str:
        return str(self.header.get("origin", ""))

    def events_named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]

    def evidence(self, *exchanges: Recorded) -> list[Evidence]:
        return [e.evidence(self.base_url) for e in exchanges[:5]]


_FIELDS = frozenset(Recorded.__dataclass_fields__)


def _recorded(line: dict[str, Any]) -> Recorded:
    values = {k: v for k, v in line.items() if k in _FIELDS}
    values["ids"] = tuple(i for i in values.get("ids") or () if isinstance(i, str))
    values["response_headers"] = dict(values.get("response_headers") or {})
    return Recorded(**values)


def load(path: str | Path) -> Recording:
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RecordingError(f"cannot read the recording {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RecordingError(f"{path} is not a recording (not UTF-8 text)") from None
    header: dict[str, Any] | None = None
    exchanges: list[Recorded] = []
    events: list[dict[str, Any]] = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
            kind = line["type"]
            if kind == "header":
                header = line
            elif kind == "exchange":
                exchanges.append(_recorded(line))
            elif kind == "event":
                events.append(line)
        except (ValueError, KeyError, TypeError) as exc:
            raise RecordingError(f"{path}:{number}: not a recording line "
                                 f"({type(exc).__name__}: {exc})") from None
    if header is None or header.get("format") != FORMAT:
        raise RecordingError(f"{path} is not a oneroster-harness recording (no header line)")
    if header.get("format_version") != FORMAT_VERSION:
        raise RecordingError(f"{path} has recording format version "
                             f"{header.get('format_version')!r}; this harness reads "
                             f"{FORMAT_VERSION}")
    return Recording(header, tuple(exchanges), tuple(events))
