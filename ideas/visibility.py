"""What a person may see. Every path that lists, counts, searches, feeds or exports asks here."""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import SimpleNamespace

from ideas import catalog
from ideas.models import Board, Idea
from ideas.policy import can_view_board, prepare_access
from portal.models import Notification, User
from portal.permissions import is_staff


async def visible_boards(user: User | None, *, include_archived: bool = True) -> list[Board]:
    boards = await catalog.boards()
    await prepare_access(user, boards)
    return [b for b in boards if can_view_board(user, b) and (include_archived or b.archived_at is None)]


async def visible_board_ids(user: User | None) -> list[int]:
    return [b.id for b in await visible_boards(user)]


def idea_visible(user: User | None, idea: Idea, board: Board) -> bool:
    """An idea shows when its board does and it is not hidden (staff see hidden ones)."""
    if not can_view_board(user, board):
        return False
    return idea.hidden_at is None or is_staff(user)


async def readers_among(user_ids: Iterable[int], idea: Idea) -> list[int]:
    """Those of `user_ids` who may see `idea` now: whom news of it may reach.

    Following an idea outlasts the access it needed (a tier lost, a program ended, a board made
    private), so every notice about an idea asks again rather than trusting the list of followers.
    """
    ids = sorted(set(user_ids))
    board = (await catalog.board_map()).get(idea.board_id)
    if board is None:  # made after the catalogue was read
        board = await Board.get(id=idea.board_id)
    if not ids or (board.visibility == "public" and idea.hidden_at is None):
        return ids
    readers = []
    for user in await User.filter(id__in=ids, banned_at=None):
        await prepare_access(user, [board])
        if idea_visible(user, idea, board):
            readers.append(user.id)
    return readers


_IDEA_PATH = re.compile(r"/ideas/(\d+)(?!\d)")


async def readable_notices(user: User, items: list[Notification]) -> list[Notification]:
    """The notices of `items` that `user` may still read: one about an idea (it links to it) goes
    when the idea is hidden, or on a board they cannot see, since it was written."""
    about = {n.id: int(m[1]) for n in items if (m := _IDEA_PATH.match(n.url or ""))}
    if not about:
        return items
    rows = await Idea.filter(id__in=set(about.values())).values("id", "board_id", "hidden_at")
    boards = await catalog.board_map()
    await prepare_access(user, [boards[r["board_id"]] for r in rows if r["board_id"] in boards])
    visible = {
        r["id"]
        for r in rows
        if r["board_id"] in boards
        and idea_visible(user, SimpleNamespace(hidden_at=r["hidden_at"]), boards[r["board_id"]])  # type: ignore[arg-type]
    }
    return [n for n in items if n.id not in about or about[n.id] in visible]
