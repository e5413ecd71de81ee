"""A router that finds the route of a fixed path without trying every route before it."""

from __future__ import annotations

from collections.abc import Sequence

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send


def _first_routes(routes: Sequence[BaseRoute]) -> dict[str, Route]:
    """Path -> route, for each route of a fixed path (no parameters) that a GET of that path
    reaches first: no route before it matches that GET in full."""
    found: dict[str, Route] = {}
    for route in routes:
        if not isinstance(route, Route) or route.param_convertors:
            continue
        probe = {"type": "http", "method": "GET", "path": route.path, "root_path": ""}
        first = next((r for r in routes if r.matches(probe)[0] is Match.FULL), None)
        if first is route:
            found[route.path] = route
    return found


class DirectRouter(Router):
    """A ``Router`` whose GETs of a fixed path go straight to the route the in-order search
    would pick; everything else searches in order as usual. A service mounts some forty
    routes, and trying each in turn cost about a twentieth of a page of 100 records."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        super().__init__(routes=list(routes))
        self._fixed = _first_routes(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            route = self._fixed.get(get_route_path(scope))
            if route is not None:
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)
