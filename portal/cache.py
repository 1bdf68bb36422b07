"""Small in-process caches: costly figures fine to show a minute late, and rarely changed catalogues.

Every cache registers here, and the application clears them all when it starts: a new app over a
new database (tests, a restart) never sees values computed over another.

A cache with a `name` is *shared*: its contents must not outlive a change in any server process
(boards decide who sees what, so a stale copy could show a board just made private). Changing
code calls `invalidate()`, which clears this process's copy at once and, on PostgreSQL, sends
`NOTIFY hearken_cache` in the caller's transaction, so every process (this one included) clears
its copy when the change commits — not before, when a reader could still load the old rows. While
a process has no listening connection (PostgreSQL restarted, say), shared caches are bypassed
rather than trusted. SQLite serves one process, where the local clear is the whole story.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from typing import Any

CHANNEL = "hearken_cache"
RECONNECT_SECONDS = 2.0
log = logging.getLogger("hearken.cache")

_caches: list[TTLCache] = []
_shared: dict[str, TTLCache] = {}


class _Sync:
    """Whether shared caches may be trusted in this process (see the module's docstring)."""

    postgres = False
    listening = False

    @classmethod
    def trusted(cls) -> bool:
        return cls.listening or not cls.postgres


class TTLCache:
    def __init__(self, seconds: float, max_entries: int = 1024, *, name: str | None = None) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self.name = name
        self._data: dict[Hashable, tuple[float, Any]] = {}
        self._pending: dict[Hashable, asyncio.Future[Any]] = {}
        # Bumped by every clear, so a value computed before a change is not stored after it.
        self._generation = 0
        _caches.append(self)
        if name is not None:
            _shared[name] = self

    def get(self, key: Hashable) -> Any | None:
        if self.name is not None and not _Sync.trusted():
            return None
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
        generation = self._generation
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # marks it retrieved when nobody else was waiting
            raise
        else:
            if generation == self._generation:
                self.put(key, value)
            future.set_result(value)
            return value
        finally:
            if self._pending.get(key) is future:
                del self._pending[key]

    def put(self, key: Hashable, value: Any) -> None:
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[key] = (time.monotonic(), value)

    def clear(self) -> None:
        self._generation += 1
        self._data.clear()
        self._pending.clear()

    async def invalidate(self) -> None:
        """Forgets every entry here now, and in every process once the caller's transaction commits."""
        self.clear()
        if self.name is not None and _Sync.postgres:
            from tortoise import connections

            await connections.get("default").execute_query("SELECT pg_notify($1, $2)", [CHANNEL, self.name])


def clear_all() -> None:
    for cache in _caches:
        cache.clear()


def _on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
    cache = _shared.get(payload)
    if cache is not None:
        cache.clear()


def _postgres_dsn(database_url: str) -> str:
    return "postgresql://" + database_url.split("://", 1)[1].split("?", 1)[0]


@contextlib.asynccontextmanager
async def synchronised(database_url: str, *, postgres: bool) -> AsyncIterator[None]:
    """Keeps this process's shared caches in step with the others while the app runs."""
    _Sync.postgres = postgres
    if not postgres:
        yield
        return
    import asyncpg

    stop = asyncio.Event()

    async def connect() -> tuple[Any, asyncio.Event] | None:
        try:
            conn = await asyncpg.connect(_postgres_dsn(database_url))
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, _on_notify)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("cache sync: cannot listen (%s); shared caches bypassed", exc)
            return None
        # Changes made while nobody listened are unknown: start from empty caches.
        for cache in _shared.values():
            cache.clear()
        _Sync.listening = True
        return conn, lost

    async def hold(first: tuple[Any, asyncio.Event] | None) -> None:
        listener = first
        while not stop.is_set():
            if listener is not None:
                conn, lost = listener
                try:
                    await _first(stop.wait(), lost.wait())
                finally:
                    _Sync.listening = False
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            if stop.is_set():
                break
            await _first(stop.wait(), asyncio.sleep(RECONNECT_SECONDS))
            listener = None if stop.is_set() else await connect()

    task = asyncio.create_task(hold(await connect()), name="hearken-cache-sync")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        _Sync.listening = False


async def _first(*waits: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()
