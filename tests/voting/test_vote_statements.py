"""What a vote costs the database, pinned: the statements of each step, on both backends.

A vote runs a thousand times a second in the benchmark (issue #9), and every statement it sends is a
round trip and a few hundred microseconds of Python. The lists below are the whole cost once the
rarely changed things are in memory (boards, statuses, budgets, rules, webhooks): a change that
adds a statement to a vote must change this file and say why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from rewards.models import MemberPoints, PointEntry
from tests.conftest import QueryCounter
from tests.factories import make_user
from tests.voting.helpers import api_client, make_board, make_idea, token_for

CAST = [
    "SELECT u.* FROM api_tokens",  # who is asking (token and owner in one join)
    "SELECT id, board_id, status_id",  # the idea, narrow (board and status from the catalogue)
    "INSERT INTO votes",  # ... ON CONFLICT DO NOTHING RETURNING id
    "UPDATE ideas SET vote_count = vote_count + 1",  # ... RETURNING vote_count
    "SELECT user_id FROM member_points",  # the author's totals locked: the rule has a daily cap
    "SELECT COALESCE(SUM(delta), 0)",  # paid today under that rule
    "INSERT INTO point_entries",  # the point, unless the author is banned or it was paid already
    "INSERT INTO member_points",  # ... ON CONFLICT DO UPDATE: the totals, returned for tiers
]
CAST_AGAIN = [
    "SELECT u.* FROM api_tokens",
    "SELECT id, board_id, status_id",
    "INSERT INTO votes",  # writes nothing: voted already
    "SELECT i.vote_count, v.id",  # the count and the vote's priority
]
REMOVE = [
    "SELECT u.* FROM api_tokens",
    "SELECT id, board_id, status_id",
    "DELETE FROM votes",  # ... RETURNING id, created_at
    "UPDATE ideas SET vote_count = vote_count - 1",  # ... RETURNING vote_count
    "INSERT INTO point_entries",  # the reversal, found and written in one INSERT ... SELECT
    "INSERT INTO member_points",
]
REMOVE_AGAIN = [
    "SELECT u.* FROM api_tokens",
    "SELECT id, board_id, status_id",
    "DELETE FROM votes",  # deletes nothing
    "SELECT vote_count FROM ideas",
]


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


def statements(counter: QueryCounter) -> list[str]:
    return [" ".join(q.split()) for q in counter.queries]


def assert_statements(counter: QueryCounter, expected: list[str]) -> None:
    sent = statements(counter)
    assert len(sent) == len(expected) and all(s.startswith(e) for s, e in zip(sent, expected, strict=True)), (
        "\n".join(["expected:", *expected, "sent:", *sent])
    )


async def test_a_vote_and_its_reversal_cost_a_fixed_few_statements(
    http: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    board = await make_board()
    author = await make_user()
    warm, idea = await make_idea(board=board, author=author), await make_idea(board=board, author=author)
    voter = await make_user()
    auth = await token_for(voter)
    # Warm up: boards, statuses, budgets, rules and webhooks read once; the author's totals made.
    assert (await http.put(f"/api/v1/ideas/{warm.id}/vote", headers=auth)).status_code == 200

    url = f"/api/v1/ideas/{idea.id}/vote"
    for method, expected, answer in (
        ("PUT", CAST, {"voted": True, "vote_count": 1, "priority": None}),
        ("PUT", CAST_AGAIN, {"voted": True, "vote_count": 1, "priority": None}),
        ("DELETE", REMOVE, {"voted": False, "vote_count": 0, "priority": None}),
        ("DELETE", REMOVE_AGAIN, {"voted": False, "vote_count": 0, "priority": None}),
    ):
        count_queries.queries.clear()
        response = await http.request(method, url, headers=auth, json={} if method == "PUT" else None)
        assert response.status_code == 200, response.text
        assert response.json() == answer
        assert_statements(count_queries, expected)

    # What those statements did: one point paid for the vote, and taken back with it.
    assert await PointEntry.filter(user_id=author.id, source_id=idea.id).values_list("delta", flat=True) in (
        [1, -1],
        [-1, 1],
    )
    totals = await MemberPoints.get(user_id=author.id)
    assert (totals.balance, totals.lifetime) == (1, 1)  # the warm-up vote's point


async def test_a_vote_by_the_author_pays_nothing_and_costs_no_ledger_statement(
    http: httpx.AsyncClient, count_queries: QueryCounter
) -> None:
    author = await make_user()
    warm, idea = await make_idea(author=author), await make_idea(author=author)
    auth = await token_for(author)
    assert (await http.put(f"/api/v1/ideas/{warm.id}/vote", headers=auth)).status_code == 200
    count_queries.queries.clear()
    assert (await http.put(f"/api/v1/ideas/{idea.id}/vote", headers=auth)).status_code == 200
    assert_statements(count_queries, CAST[:4])
    count_queries.queries.clear()
    assert (await http.delete(f"/api/v1/ideas/{idea.id}/vote", headers=auth)).status_code == 200
    assert_statements(count_queries, REMOVE[:4])
    assert not await PointEntry.filter(user_id=author.id).exists()
