"""The mock's routers go straight to a fixed path's route, and pick the one Starlette's
in-order search picks: for every fixed path of every flavor's services."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from mock_provider.app import build_routes
from mock_provider.flavors import FLAVORS, profile_for
from mock_provider.routes.dispatch import DirectRouter
from mock_provider.settings import Settings


async def _token(request: Request) -> Response:  # pragma: no cover - never called
    raise AssertionError


def _routers(routes: list[BaseRoute]) -> list[DirectRouter]:
    found = []
    for route in routes:
        if isinstance(route, Mount):
            if isinstance(route.app, DirectRouter):
                found.append(route.app)
            found += _routers(route.routes)
    return found


@pytest.mark.parametrize("flavor", FLAVORS)
def test_every_fixed_path_reaches_the_route_the_in_order_search_picks(flavor: str) -> None:
    routers = _routers(build_routes(Settings(profile=profile_for(flavor)), _token))
    assert len(routers) == 4  # 1.2 rostering, grade book, resources; 1.1
    direct = 0
    for router in routers:
        for route in router.routes:
            if not isinstance(route, Route) or route.param_convertors:
                continue
            scope = {"type": "http", "method": "GET", "path": route.path, "root_path": ""}
            first = next(r for r in router.routes if r.matches(scope)[0] is Match.FULL)
            picked = router._fixed.get(route.path)
            assert picked is None or picked is first
            direct += picked is not None
    assert direct > 40  # the collections of both versions at least
