"""Test data, made directly in the database (fast: one password hash shared by all users)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from argon2 import PasswordHasher

from portal.models import User

PASSWORD = "correct horse battery"
_HASH = PasswordHasher().hash(PASSWORD)
_seq = itertools.count(1)


async def make_user(
    *,
    role: str = "member",
    email: str | None = None,
    name: str | None = None,
    verified: bool = True,
    banned: bool = False,
) -> User:
    n = next(_seq)
    return await User.create(
        email=(email or f"user{n}@example.com").lower(),
        name=name or f"User {n}",
        role=role,
        password_hash=_HASH,
        email_verified_at=datetime.now(UTC) if verified else None,
        banned_at=datetime.now(UTC) if banned else None,
    )


# --- ideas: boards, ideas, comments -------------------------------------------------------------
# (imports kept here, with the additions, so that this block merges cleanly with other work)

from collections.abc import Iterable  # noqa: E402
from typing import Any  # noqa: E402

from ideas.models import Board, Comment, Idea  # noqa: E402

_board_seq = itertools.count(1)


async def make_board(
    *,
    slug: str | None = None,
    name: str | None = None,
    visibility: str = "public",
    min_tier: str | None = None,
    **fields: Any,
) -> Board:
    n = next(_board_seq)
    return await Board.create(
        slug=slug or f"board-{n}",
        name=name or f"Board {n}",
        visibility=visibility,
        min_tier=min_tier if min_tier is not None else ("Insider" if visibility == "insiders" else None),
        position=n,
        **fields,
    )


async def make_idea(
    *,
    board: Board | None = None,
    author: User | None = None,
    title: str | None = None,
    body: str = "",
    tags: Iterable[str] | str | None = None,
    status: str | None = None,
    **fields: Any,
) -> Idea:
    """An idea posted through the service (so search, tags and follows are real), then adjusted.

    `fields` are written afterwards as they are (`created_at`, `vote_count`, `hidden_at`, ...).
    Ideas on boards a member cannot see are posted by a staff user unless an author is given.
    """
    from ideas import service

    board = board or await make_board()
    if author is None:
        author = await make_user(role="member" if board.visibility == "public" else "staff")
    idea = await service.post_idea(
        actor=author, board=board.id, title=title or f"Idea number {next(_seq)}", body=body, tags=tags
    )
    updates = dict(fields)
    if status is not None:
        updates["status_id"] = status
    if updates:
        await Idea.filter(id=idea.id).update(**updates)
    return await Idea.get(id=idea.id)


async def make_comment(
    *, idea: Idea, author: User | None = None, body: str = "A comment.", **kw: Any
) -> Comment:
    """A comment posted through the service (counts, follows and mentions are real)."""
    from ideas import comments

    author = author or await make_user()
    return await comments.post_comment(actor=author, idea_id=idea.id, body=body, **kw)
