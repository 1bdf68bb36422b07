"""Points under real concurrency (PostgreSQL, a running uvicorn): many votes at once for one author
still pay exactly up to the daily cap, the author's first totals are made once, and reversals
taken at once leave the totals equal to the ledger."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from portal import accounts
from rewards import rules
from rewards.models import PointEntry
from tests.factories import make_user
from tests.rewards.helpers import ledger_sum, make_board, make_cm, make_idea, points

CAP = 7


@pytest.fixture
def postgres_only(backend: str) -> None:
    """Listed first in a test's arguments, so that the sqlite run skips before a server starts."""
    if backend != "postgres":
        pytest.skip("concurrency is tested on PostgreSQL; SQLite serialises every write in one process")


async def burst(base: str, requests: list[tuple[str, str, dict[str, str]]]) -> list[httpx.Response]:
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=None)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:

        async def one(method: str, url: str, headers: dict[str, str]) -> httpx.Response:
            await go.wait()
            return await http.request(method, url, headers=headers)

        tasks = [asyncio.create_task(one(*r)) for r in requests]
        await asyncio.sleep(0)
        go.set()
        return await asyncio.gather(*tasks)


async def test_votes_at_once_pay_exactly_the_daily_cap_and_reverse_to_the_ledger(
    postgres_only: None, app, live_server: str
) -> None:  # type: ignore[no-untyped-def]
    await rules.update_rule(actor=await make_cm(), key="vote_received", points=1, daily_cap=CAP, enabled=True)
    board = await make_board()
    author = await make_user()  # no totals yet: the first awards race to make them
    ideas = [await make_idea(board, author=author) for _ in range(3)]
    voters = [await make_user() for _ in range(20)]
    auths = [
        {"Authorization": "Bearer " + await accounts.create_token(actor=None, owner=v, name="load")}
        for v in voters
    ]
    votes = [(f"/api/v1/ideas/{i.id}/vote", auth) for i in ideas for auth in auths]

    cast = await burst(live_server, [("PUT", url, auth) for url, auth in votes])
    refused = [r.text for r in cast if r.status_code != 200]
    assert Counter(r.status_code for r in cast) == {200: len(votes)}, refused
    paid = await PointEntry.filter(user_id=author.id, rule="vote_received", kind="earn").values_list(
        "delta", flat=True
    )
    assert sum(paid) == CAP
    assert await points(author) == (CAP, CAP) == (await ledger_sum(author), CAP)

    removed = await burst(live_server, [("DELETE", url, auth) for url, auth in votes])
    assert Counter(r.status_code for r in removed) == {200: len(votes)}
    assert await points(author) == (0, 0)
    assert await ledger_sum(author) == 0
    assert await PointEntry.filter(user_id=author.id, kind="reversal").count() == len(paid)
