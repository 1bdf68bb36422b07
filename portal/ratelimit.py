"""Rate limits with `limits` (moving window): in memory for one process, Redis when configured."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from portal.errors import RateLimited


class RateLimits:
    def __init__(self, redis_url: str | None = None) -> None:
        storage: Storage = RedisStorage(redis_url) if redis_url else MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    async def hit(self, limit: str, *keys: str) -> None:
        """Counts one action under each key; raises `RateLimited` when any key is over `limit`."""
        item = parse(limit)
        for key in keys:
            if not await self._limiter.hit(item, "hearken", key):
                stats = await self._limiter.get_window_stats(item, "hearken", key)
                raise RateLimited(retry_after=max(1, math.ceil(stats.reset_time - time.time())))

    async def clear(self, limit: str, *keys: str) -> None:
        item = parse(limit)
        for key in keys:
            await self._limiter.clear(item, "hearken", key)

    async def reset(self) -> None:
        await self._storage.reset()
