"""Rate limits (moving window): in memory for one process, Redis (through `limits`) when configured.

The in-memory windows are this module's own. `limits`' memory storage keeps each key's hits in a
list that every hit shifts (a limit of a million a minute makes that a long list), and after every
hit it sweeps every key, each through a thread; under a thousand votes a second from a thousand
members that sweep was a large part of a vote's cost. Here a key's window is a deque of hit times
(an O(1) hit), and idle keys are forgotten by a sweep at most once a minute. The answers are the
same: a hit is refused, and not counted, when `amount` hits already lie within the last `seconds`.
"""

from __future__ import annotations

import math
import time
from collections import deque
from functools import lru_cache

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter

from portal.errors import RateLimited

SWEEP_SECONDS = 60.0
_clock = time.monotonic  # tests replace it


@lru_cache(maxsize=64)
def _item(limit: str) -> RateLimitItem:
    return parse(limit)


class MemoryWindows:
    """Moving windows in this process's memory: per (limit, key), the times of recent hits."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._spans: dict[tuple[str, str], float] = {}
        self._next_sweep = _clock() + SWEEP_SECONDS

    def hit(self, amount: int, seconds: float, limit: str, key: str) -> float | None:
        """Counts a hit; None when allowed, else the seconds until the window has room again."""
        now = _clock()
        if now >= self._next_sweep:
            self._sweep(now)
        name = (limit, key)
        window = self._hits.get(name)
        if window is None:
            window = self._hits[name] = deque()
            self._spans[name] = seconds
        cutoff = now - seconds
        while window and window[0] <= cutoff:
            window.popleft()
        if len(window) >= amount:
            return window[-amount] + seconds - now
        window.append(now)
        return None

    def clear(self, limit: str, key: str) -> None:
        self._hits.pop((limit, key), None)
        self._spans.pop((limit, key), None)

    def reset(self) -> None:
        self._hits.clear()
        self._spans.clear()

    def _sweep(self, now: float) -> None:
        """Forgets keys whose every hit has left its window."""
        self._next_sweep = now + SWEEP_SECONDS
        hits, spans = self._hits, self._spans
        idle = [name for name, window in hits.items() if not window or window[-1] <= now - spans[name]]
        for name in idle:
            del hits[name]
            del spans[name]


class RateLimits:
    def __init__(self, redis_url: str | None = None) -> None:
        self._memory: MemoryWindows | None = None
        self._storage: RedisStorage | None = None
        if redis_url:
            self._storage = RedisStorage(redis_url)
            self._limiter = MovingWindowRateLimiter(self._storage)
        else:
            self._memory = MemoryWindows()

    async def hit(self, limit: str, *keys: str) -> None:
        """Counts one action under each key; raises `RateLimited` when any key is over `limit`."""
        item = _item(limit)
        if self._memory is not None:
            for key in keys:
                wait = self._memory.hit(item.amount, item.get_expiry(), limit, key)
                if wait is not None:
                    raise RateLimited(retry_after=max(1, math.ceil(wait)))
            return
        for key in keys:
            if not await self._limiter.hit(item, "hearken", key):
                stats = await self._limiter.get_window_stats(item, "hearken", key)
                raise RateLimited(retry_after=max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, limit: str, *keys: str) -> None:
        item = _item(limit)
        for key in keys:
            if self._memory is not None:
                self._memory.clear(limit, key)
            else:
                await self._limiter.clear(item, "hearken", key)

    async def reset(self) -> None:
        if self._memory is not None:
            self._memory.reset()
        elif self._storage is not None:
            await self._storage.reset()
