"""A small in-process cache of rendered pages, for visitors with nothing stored.

A page depends on its URL, on the store (which changes only when an import or sync bumps
the search generation) and on the visitor's own answers and profile. Visitors without a
stored session see exactly the same page for the same URL at the same generation, so that
page is rendered once; their CSRF token is put in on the way out, in place of a per-process
random placeholder that registry text cannot contain.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict

from sqlalchemy import Engine

from trialscout.search.store import read_state

PageKey = tuple[int, str, str, str]


class PageCache:
    def __init__(self, size: int) -> None:
        self.size = size
        self.placeholder = "csrf-" + secrets.token_hex(16)
        self._pages: OrderedDict[PageKey, str] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.size > 0

    def key(self, engine: Engine, path: str, query: str) -> PageKey:
        with engine.connect() as conn:
            generation, index_id = read_state(conn)
        return generation, index_id, path, query

    def get(self, key: PageKey) -> str | None:
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
            return html

    def put(self, key: PageKey, html: str) -> None:
        with self._lock:
            self._pages[key] = html
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)
