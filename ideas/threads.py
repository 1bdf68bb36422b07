"""The comments of an idea page, drawn once per version of the thread and kind of reader, and kept
(`portal.kept`): while a popular idea's thread is unchanged, its page neither reads nor draws its
fifty comments again (`queries.comment_thread` sends them only when their digest changed)."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from ideas import queries
from ideas.models import Idea
from portal import permissions
from portal.kept import KeptStore
from portal.models import User
from portal.templating import CSRF_SLOT, templates


@dataclass(frozen=True)
class CommentSections:
    official: Markup  # the pinned official response, or empty
    thread: Markup  # every other comment with its replies, or empty


kept_threads: KeptStore[CommentSections] = KeptStore()


def may_on_comments(user: User | None, idea: Idea) -> dict[str, bool]:
    return {
        "mark": permissions.can(user, "comment.mark"),
        "post": permissions.can(user, "comment.post", idea),
        "moderate": permissions.can(user, "idea.moderate"),
    }


async def comment_sections(user: User | None, idea: Idea) -> CommentSections:
    """The idea's official response and comment thread as this reader sees them (one statement)."""
    may = may_on_comments(user, idea)
    reader_id = user.id if user is not None and may["mark"] else 0
    # Everything the markup depends on beyond the comments. Readers who see different comments
    # (staff see internal notes) get different digests anyway; keyed apart, they keep one each.
    staff = permissions.can(user, "comment.internal")
    key = (idea.id, idea.official_comment_id, reader_id, staff, *may.values())
    kept = kept_threads.get(key)
    digest, comments = await queries.comment_thread(user, idea.id, unless=kept.digest if kept else None)
    if comments is None:
        assert kept is not None  # the digest matched the kept one
        return kept.value
    official, threads = queries.arrange_thread(comments, idea.official_comment_id)
    draw = templates.env.get_template("ideas/_comments.html").module.thread  # type: ignore[attr-defined]
    official_id = official["id"] if official else None
    sections = CommentSections(
        draw([official], may, idea.id, official_id, reader_id, CSRF_SLOT) if official else Markup(""),
        draw(threads, may, idea.id, official_id, reader_id, CSRF_SLOT) if threads else Markup(""),
    )
    kept_threads.keep(key, digest, sections, len(sections.official) + len(sections.thread))
    return sections
