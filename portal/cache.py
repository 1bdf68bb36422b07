"""Small in-process caches for figures that are costly to compute and fine to show a minute late.

Every cache registers here, and the application clears them all when it starts: a new app over a
new database (tests, a restart) never sees figures computed over another.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

_caches: list[TTLCache] = []


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = 1024) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        _caches.append(self)

    def get(self, key: Hashable) -> Any | None:
        entry = self._data.get(key)
        if entry is None or time.monotonic() - entry[0] > self.seconds:
            return None
        return entry[1]

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        """The cached value, or computed once however many requests ask at the same moment.

        Without this, a burst of requests arriving when the entry expires would all run the costly
        computation at once (a stampede), which is exactly when the server can least afford it.
        """
        value = self.get(key)
        if value is not None:
            return value
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marks it retrieved when nobody else was waiting
            raise
        else:
            self.put(key, value)
            future.set_result(value)
            return value
        finally:
            self._pending.pop(key, None)

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._data.clear()
        self._pending.clear()


def clear_all() -> None:
    for cache in _caches:
        cache.clear()
