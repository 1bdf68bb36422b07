"""Test data and small helpers for the rewards tests: people, boards, ideas, perks, balances."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from ideas import boards, service
from ideas.models import Board, Idea
from portal import accounts
from portal.models import User
from rewards import ledger, perks
from rewards.models import MemberPoints, Perk, PointEntry
from tests.factories import make_user

_seq = itertools.count(1)

# Default rule values (rewards/migrations/0002_default_rules_and_tiers.py).
IDEA_POSTED, IDEA_PLANNED, IDEA_SHIPPED, SHIP_VOTER_SHARE, VOTE_RECEIVED = 5, 20, 100, 10, 1
THRESHOLDS = {"member": 0, "contributor": 50, "insider": 200, "champion": 1000}


async def make_admin() -> User:
    return await make_user(role="admin")


async def make_cm() -> User:
    return await make_user(role="community_manager")


async def make_board(admin: User | None = None, **kw: Any) -> Board:
    n = next(_seq)
    admin = admin or await make_admin()
    return await boards.create_board(
        actor=admin, slug=kw.pop("slug", f"rboard-{n}"), name=kw.pop("name", f"Board {n}"), **kw
    )


async def make_idea(board: Board | None = None, author: User | None = None, title: str | None = None) -> Idea:
    board = board or await make_board()
    author = author or await make_user()
    n = next(_seq)
    return await service.post_idea(
        actor=author, board=board.id, title=title or f"Idea number {n}", body=f"Body of idea {n}."
    )


async def points(user: User | int) -> tuple[int, int]:
    """(balance, lifetime) of a member, 0 for one who never had points."""
    user_id = user if isinstance(user, int) else user.id
    row = await MemberPoints.get_or_none(user_id=user_id)
    return (row.balance, row.lifetime) if row else (0, 0)


async def balance(user: User | int) -> int:
    return (await points(user))[0]


async def tier(user: User | int) -> str:
    user_id = user if isinstance(user, int) else user.id
    row = await MemberPoints.get_or_none(user_id=user_id)
    return row.tier if row else "member"


async def ledger_sum(user: User | int) -> int:
    user_id = user if isinstance(user, int) else user.id
    return sum(await PointEntry.filter(user_id=user_id).values_list("delta", flat=True))


async def reach(cm: User, user: User, points_: int) -> None:
    """Grants `user` points (a manual grant counts for tiers)."""
    await ledger.grant(actor=cm, user_id=user.id, points=points_, reason="test grant")


async def fresh(user: User) -> User:
    """The user loaded again: what a new request sees (no cached tier or program access)."""
    return await User.get(id=user.id)


async def make_deal(cm: User, **data: Any) -> Perk:
    n = next(_seq)
    data.setdefault("title", f"Deal {n}")
    data.setdefault("kind", "deal")
    if "codes" not in data and "shared_code" not in data:
        data["shared_code"] = f"SHARED{n}"
    return await perks.create_perk(actor=cm, data=data)


async def make_program(cm: User, capacity: int, **data: Any) -> Perk:
    n = next(_seq)
    return await perks.create_perk(
        actor=cm, data={"kind": "early_access", "title": f"Program {n}", "capacity": capacity, **data}
    )


async def token_for(user: User) -> dict[str, str]:
    """Headers that authenticate as `user` with a personal API token (no CSRF needed)."""
    return {"Authorization": "Bearer " + await accounts.create_token(actor=None, owner=user)}


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is a clean problem document with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert body.get("detail") or body.get("title"), body
    return body
