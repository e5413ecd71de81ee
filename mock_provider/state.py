"""What the routes of one mock share, as one typed object on ``app.state.mock``.

Only what routes truly share lives here; the auth middleware and the token endpoint get their
connections and token issuer through their constructors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request

from .gradebook.writes import GradebookWriter
from .query.readable_cache import ReadableIds

if TYPE_CHECKING:  # the profiles, which read the store through here, are imported by settings
    from .query.page_cache import PageCache
    from .settings import Settings
    from .store import Store


@dataclass
class MockState:
    store: Store
    settings: Settings
    pages: PageCache  # rendered collection pages, until the district file changes
    admin_token: str | None = None  # None: the /admin routes answer 404
    # (client id, school names) -> the school sourcedIds a school-scoped connection sees
    school_cache: dict[tuple[str, frozenset[str]], tuple[str, ...]] = field(default_factory=dict)
    # which referenced ids a school-scoped connection may follow (routes.school_scope.scoped_texts)
    readable: ReadableIds = field(default_factory=ReadableIds)
    _writer: GradebookWriter | None = field(default=None, init=False, repr=False)

    def writer(self) -> GradebookWriter:
        """The grade-book writer, made on first use. Call it from the event loop thread, which
        makes the first-use check race-free."""
        if self._writer is None:
            self._writer = GradebookWriter(self.store.path)
        return self._writer

    def close(self) -> None:
        """Close the grade-book writer's connection, if one was opened (the store is the
        caller's to close)."""
        if self._writer is not None:
            self._writer.close()


def mock_state(app: Starlette) -> MockState:
    state: MockState = app.state.mock
    return state


def shared(request: Request) -> MockState:
    """The state of the mock serving ``request``."""
    return mock_state(request.app)


__all__ = ["MockState", "mock_state", "shared"]
