"""The in-process TTL cache: values expire, concurrent misses compute once, clear_all empties."""

from __future__ import annotations

import asyncio

import pytest

from portal import cache


async def test_concurrent_misses_compute_once() -> None:
    box = cache.TTLCache(60)
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*[box.get_or_compute("k", compute) for _ in range(50)])
    assert results == [42] * 50
    assert calls == 1
    assert await box.get_or_compute("k", compute) == 42
    assert calls == 1


async def test_a_failure_reaches_every_waiter_and_is_not_cached() -> None:
    box = cache.TTLCache(60)
    attempts = 0

    async def fail() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        raise RuntimeError("database down")

    outcomes = await asyncio.gather(
        *[box.get_or_compute("k", fail) for _ in range(5)], return_exceptions=True
    )
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    assert attempts == 1
    with pytest.raises(RuntimeError):
        await box.get_or_compute("k", fail)
    assert attempts == 2


def test_entries_expire_and_clear_all_empties_every_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    box = cache.TTLCache(10)
    box.put("a", 1)
    assert box.get("a") == 1
    now = cache.time.monotonic()
    monkeypatch.setattr(cache.time, "monotonic", lambda: now + 11)
    assert box.get("a") is None
    monkeypatch.undo()
    box.put("b", 2)
    cache.clear_all()
    assert box.get("b") is None
