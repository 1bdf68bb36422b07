"""What ideas holds about a member, for their download, and what goes when they delete the account.

Their ideas and comments stay (others voted and answered on them), signed "Deleted member" once the
portal renames the account; the ideas they follow are forgotten.
"""

from __future__ import annotations

from typing import Any

from ideas.models import Attachment, Comment, Follow, Idea
from ideas.queries import LIST_FIELDS, decorate
from portal import data_rights, webhooks
from portal.models import User


async def export_ideas(user: User) -> list[dict[str, Any]]:
    rows = await Idea.filter(author_id=user.id).order_by("id").values(*LIST_FIELDS, "body_md")
    await decorate(user, rows)
    return [
        {
            "id": r["id"],
            "url": webhooks.absolute_url(r["url"]),
            "board": r["board__slug"],
            "title": r["title"],
            "body_md": r["body_md"],
            "status": r["status_id"],
            "tags": r["tags"],
            "vote_count": r["vote_count"],
            "comment_count": r["comment_count"],
            "hidden": r["hidden_at"] is not None,
            "merged_into": r["merged_into_id"],
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
        }
        for r in rows
    ]


async def export_comments(user: User) -> list[dict[str, Any]]:
    return await (
        Comment.filter(author_id=user.id)
        .order_by("id")
        .values("id", "idea_id", "parent_id", "body_md", "internal", "hidden_at", "created_at", "edited_at")
    )


async def export_follows(user: User) -> list[dict[str, Any]]:
    return await Follow.filter(user_id=user.id).order_by("id").values("idea_id", "idea__title", "created_at")


async def export_uploads(user: User) -> list[dict[str, Any]]:
    return await (
        Attachment.filter(owner_id=user.id)
        .order_by("id")
        .values("key", "content_type", "size", "width", "height", "created_at")
    )


async def erase(user: User) -> None:
    await Follow.filter(user_id=user.id).delete()


def install() -> None:
    data_rights.register_exporter("ideas", export_ideas)
    data_rights.register_exporter("comments", export_comments)
    data_rights.register_exporter("follows", export_follows)
    data_rights.register_exporter("uploads", export_uploads)
    data_rights.register_eraser(erase)
