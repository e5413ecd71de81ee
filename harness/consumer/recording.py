"""Reading a recording of a consumer's traffic (the format is described in
``mock_provider.middleware.recorder``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

from mock_provider.middleware.recorder import FORMAT, FORMAT_VERSION

from ..exchange import VENDOR_HEADER, Exchange, encode_body
from ..model import Evidence

GRADEBOOK_PARTS = ("/gradebook/", "/lineItems", "/results", "/categories", "/scoreScales")
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE", "PATCH"})
MAX_EVIDENCE = 5  # exchanges a consumer finding shows


class RecordingError(Exception):
    """A file that is not a readable recording: one line naming the file and the problem."""


@dataclass(frozen=True, kw_only=True)
class Recorded(Exchange):
    """One exchange as the recorder wrote it: an ``Exchange`` (so its evidence is built like a
    live one's) plus what only a recording knows (order, timing, the token's label, the ids
    served). The recorder keeps no answer bodies: ``text`` is the summary it kept (status
    details, token label, counted headers, when), which is what the evidence excerpt shows."""

    seq: int
    start: float
    end: float
    path: str
    phase: str = "full"
    query: str = ""
    token: str | None = None  # a label such as "token-2", never the token itself
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
    oauth1: dict[str, str] | None = None  # nonce, timestamp, signature_method, version
    withheld: dict[str, str] | None = None  # paging headers the provider did not send

    def truth(self, name: str) -> str | None:
        """A header as sent, else as the provider knew it but withheld it."""
        return self.header(name) or (self.withheld or {}).get(name)

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

    @property
    def seconds(self) -> float:
        """How long the recorded session lasted: to its last event or answer, whichever came
        later (times are seconds since the recording began)."""
        moments = [e.end for e in self.exchanges] + [
            at for e in self.events if isinstance(at := e.get("at"), (int, float))]
        return max(moments, default=0.0)

    def evidence(self, *exchanges: Recorded) -> list[Evidence]:
        return [e.evidence() for e in exchanges[:MAX_EVIDENCE]]


# The recording's own fields of an exchange line; the Exchange fields are derived from it.
_OWN_FIELDS = frozenset(Recorded.__dataclass_fields__) - frozenset(Exchange.__dataclass_fields__)
_FACTS = ("fault", "token", "count", "code_minor", "description")


def _recorded(line: dict[str, Any], origin: str) -> Recorded:
    values = {k: v for k, v in line.items() if k in _OWN_FIELDS}
    values["ids"] = tuple(i for i in values.get("ids") or () if isinstance(i, str))
    headers = {str(k): str(v) for k, v in dict(line.get("response_headers") or {}).items()}
    facts = {k: line[k] for k in _FACTS if line.get(k) is not None}
    facts["at"] = f"{float(line['start']):.3f}s"
    facts.update({k: v for k, v in headers.items() if k != "content-type"})
    method, path, query = str(line["method"]), str(line["path"]), str(line.get("query") or "")
    body = line.get("body")
    is_write = "/ims/oneroster" in path and method in WRITE_METHODS
    return Recorded(
        method=method, url=origin + path + (f"?{query}" if query else ""),
        status=line.get("status"), headers=httpx.Headers(headers), text=json.dumps(facts),
        auth=str(line.get("auth") or "none"),
        sent=encode_body(body) if is_write and isinstance(body, (dict, list)) else None,
        extra_headers=((VENDOR_HEADER, "***"),) if line.get("vendor_header") else (),
        **values)


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
                exchanges.append(_recorded(line, str((header or {}).get("origin", ""))))
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
