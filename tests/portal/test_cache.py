"""The in-process TTL cache: values expire, concurrent misses compute once, clear_all empties."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tortoise.transactions import in_transaction

from ideas import boards, catalog
from ideas.models import Board
from portal import cache
from tests.factories import make_board, make_user


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


async def test_a_value_computed_before_a_clear_is_not_kept_after_it() -> None:
    """A reader that loaded the old rows must not store them once a change cleared the cache."""
    box = cache.TTLCache(60)
    started = asyncio.Event()

    async def slow_old_value() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "old"

    reader = asyncio.create_task(box.get_or_compute("k", slow_old_value))
    await started.wait()
    box.clear()
    assert await reader == "old"  # the reader itself gets what it read...
    assert box.get("k") is None  # ...but nobody after it

    async def new_value() -> str:
        return "new"

    assert await box.get_or_compute("k", new_value) == "new"


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("NOTIFY exists on PostgreSQL only; a SQLite portal is one process")


async def test_a_board_change_reaches_another_server_process_at_commit(
    postgres_only: None, app, live_server: str
) -> None:  # type: ignore[no-untyped-def]
    """The served process caches boards; a change made by this process must clear its copy."""
    board = await make_board(slug="roadmap-ideas", name="Roadmap ideas")
    async with httpx.AsyncClient(base_url=live_server, timeout=30) as http:
        assert "Roadmap ideas" in (await http.get("/ideas")).text  # cached over there now
        board.visibility = "private"
        await board.save()
        for _ in range(50):  # delivery is asynchronous, if quick
            if "Roadmap ideas" not in (await http.get("/ideas")).text:
                break
            await asyncio.sleep(0.05)
        assert "Roadmap ideas" not in (await http.get("/ideas")).text
        # Bulk updates skip the models' signals: the service says so itself.
        await boards.update_board(
            actor=await make_user(role="admin"), board_id=board.id, slug="roadmap-ideas",
            name="Renamed board", visibility="public",
        )  # fmt: skip
        for _ in range(50):
            if "Renamed board" in (await http.get("/ideas")).text:
                break
            await asyncio.sleep(0.05)
        assert "Renamed board" in (await http.get("/ideas")).text


async def test_a_change_rolled_back_is_not_announced(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board(name="Before")
    assert [b.name for b in await catalog.boards()] == ["Before"]

    async def rename_then_fail() -> None:
        async with in_transaction():
            await Board.filter(id=board.id).update(name="Rolled back")
            await catalog.changed()
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await rename_then_fail()
    assert [b.name for b in await catalog.boards()] == ["Before"]
    await Board.filter(id=board.id).update(name="After")
    await catalog.changed()
    assert [b.name for b in await catalog.boards()] == ["After"]
