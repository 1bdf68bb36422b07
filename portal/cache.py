"""Small in-process caches for figures that are costly to compute and fine to show a minute late.

Every cache registers here, and the application clears them all when it starts: a new app over a
new database (tests, a restart) never sees figures computed over another.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any

_caches: list[TTLCache] = []


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        _caches.append(self)

    def get(self, key: Hashable) -> Any | None:
        entry = self._data.get(key)
        if entry is None or time.monotonic() - entry[0] > self.seconds:
            return None
        return entry[1]

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._data.clear()


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
