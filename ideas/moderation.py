"""Moderation: hide and unhide ideas and comments, lock comments, ban members. All audited."""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ideas.events import ContentHidden, ContentUnhidden, MemberBanned
from ideas.models import Comment, Idea
from ideas.service import counted_publicly, get_idea, now, visible_idea
from portal import audit, events, permissions
from portal.errors import Errors, Invalid, NotFound
from portal.models import User

REASON_MAX = 300


def _reason(reason: str | None, required: bool = True) -> str:
    errors = Errors()
    reason = (reason or "").strip()
    if required and not reason:
        errors.add("reason", "Give a reason; it is kept in the audit log.")
    elif len(reason) > REASON_MAX:
        errors.add("reason", f"Use at most {REASON_MAX} characters.")
    errors.raise_if_any()
    return reason


async def hide_idea(*, actor: User | None, idea_id: int, reason: str) -> Idea:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.moderate", idea)
    reason = _reason(reason)
    async with in_transaction():
        if await Idea.filter(id=idea.id, hidden_at=None).update(hidden_at=now(), hidden_reason=reason):
            await audit.record(actor, "idea.hide", kind="idea", object_id=idea.id, reason=reason)
            await events.emit(ContentHidden(kind="idea", object_id=idea.id, author_id=idea.author_id))
    return await get_idea(idea.id)


async def unhide_idea(*, actor: User | None, idea_id: int, reason: str = "") -> Idea:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.moderate", idea)
    reason = _reason(reason, required=False)
    async with in_transaction():
        if await Idea.filter(id=idea.id, hidden_at__not_isnull=True).update(hidden_at=None, hidden_reason=""):
            await audit.record(actor, "idea.unhide", kind="idea", object_id=idea.id, reason=reason)
            await events.emit(ContentUnhidden(kind="idea", object_id=idea.id, author_id=idea.author_id))
    return await get_idea(idea.id)


async def set_comments_locked(*, actor: User | None, idea_id: int, locked: bool) -> Idea:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.moderate", idea)
    async with in_transaction():
        await Idea.filter(id=idea.id).update(comments_locked=locked)
        await audit.record(actor, "idea.lock" if locked else "idea.unlock", kind="idea", object_id=idea.id)
    return await get_idea(idea.id)


async def _counted(comment: Comment) -> bool:
    row = {"internal": comment.internal, "merged_from_id": comment.merged_from_id}
    return bool(await counted_publicly([row]))


async def hide_comment(*, actor: User | None, comment_id: int, reason: str) -> Comment:
    comment = await Comment.get_or_none(id=comment_id)
    if comment is None:
        raise NotFound("There is no such comment.")
    await visible_idea(actor, comment.idea_id)
    permissions.require(actor, "idea.moderate", comment)
    reason = _reason(reason)
    async with in_transaction():
        if await Comment.filter(id=comment.id, hidden_at=None).update(hidden_at=now(), hidden_reason=reason):
            if await _counted(comment):
                await Idea.filter(id=comment.idea_id).update(comment_count=F("comment_count") - 1)
            await Idea.filter(id=comment.idea_id, official_comment_id=comment.id).update(
                official_comment_id=None
            )
            await audit.record(actor, "comment.hide", kind="comment", object_id=comment.id, reason=reason)
            await events.emit(
                ContentHidden(kind="comment", object_id=comment.id, author_id=comment.author_id)
            )
    await comment.refresh_from_db()
    return comment


async def unhide_comment(*, actor: User | None, comment_id: int) -> Comment:
    comment = await Comment.get_or_none(id=comment_id)
    if comment is None:
        raise NotFound("There is no such comment.")
    await visible_idea(actor, comment.idea_id)
    permissions.require(actor, "idea.moderate", comment)
    async with in_transaction():
        if await Comment.filter(id=comment.id, hidden_at__not_isnull=True).update(
            hidden_at=None, hidden_reason=""
        ):
            if await _counted(comment):
                await Idea.filter(id=comment.idea_id).update(comment_count=F("comment_count") + 1)
            await audit.record(actor, "comment.unhide", kind="comment", object_id=comment.id)
            await events.emit(
                ContentUnhidden(kind="comment", object_id=comment.id, author_id=comment.author_id)
            )
    await comment.refresh_from_db()
    return comment


async def ban_member(*, actor: User | None, user_id: int, reason: str) -> User:
    """Bans a member: signed out everywhere, their ideas and comments hidden, their votes dropped."""
    target = await User.get_or_none(id=user_id)
    if target is None:
        raise NotFound("There is no such member.")
    permissions.require(actor, "member.ban", target)
    reason = _reason(reason)
    if target.banned_at is not None:
        raise Invalid({"user": "This member is banned already."})
    at = now()
    hidden_reason = f"Author banned: {reason}"[:REASON_MAX]
    async with in_transaction():
        await User.filter(id=target.id).update(banned_at=at, session_version=F("session_version") + 1)
        idea_ids = await Idea.filter(author_id=target.id, hidden_at=None).values_list("id", flat=True)
        await Idea.filter(id__in=idea_ids).update(hidden_at=at, hidden_reason=hidden_reason)
        comments = await Comment.filter(author_id=target.id, hidden_at=None).values(
            "id", "idea_id", "internal", "merged_from_id"
        )
        await Comment.filter(id__in=[c["id"] for c in comments]).update(
            hidden_at=at, hidden_reason=hidden_reason
        )
        for c in await counted_publicly(comments):
            await Idea.filter(id=c["idea_id"]).update(comment_count=F("comment_count") - 1)
        await audit.record(actor, "member.ban", kind="user", object_id=target.id, reason=reason)
        for idea_id in idea_ids:
            await events.emit(ContentHidden(kind="idea", object_id=idea_id, author_id=target.id))
        for c in comments:
            await events.emit(ContentHidden(kind="comment", object_id=c["id"], author_id=target.id))
        await events.emit(MemberBanned(user_id=target.id, actor_id=actor.id))  # type: ignore[union-attr]
    await target.refresh_from_db()
    return target
