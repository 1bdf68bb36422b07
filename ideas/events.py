"""Events the ideas package raises. Other packages (voting, rewards) react to them."""

from __future__ import annotations

from dataclasses import dataclass

from portal.events import Event


@dataclass(frozen=True)
class IdeaPosted(Event):
    name = "idea.posted"
    idea_id: int
    author_id: int
    board_id: int


@dataclass(frozen=True)
class IdeaStatusChanged(Event):
    name = "idea.status_changed"
    idea_id: int
    change_id: int
    actor_id: int
    from_status: str
    to_status: str


@dataclass(frozen=True)
class CommentPosted(Event):
    name = "comment.posted"
    comment_id: int
    idea_id: int
    author_id: int


@dataclass(frozen=True)
class CommentMarkedHelpful(Event):
    name = "comment.marked_helpful"
    comment_id: int
    author_id: int
    actor_id: int


@dataclass(frozen=True)
class ContentHidden(Event):
    name = "content.hidden"
    kind: str  # "idea" | "comment"
    object_id: int
    author_id: int


@dataclass(frozen=True)
class ContentUnhidden(Event):
    name = "content.unhidden"
    kind: str
    object_id: int
    author_id: int


@dataclass(frozen=True)
class IdeaMerged(Event):
    """Raised inside the merge transaction; voting moves the votes in the same transaction."""

    name = "idea.merged"
    source_id: int
    target_id: int
    actor_id: int


@dataclass(frozen=True)
class MemberBanned(Event):
    """Raised inside the ban transaction; voting removes the member's votes from the counts."""

    name = "member.banned"
    user_id: int
    actor_id: int
