"""Rendered collection pages, kept until the district file changes.

Consumers and checkers ask for the same pages again and again (every sync of every vendor
starts at offset 0), and a page's answer depends only on the request and the file's content.
A page is kept under its full URL, the connection that asked (scoping and flavor rules differ
per connection) and the SQL scope it was read with; the whole cache is dropped as soon as
``PRAGMA data_version`` shows another connection committed (a tick, a rollover, a grade-book
write), so an answer is never staler than the file.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Hashable

Page = tuple[bytes, dict[str, str]]  # body, headers


class PageCache:
    def __init__(self, max_pages: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_pages = max_pages
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._bytes = 0
        self._version: int | None = None

    @property
    def enabled(self) -> bool:
        return self.max_pages > 0

    def get(self, conn: sqlite3.Connection, key: Hashable) -> Page | None:
        if self.max_pages <= 0:
            return None
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:
            self._pages.clear()
            self._bytes = 0
            self._version = version
            return None
        page = self._pages.get(key)
        if page is not None:
            self._pages.move_to_end(key)
        return page

    def put(self, key: Hashable, page: Page) -> None:
        size = len(page[0])
        if self.max_pages <= 0 or size > self.max_bytes // 4:
            return
        self._pages[key] = page
        self._bytes += size
        while len(self._pages) > self.max_pages or self._bytes > self.max_bytes:
            _, dropped = self._pages.popitem(last=False)
            self._bytes -= len(dropped[0])

    def __len__(self) -> int:
        return len(self._pages)
