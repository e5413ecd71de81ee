"""Small, named changes we make to 1EdTech's OneRoster 1.2 OpenAPI documents.

Each overlay is one function with a one-line reason. ``specs.derive`` applies them in order
and records ``name`` and ``reason`` in every derived document under ``x-harness-overlays``.
Keep each one narrow: schemas keep their strictness, only transport details change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
TOKEN_PATH = "/oauth2/token"

Document = dict
Apply = Callable[[Document], None]


@dataclass(frozen=True)
class Overlay:
    name: str
    reason: str
    apply: Apply


OVERLAYS: list[Overlay] = []


def overlay(reason: str) -> Callable[[Apply], Apply]:
    def register(fn: Apply) -> Apply:
        OVERLAYS.append(Overlay(fn.__name__, reason, fn))
        return fn

    return register


def _operations(doc: Document) -> Iterator[dict]:
    for item in doc["paths"].values():
        yield from item.values()


@overlay("OneRoster clients send fields=a,b; the upstream array parameter would explode it")
def fields_comma_separated(doc: Document) -> None:
    for op in _operations(doc):
        for param in op.get("parameters", []):
            if param["name"] == "fields" and param["in"] == "query":
                param["style"] = "form"
                param["explode"] = False


@overlay("the upstream server is a 1EdTech placeholder; tools override baseUrl (scheme, host, "
         "optional prefix)")
def templated_server(doc: Document) -> None:
    (upstream,) = doc["servers"]
    base_path = upstream["variables"]["basePath"]
    doc["servers"] = [{
        "url": "{baseUrl}{basePath}",
        "variables": {
            "baseUrl": {"default": DEFAULT_BASE_URL},
            "basePath": {"enum": base_path["enum"], "default": base_path["default"]},
        },
    }]


@overlay("the upstream tokenUrl is a placeholder; the mock serves its real URL in discovery")
def relative_token_url(doc: Document) -> None:
    for scheme in doc["components"]["securitySchemes"].values():
        for flow in scheme.get("flows", {}).values():
            if "tokenUrl" in flow:
                flow["tokenUrl"] = TOKEN_PATH


@overlay("paging links map query params as $request.path.* and need offset arithmetic; "
         "the Link header is checked instead")
def drop_paging_links(doc: Document) -> None:
    for op in _operations(doc):
        for response in op["responses"].values():
            response.pop("links", None)


__all__ = ["DEFAULT_BASE_URL", "OVERLAYS", "TOKEN_PATH", "Overlay"]
