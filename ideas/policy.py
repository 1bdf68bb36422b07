"""Who may do what with boards, ideas and comments. Services enforce these; templates show them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from ideas.models import Board, Comment, Idea
from portal.errors import Errors
from portal.models import User
from portal.permissions import is_active, is_admin, is_staff, policy

AUTHOR_EDIT_WINDOW = timedelta(minutes=30)

# Insider boards open from a tier up. Until a package that knows tiers says otherwise, only staff
# see them; `rewards` replaces this predicate at start-up (ideas never imports rewards).
_insider_access: Any = None
_prepare_access: Any = None
_tier_choices: Callable[[], Awaitable[list[tuple[str, str]]]] | None = None


def set_insider_access(
    predicate: Any,
    prepare: Any = None,
    tiers: Callable[[], Awaitable[list[tuple[str, str]]]] | None = None,
) -> None:
    """Installs `predicate(user, board) -> bool` deciding who sees `insiders` boards beyond staff.

    Policies are plain functions, so what the predicate needs from the database (a member's tier)
    is loaded once per request by the async `prepare(user)`, which `prepare_access` calls. `tiers()`
    lists the tiers an insider board or preview may open from, lowest first, as (key, name).
    """
    global _insider_access, _prepare_access, _tier_choices
    _insider_access, _prepare_access, _tier_choices = predicate, prepare, tiers


async def tier_choices() -> list[tuple[str, str]]:
    """The tiers content may open from, lowest first, as (key, name); none without a tier package."""
    return await _tier_choices() if _tier_choices is not None else []


DEFAULT_TIER = "insider"


async def check_min_tier(errors: Errors, given: str | None, *, default: str | None = None) -> str | None:
    """The tier key that `given` names (its key or its name, in any case), `default` when empty.

    A tier nobody has would close the content to every member without a word, so an unknown one is
    an error naming the field. Without a tier package there is nothing to check against.
    """
    text = (given or "").strip() or default
    if text is None:
        return None
    choices = await tier_choices()
    if not choices:
        return text
    for key, name in choices:
        if text.lower() in (key.lower(), name.lower()):
            return key
    errors.add("min_tier", f"Choose one of {', '.join(name for _key, name in choices)}.")
    return None


async def prepare_access(user: User | None, boards: Iterable[Board] | None = None) -> None:
    """Loads what deciding on insider content needs; given `boards`, only if one is an insider board
    (a portal without any, or a page of public boards, then costs no statement)."""
    if user is None or _prepare_access is None:
        return
    if boards is None or any(b.visibility == "insiders" for b in boards):
        await _prepare_access(user)


@policy("board.view")
def can_view_board(user: User | None, board: Board) -> bool:
    if board.visibility == "public":
        return True
    if is_staff(user) or is_admin(user):
        return True
    if board.visibility == "insiders" and _insider_access is not None and user is not None:
        return bool(_insider_access(user, board))
    return False


@policy("board.manage")
def can_manage_boards(user: User | None, _obj: Any) -> bool:
    return is_admin(user)


@policy("status.manage")
def can_manage_statuses(user: User | None, _obj: Any) -> bool:
    return is_admin(user)


@policy("idea.post")
def can_post_idea(user: User | None, board: Board | None) -> bool:
    if not is_active(user):
        return False
    return board is None or (board.archived_at is None and can_view_board(user, board))


@policy("idea.edit")
def can_edit_idea(user: User | None, idea: Idea) -> bool:
    if is_staff(user):
        return True
    return (
        is_active(user)
        and idea.author_id == user.id  # type: ignore[union-attr]
        and idea.hidden_at is None
        and idea.merged_into_id is None
        and datetime.now(UTC) - idea.created_at <= AUTHOR_EDIT_WINDOW
    )


@policy("idea.change_status")
def can_change_status(user: User | None, _idea: Any) -> bool:
    return is_staff(user)


@policy("idea.merge")
def can_merge(user: User | None, _idea: Any) -> bool:
    return is_staff(user)


@policy("idea.moderate")
def can_moderate(user: User | None, _obj: Any) -> bool:
    return is_staff(user)


@policy("idea.follow")
def can_follow(user: User | None, _idea: Any) -> bool:
    return is_active(user)


@policy("comment.post")
def can_comment(user: User | None, idea: Idea) -> bool:
    if not is_active(user) or idea.merged_into_id is not None or idea.hidden_at is not None:
        return False
    return not idea.comments_locked or is_staff(user)


@policy("comment.internal")
def can_see_internal(user: User | None, _obj: Any) -> bool:
    return is_staff(user)


@policy("comment.mark")
def can_mark_comment(user: User | None, _comment: Comment | None) -> bool:
    """Official response and helpful marks."""
    return is_staff(user)


@policy("member.ban")
def can_ban(user: User | None, target: User | None) -> bool:
    return is_staff(user) and (target is None or target.role == "member")


@policy("image.upload")
def can_upload_image(user: User | None, _obj: Any) -> bool:
    """Images for ideas and comments: anyone who may post may upload."""
    return is_active(user)


@policy("changelog.write")
def can_write_changelog(user: User | None, _obj: Any) -> bool:
    return is_staff(user)


@policy("staff.triage")
def can_triage(user: User | None, _obj: Any) -> bool:
    return is_staff(user)
