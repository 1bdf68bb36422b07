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

WHO = "SELECT u.* FROM api_tokens"  # who is asking (token and owner in one join)
IDEA = "SELECT id, board_id, status_id"  # the idea, narrow (board and status from the catalogue)
# The vote row (INSERT ... ON CONFLICT DO NOTHING RETURNING id) and the counter (UPDATE ...
# RETURNING vote_count): one statement on PostgreSQL (a WITH), two on SQLite.
VOTE = {
    "postgres": ["WITH v AS (INSERT INTO votes"],
    "sqlite": ["INSERT INTO votes", "UPDATE ideas SET vote_count = vote_count + 1"],
}
# The author's point: the entry (refused to a banned author, cut to the rule's daily cap by what
# was paid today) and the totals, returned for tiers. PostgreSQL first locks the author's totals
# (so two awards at once cannot both pass the cap), then writes both in one statement.
PAY = {
    "postgres": ["SELECT user_id FROM member_points", "WITH e AS (INSERT INTO point_entries"],
    "sqlite": ["INSERT INTO point_entries", "INSERT INTO member_points"],
}
UNPAY = {  # the reversal, found and written by one INSERT ... SELECT, and the totals
    "postgres": ["WITH e AS (INSERT INTO point_entries"],
    "sqlite": ["INSERT INTO point_entries", "INSERT INTO member_points"],
}
UNVOTE = ["DELETE FROM votes", "UPDATE ideas SET vote_count = vote_count - 1"]  # both RETURNING


def expected(backend: str) -> dict[str, list[str]]:
    return {
        "cast": [WHO, IDEA, *VOTE[backend], *PAY[backend]],
        "cast again": [WHO, IDEA, VOTE[backend][0], "SELECT i.vote_count, v.id"],  # count and priority
        "remove": [WHO, IDEA, *UNVOTE, *UNPAY[backend]],
        "remove again": [WHO, IDEA, UNVOTE[0], "SELECT vote_count FROM ideas"],
        "cast own": [WHO, IDEA, *VOTE[backend]],
        "remove own": [WHO, IDEA, *UNVOTE],
    }


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
    http: httpx.AsyncClient, count_queries: QueryCounter, backend: str
) -> None:
    board = await make_board()
    author = await make_user()
    warm, idea = await make_idea(board=board, author=author), await make_idea(board=board, author=author)
    voter = await make_user()
    auth = await token_for(voter)
    # Warm up: boards, statuses, budgets, rules and webhooks read once; the author's totals made.
    assert (await http.put(f"/api/v1/ideas/{warm.id}/vote", headers=auth)).status_code == 200

    url = f"/api/v1/ideas/{idea.id}/vote"
    for method, step, answer in (
        ("PUT", "cast", {"voted": True, "vote_count": 1, "priority": None}),
        ("PUT", "cast again", {"voted": True, "vote_count": 1, "priority": None}),
        ("DELETE", "remove", {"voted": False, "vote_count": 0, "priority": None}),
        ("DELETE", "remove again", {"voted": False, "vote_count": 0, "priority": None}),
    ):
        count_queries.queries.clear()
        response = await http.request(method, url, headers=auth, json={} if method == "PUT" else None)
        assert response.status_code == 200, response.text
        assert response.json() == answer
        assert_statements(count_queries, expected(backend)[step])

    # What those statements did: one point paid for the vote, and taken back with it.
    assert await PointEntry.filter(user_id=author.id, source_id=idea.id).values_list("delta", flat=True) in (
        [1, -1],
        [-1, 1],
    )
    totals = await MemberPoints.get(user_id=author.id)
    assert (totals.balance, totals.lifetime) == (1, 1)  # the warm-up vote's point


async def test_a_vote_by_the_author_pays_nothing_and_costs_no_ledger_statement(
    http: httpx.AsyncClient, count_queries: QueryCounter, backend: str
) -> None:
    author = await make_user()
    warm, idea = await make_idea(author=author), await make_idea(author=author)
    auth = await token_for(author)
    assert (await http.put(f"/api/v1/ideas/{warm.id}/vote", headers=auth)).status_code == 200
    count_queries.queries.clear()
    assert (await http.put(f"/api/v1/ideas/{idea.id}/vote", headers=auth)).status_code == 200
    assert_statements(count_queries, expected(backend)["cast own"])
    count_queries.queries.clear()
    assert (await http.delete(f"/api/v1/ideas/{idea.id}/vote", headers=auth)).status_code == 200
    assert_statements(count_queries, expected(backend)["remove own"])
    assert not await PointEntry.filter(user_id=author.id).exists()
