"""Votes under real concurrency: simultaneous HTTP requests against a running uvicorn, on PostgreSQL.

SQLite serialises every write of the one process that may use it, so there is nothing to race
there; these tests skip on the sqlite run (and run on the postgres one).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx
import pytest

from ideas.models import Idea
from portal import accounts
from portal.models import User
from tests.factories import make_user
from tests.voting.helpers import make_admin, make_board, make_idea, vote_count, voter_ids
from voting import service
from voting.models import Vote
from voting.repair import repair_counters

pytestmark = pytest.mark.postgres_only

INTERLEAVE_SECONDS = 10.0


@pytest.fixture
def postgres_only(backend: str) -> None:
    """Listed first in a test's arguments, so that the sqlite run skips before a server starts."""
    if backend != "postgres":
        pytest.skip("concurrency is tested on PostgreSQL; SQLite serialises every write in one process")


def http_client(base: str) -> httpx.AsyncClient:
    # No connection limit: every request of a burst is on the wire at once.
    return httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=None), timeout=60)


async def tokens_for(users: list[User]) -> list[dict[str, str]]:
    return [
        {"Authorization": "Bearer " + await accounts.create_token(actor=None, owner=u, name="load")}
        for u in users
    ]


async def burst(
    http: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, str]]]
) -> list[httpx.Response]:
    """Sends all the requests at once (they wait on one event, then go together)."""
    go = asyncio.Event()

    async def one(method: str, url: str, headers: dict[str, str]) -> httpx.Response:
        await go.wait()
        return await http.request(method, url, headers=headers)

    tasks = [asyncio.create_task(one(*r)) for r in requests]
    await asyncio.sleep(0)
    go.set()
    return await asyncio.gather(*tasks)


async def assert_consistent(*idea_ids: int) -> None:
    drift = await repair_counters(dry_run=True)
    assert drift.total == 0, drift
    for idea_id in idea_ids:
        assert await vote_count(idea_id) == await Vote.filter(idea_id=idea_id).count()


async def test_50_simultaneous_votes_by_one_member_are_one_vote(
    postgres_only: None, app, live_server: str
) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    member = await make_user()
    [auth] = await tokens_for([member])
    url = f"/api/v1/ideas/{idea.id}/vote"
    async with http_client(live_server) as http:
        responses = await burst(http, [("PUT", url, auth)] * 50)
    assert Counter(r.status_code for r in responses) == {200: 50}, [
        r.text for r in responses if r.status_code != 200
    ]
    assert {(r.json()["voted"], r.json()["vote_count"]) for r in responses} == {(True, 1)}
    assert await Vote.filter(idea_id=idea.id).count() == 1
    assert await voter_ids(idea.id) == {member.id}
    assert await vote_count(idea.id) == 1
    await assert_consistent(idea.id)


async def test_200_members_voting_at_once_make_200_votes(postgres_only: None, app, live_server: str) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    members = [await make_user() for _ in range(200)]
    auths = await tokens_for(members)
    url = f"/api/v1/ideas/{idea.id}/vote"
    async with http_client(live_server) as http:
        started = time.perf_counter()
        responses = await burst(http, [("PUT", url, auth) for auth in auths])
        elapsed = time.perf_counter() - started
    print(f"\n200 simultaneous votes answered in {elapsed:.2f} s")
    assert Counter(r.status_code for r in responses) == {200: 200}, [
        r.text for r in responses if r.status_code != 200
    ]
    assert await Vote.filter(idea_id=idea.id).count() == 200
    assert await voter_ids(idea.id) == {m.id for m in members}
    assert await vote_count(idea.id) == 200
    # Each answer reports the count after its own vote: all different, 1 to 200.
    assert sorted(r.json()["vote_count"] for r in responses) == list(range(1, 201))
    await assert_consistent(idea.id)


async def test_votes_and_unvotes_interleaved_leave_no_drift(
    postgres_only: None, app, live_server: str
) -> None:  # type: ignore[no-untyped-def]
    ideas = [await make_idea() for _ in range(2)]
    members = [await make_user() for _ in range(30)]
    auths = await tokens_for(members)
    last: dict[tuple[int, int], str] = {}  # (member, idea) -> the last method that succeeded
    statuses: Counter[int] = Counter()
    requests = 0

    async def member_loop(index: int, deadline: float) -> None:
        nonlocal requests
        rng = random.Random(index)  # reproducible interleaving per member
        async with http_client(live_server) as http:
            for _ in range(2_000):  # bounded, whatever the clock says
                if time.monotonic() >= deadline:
                    return
                idea = rng.choice(ideas)
                method = rng.choice(("PUT", "DELETE"))
                response = await http.request(method, f"/api/v1/ideas/{idea.id}/vote", headers=auths[index])
                statuses[response.status_code] += 1
                requests += 1
                if response.status_code == 200:
                    last[(members[index].id, idea.id)] = method
                    assert response.json()["voted"] is (method == "PUT")

    deadline = time.monotonic() + INTERLEAVE_SECONDS
    await asyncio.gather(*(member_loop(i, deadline) for i in range(len(members))))
    print(f"\ninterleaved: {requests} requests in {INTERLEAVE_SECONDS:.0f} s by {len(members)} members")
    assert statuses == {200: requests}
    assert requests > 3 * len(members)  # it really ran concurrently for a while
    await assert_consistent(*(i.id for i in ideas))
    for idea in ideas:
        # Each member's requests were sequential: the last one decides whether their vote is there.
        expected = {m for (m, i), method in last.items() if i == idea.id and method == "PUT"}
        assert await voter_ids(idea.id) == expected
        row = await Idea.get(id=idea.id)
        assert row.vote_count == len(expected)


async def test_a_budget_holds_under_simultaneous_votes(postgres_only: None, app, live_server: str) -> None:  # type: ignore[no-untyped-def]
    admin = await make_admin()
    board = await make_board(admin)
    ideas = [await make_idea(board) for _ in range(10)]
    await service.set_budget(actor=admin, board_id=board.id, votes_per_member=2)
    member = await make_user()
    [auth] = await tokens_for([member])
    async with http_client(live_server) as http:
        responses = await burst(http, [("PUT", f"/api/v1/ideas/{i.id}/vote", auth) for i in ideas])
    assert Counter(r.status_code for r in responses) == {200: 2, 409: 8}
    assert await Vote.filter(user_id=member.id).count() == 2
    await assert_consistent(*(i.id for i in ideas))


async def test_repairing_during_traffic_does_not_corrupt_the_counters(
    postgres_only: None, app, live_server: str
) -> None:  # type: ignore[no-untyped-def]
    """`repair-counters` may run on a live site: what it writes must not lose a vote cast meanwhile."""
    idea = await make_idea()
    members = [await make_user() for _ in range(20)]
    auths = await tokens_for(members)
    deadline = time.monotonic() + 4.0
    repairs = 0

    async def member_loop(index: int) -> None:
        rng = random.Random(index)
        async with http_client(live_server) as http:
            for _ in range(2_000):
                if time.monotonic() >= deadline:
                    return
                method = rng.choice(("PUT", "DELETE"))
                response = await http.request(method, f"/api/v1/ideas/{idea.id}/vote", headers=auths[index])
                assert response.status_code == 200, response.text

    async def repair_loop() -> None:
        nonlocal repairs
        while time.monotonic() < deadline:
            await repair_counters()
            repairs += 1

    await asyncio.gather(repair_loop(), *(member_loop(i) for i in range(len(members))))
    assert repairs > 5
    await assert_consistent(idea.id)
