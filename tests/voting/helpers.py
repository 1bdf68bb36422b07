"""Test data and small helpers for the voting tests (boards, ideas, token clients, vote rows)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from starlette.applications import Starlette

from ideas import boards, service
from ideas.models import Board, Idea
from portal import accounts
from portal.models import User
from tests.browser import Client
from tests.factories import make_user
from voting.models import Vote

_seq = itertools.count(1)


async def make_admin() -> User:
    return await make_user(role="admin")


async def make_board(admin: User | None = None, **kw: Any) -> Board:
    n = next(_seq)
    admin = admin or await make_admin()
    return await boards.create_board(actor=admin, slug=kw.pop("slug", f"vboard-{n}"), name=f"Board {n}", **kw)


async def make_idea(board: Board | None = None, author: User | None = None, title: str | None = None) -> Idea:
    board = board or await make_board()
    author = author or await make_user()
    n = next(_seq)
    return await service.post_idea(
        actor=author, board=board.slug, title=title or f"Idea number {n}", body=f"Body of idea {n}."
    )


async def vote_count(idea_id: int) -> int:
    return (await Idea.filter(id=idea_id).values_list("vote_count", flat=True))[0]


async def voter_ids(idea_id: int) -> set[int]:
    return set(await Vote.filter(idea_id=idea_id).values_list("user_id", flat=True))


async def token_for(user: User) -> dict[str, str]:
    """Headers that authenticate as `user` with a personal API token (no CSRF needed)."""
    return {"Authorization": "Bearer " + await accounts.create_token(actor=None, owner=user)}


def api_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def signed_in(app: Starlette, user: User) -> Client:
    client = Client(app)
    await client.sign_in_as(user)
    return client


def assert_problem(response: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """The response is a problem document with this status whose detail mentions each word."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert body["detail"]
    for word in words:
        assert word.lower() in body["detail"].lower(), body
    return body
