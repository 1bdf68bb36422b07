"""What webhooks receive about ideas: the API's `idea` shape, built without a request.

An event about content on a public board is public; on an insider or private board it is not, and
goes only to webhooks that take every event. Hidden ideas and comments, and staff-only notes, are
never sent.
"""

from __future__ import annotations

from typing import Any

from ideas.api import idea_document
from ideas.events import CommentPosted, IdeaPosted, IdeaStatusChanged
from ideas.models import Comment, Idea, StatusChange
from ideas.queries import LIST_FIELDS, decorate
from portal import webhooks

Payload = tuple[dict[str, Any], bool]


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


async def idea_payload(idea_id: int) -> Payload | None:
    """The idea as the API shows it, and whether its board is public; None when hidden or gone."""
    rows = await Idea.filter(id=idea_id).values(*LIST_FIELDS, "body_html", "board__visibility")
    if not rows or rows[0]["hidden_at"] is not None:
        return None
    [row] = await decorate(None, rows)  # as a visitor sees it: tags, link, fields other packages add
    document = idea_document(webhooks.absolute_url(""), row)
    document.pop("voted", None)  # about a reader; a webhook has none
    return document, row["board__visibility"] == "public"


async def on_idea_posted(event: IdeaPosted) -> Payload | None:
    built = await idea_payload(event.idea_id)
    return None if built is None else ({"idea": built[0]}, built[1])


async def on_status_changed(event: IdeaStatusChanged) -> Payload | None:
    built = await idea_payload(event.idea_id)
    change = await StatusChange.filter(id=event.change_id).values(
        "id", "from_status", "to_status", "message_html", "actor_id", "actor__name", "created_at"
    )
    if built is None or not change:
        return None
    c = change[0]
    data = {
        "idea": built[0],
        "change": {
            "id": c["id"],
            "from": c["from_status"],
            "to": c["to_status"],
            "message_html": c["message_html"],
            "by": {"id": c["actor_id"], "name": c["actor__name"]},
            "at": _iso(c["created_at"]),
        },
    }
    return data, built[1]


async def on_comment_posted(event: CommentPosted) -> Payload | None:
    comment = await Comment.filter(id=event.comment_id).values(
        "id", "parent_id", "author_id", "author__name", "body_html", "by_staff", "internal", "hidden_at",
        "created_at",
    )  # fmt: skip
    if not comment or comment[0]["internal"] or comment[0]["hidden_at"] is not None:
        return None
    built = await idea_payload(event.idea_id)
    if built is None:
        return None
    c = comment[0]
    data = {
        "idea": built[0],
        "comment": {
            "id": c["id"],
            "parent": c["parent_id"],
            "author": {"id": c["author_id"], "name": c["author__name"]},
            "body_html": c["body_html"],
            "staff": c["by_staff"],
            "created_at": _iso(c["created_at"]),
        },
    }
    return data, built[1]


def install() -> None:
    webhooks.register_payload(IdeaPosted.name, on_idea_posted)
    webhooks.register_payload(IdeaStatusChanged.name, on_status_changed)
    webhooks.register_payload(CommentPosted.name, on_comment_posted)
