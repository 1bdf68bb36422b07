"""The comments of an idea page, drawn once per version of the thread and kind of reader, and kept.

Each page asks for a digest of the comments its reader may see (`queries.comment_thread`), passing
the digest of the markup kept here; the comments themselves come back only when it differs. While
a popular idea's thread is unchanged, its page neither reads nor draws its fifty comments again,
and every reader still sees the thread as it is now: the digest is taken in the same statement,
over every column the thread draws.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from markupsafe import Markup

from ideas import queries
from ideas.models import Idea
from portal import permissions
from portal.models import User
from portal.templating import CSRF_SLOT, templates


@dataclass(frozen=True)
class CommentSections:
    official: Markup  # the pinned official response, or empty
    thread: Markup  # every other comment with its replies, or empty


@dataclass(frozen=True)
class _Kept:
    digest: Hashable
    sections: CommentSections
    size: int


class KeptThreads:
    """Sections per idea and kind of reader, bounded by count and by size (the oldest tenth goes
    first when full, as in `portal.fragments.FragmentStore`)."""

    def __init__(self, max_entries: int = 5_000, max_characters: int = 32 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_characters = max_characters
        self._data: dict[Hashable, _Kept] = {}
        self._characters = 0
        self.drawn = 0  # sections drawn and kept (a kept one reused does not count)

    def get(self, key: Hashable) -> _Kept | None:
        return self._data.get(key)

    def keep(self, key: Hashable, digest: Hashable, sections: CommentSections) -> None:
        self.drawn += 1
        size = len(sections.official) + len(sections.thread)
        old = self._data.pop(key, None)
        if old is not None:
            self._characters -= old.size
        while self._data and (
            len(self._data) >= self.max_entries or self._characters + size > self.max_characters
        ):
            for stale in list(self._data)[: max(1, len(self._data) // 10)]:
                self._characters -= self._data.pop(stale).size
        if size <= self.max_characters:
            self._data[key] = _Kept(digest, sections, size)
            self._characters += size

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        self._data.clear()
        self._characters = 0


kept_threads = KeptThreads()


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
        return kept.sections
    official, threads = queries.arrange_thread(comments, idea.official_comment_id)
    draw = templates.env.get_template("ideas/_comments.html").module.thread  # type: ignore[attr-defined]
    official_id = official["id"] if official else None
    sections = CommentSections(
        draw([official], may, idea.id, official_id, reader_id, CSRF_SLOT) if official else Markup(""),
        draw(threads, may, idea.id, official_id, reader_id, CSRF_SLOT) if threads else Markup(""),
    )
    kept_threads.keep(key, digest, sections)
    return sections
