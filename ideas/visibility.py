"""What a person may see. Every path that lists, counts, searches, feeds or exports asks here."""

from __future__ import annotations

from ideas import catalog
from ideas.models import Board, Idea
from ideas.policy import can_view_board, prepare_access
from portal.models import User
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
