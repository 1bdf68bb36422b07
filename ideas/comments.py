"""Comments: one level of replies, staff notes, the official response, helpful marks."""

from __future__ import annotations

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from ideas import ranking
from ideas.events import CommentMarkedHelpful, CommentPosted
from ideas.models import Comment, Idea
from ideas.service import (
    counted_publicly,
    follow_quietly,
    follower_ids,
    idea_url,
    notify_mentions,
    now,
    visible_idea,
)
from ideas.visibility import readers_among
from portal import audit, events, markup, notifications, permissions
from portal.errors import Errors, Invalid, NotFound
from portal.models import User

COMMENT_MAX = 10_000


async def post_comment(
    *,
    actor: User | None,
    idea_id: int,
    body: str,
    parent: int | str | None = None,
    internal: bool = False,
) -> Comment:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "comment.post", idea)
    assert actor is not None
    if internal:
        permissions.require(actor, "comment.internal")
    errors = Errors()
    body = (body or "").strip()
    if not body:
        errors.add("body", "Write a comment first.")
    elif len(body) > COMMENT_MAX:
        errors.add("body", f"Use at most {COMMENT_MAX:,} characters.")
    parent_comment: Comment | None = None
    if parent not in (None, ""):
        try:
            parent_comment = await Comment.get_or_none(id=int(parent), idea_id=idea.id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            parent_comment = None
        if parent_comment is None or (parent_comment.internal and not internal):
            errors.add("parent", "There is no such comment on this idea.")
    errors.raise_if_any()
    # One level of replies: a reply to a reply joins its thread.
    parent_id = None
    if parent_comment is not None:
        parent_id = parent_comment.parent_id or parent_comment.id
    by_staff = permissions.is_staff(actor)
    at = now()
    async with in_transaction():
        comment = await Comment.create(
            idea_id=idea.id,
            author=actor,
            parent_id=parent_id,
            body_md=body,
            body_html=markup.render_markdown(body),
            by_staff=by_staff,
            internal=internal,
            created_at=at,
        )
        if not internal:
            updates: dict = {
                "comment_count": F("comment_count") + 1,
                "trending_score": F("trending_score") + ranking.weight("comment", at),
                "last_activity_at": at,
            }
            await Idea.filter(id=idea.id).update(**updates)
            if by_staff:
                await Idea.filter(id=idea.id, first_response_at=None).update(first_response_at=at)
            await follow_quietly(idea.id, actor.id)
            await notify_mentions(body, idea=idea, actor=actor, cause=f"comment:{comment.id}")
            await events.emit(CommentPosted(comment_id=comment.id, idea_id=idea.id, author_id=actor.id))
    return comment


async def _comment_for_staff(actor: User | None, comment_id: int, action: str) -> tuple[Comment, Idea]:
    comment = await Comment.get_or_none(id=comment_id)
    if comment is None:
        raise NotFound("There is no such comment.")
    idea = await visible_idea(actor, comment.idea_id)
    permissions.require(actor, action, comment)
    return comment, idea


async def mark_official(*, actor: User | None, comment_id: int) -> Comment:
    """Pins a staff comment at the top of its idea as the company's answer."""
    comment, idea = await _comment_for_staff(actor, comment_id, "comment.mark")
    assert actor is not None
    if comment.internal or comment.hidden_at is not None or not comment.by_staff:
        raise Invalid({"comment": "Only a visible staff comment can be the official response."})
    if not await counted_publicly([{"internal": False, "merged_from_id": comment.merged_from_id}]):
        # Moved here by a merge from an idea not everyone may see: its followers are told the answer.
        raise Invalid(
            {"comment": "This comment was written on an idea not everyone may see; it cannot be the answer."}
        )
    async with in_transaction():
        await Idea.filter(id=idea.id).update(official_comment_id=comment.id)
        await Idea.filter(id=idea.id, first_response_at=None).update(first_response_at=now())
        await notifications.notify(
            await readers_among(await follower_ids(idea.id), idea),
            kind="official_response",
            title=f"The team answered “{idea.title}”",
            body=comment.body_md[:500],
            url=idea_url(idea),
            cause=f"official:{comment.id}",
            exclude=[actor.id],
        )
        await audit.record(actor, "comment.official", kind="comment", object_id=comment.id, idea=idea.id)
    return comment


async def mark_helpful(*, actor: User | None, comment_id: int) -> Comment:
    comment, _idea = await _comment_for_staff(actor, comment_id, "comment.mark")
    assert actor is not None
    if comment.author_id == actor.id:
        raise Invalid({"comment": "Mark other people's comments as helpful, not your own."})
    async with in_transaction():
        # Conditional update: marking twice pays and records once.
        if await Comment.filter(id=comment.id, helpful_at=None).update(helpful_at=now()):
            await audit.record(actor, "comment.helpful", kind="comment", object_id=comment.id)
            await events.emit(
                CommentMarkedHelpful(comment_id=comment.id, author_id=comment.author_id, actor_id=actor.id)
            )
    await comment.refresh_from_db()
    return comment
