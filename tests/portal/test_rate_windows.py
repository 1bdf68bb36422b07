"""The in-memory moving windows behind rate limits: exact counts, retry times, idle keys forgotten."""

from __future__ import annotations

import pytest

from portal import ratelimit
from portal.errors import RateLimited
from portal.ratelimit import MemoryWindows, RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "_clock", clock)
    return clock


def test_a_window_holds_amount_hits_and_frees_a_place_as_each_leaves(clock: Clock) -> None:
    windows = MemoryWindows()
    for _ in range(3):
        assert windows.hit(3, 60, "3/minute", "k") is None
        clock.now += 10
    # Hits at 1000, 1010, 1020; now 1030: full until the first leaves at 1060.
    assert windows.hit(3, 60, "3/minute", "k") == pytest.approx(30)
    clock.now = 1059.9
    assert windows.hit(3, 60, "3/minute", "k") == pytest.approx(0.1)  # refused hits are not counted
    clock.now = 1060.0
    assert windows.hit(3, 60, "3/minute", "k") is None
    assert windows.hit(3, 60, "3/minute", "k") == pytest.approx(10)  # now the hit at 1010 is oldest
    # Other keys and other limits have windows of their own.
    assert windows.hit(3, 60, "3/minute", "other") is None
    assert windows.hit(5, 60, "5/minute", "k") is None


def test_idle_keys_are_swept(clock: Clock) -> None:
    windows = MemoryWindows()
    windows.hit(3, 60, "3/minute", "old")
    clock.now += 30
    windows.hit(3, 3600, "3/hour", "long")
    clock.now += ratelimit.SWEEP_SECONDS + 1
    windows.hit(3, 60, "3/minute", "new")  # triggers the sweep
    assert set(windows._hits) == {("3/hour", "long"), ("3/minute", "new")}


async def test_rate_limits_answer_with_retry_after_and_clear(clock: Clock) -> None:
    limits = RateLimits()
    await limits.hit("2/minute", "a", "b")
    await limits.hit("2/minute", "a", "b")
    clock.now += 15
    with pytest.raises(RateLimited) as refused:
        await limits.hit("2/minute", "a", "b")
    assert refused.value.retry_after == 45
    await limits.clear("2/minute", "a")
    with pytest.raises(RateLimited):  # "a" passes now, "b" is still full
        await limits.hit("2/minute", "a", "b")
    await limits.reset()
    await limits.hit("2/minute", "a", "b")
