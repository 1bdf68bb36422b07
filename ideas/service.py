"""Ideas: post, edit, follow, move through statuses, merge. One function per use case."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from ideas import catalog, ranking
from ideas.events import IdeaMerged, IdeaPosted, IdeaStatusChanged
from ideas.models import Board, Comment, Follow, Idea, IdeaRevision, IdeaTag, Status, StatusChange, Tag
from ideas.policy import can_view_board, prepare_access
from ideas.visibility import readers_among
from portal import audit, events, markup, notifications, permissions, sql
from portal.errors import Conflict, Errors, NotFound
from portal.models import User
from portal.permissions import STAFF_ROLES

TITLE_MIN, TITLE_MAX = 5, 140
BODY_MAX = 20_000
MESSAGE_MAX = 5_000
MAX_TAGS, TAG_MAX = 5, 30
# A first answer is a staff reaction that moves an idea on: a status change or a public comment.
OPEN_STATUSES = ("open", "under_review")


def now() -> datetime:
    return datetime.now(UTC)


def slugify(text: str, max_length: int = 60) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def _check_text(errors: Errors, title: str, body: str) -> tuple[str, str]:
    title = " ".join(title.split())
    if len(title) < TITLE_MIN:
        errors.add("title", f"Use at least {TITLE_MIN} characters to say what the idea is.")
    elif len(title) > TITLE_MAX:
        errors.add("title", f"Use at most {TITLE_MAX} characters; put the details in the description.")
    body = body.strip()
    if len(body) > BODY_MAX:
        errors.add("body", f"Use at most {BODY_MAX:,} characters.")
    return title, body


def parse_tags(raw: str | Iterable[str] | None, errors: Errors) -> list[str]:
    """Tags as slugs: from a comma-separated string or a list; at most five, short, unique."""
    if raw is None:
        return []
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    tags: list[str] = []
    for item in items:
        if not isinstance(item, str):
            errors.add("tags", "Tags must be text.")
            return []
        slug = slugify(item, TAG_MAX + 10)
        if not item.strip():
            continue
        if not slug or len(slug) > TAG_MAX:
            errors.add("tags", f"Each tag needs 1–{TAG_MAX} letters or digits.")
            return []
        if slug not in tags:
            tags.append(slug)
    if len(tags) > MAX_TAGS:
        errors.add("tags", f"Use at most {MAX_TAGS} tags.")
    return tags


async def _board_for_posting(actor: User | None, board: str | int | None, errors: Errors) -> Board | None:
    if board in (None, ""):
        errors.add("board", "Choose a board.")
        return None
    found = await (
        Board.get_or_none(id=int(board))
        if isinstance(board, int) or str(board).isdigit()
        else Board.get_or_none(slug=str(board))
    )
    if found is not None:
        await prepare_access(actor, [found])
    if found is None or not can_view_board(actor, found):
        errors.add("board", "There is no such board.")
        return None
    if found.archived_at is not None:
        errors.add("board", "This board is archived and takes no new ideas.")
        return None
    return found


async def _set_tags(idea: Idea, tags: list[str]) -> None:
    await IdeaTag.filter(idea=idea).delete()
    for slug in tags:
        tag = await Tag.get_or_none(slug=slug)
        if tag is None:
            try:
                async with in_transaction():
                    tag = await Tag.create(slug=slug, name=slug)
            except IntegrityError:
                tag = await Tag.get(slug=slug)
        await IdeaTag.create(idea=idea, tag=tag)


async def follow_quietly(idea_id: int, user_id: int) -> bool:
    """Follows if not following yet; True when a row was added. Safe inside a transaction."""
    try:
        async with in_transaction():  # a savepoint: a duplicate must not abort the outer transaction
            await Follow.create(idea_id=idea_id, user_id=user_id)
    except IntegrityError:
        return False
    return True


async def post_idea(
    *,
    actor: User | None,
    board: str | int | None,
    title: str,
    body: str,
    tags: str | Iterable[str] | None = None,
) -> Idea:
    permissions.require(actor, "idea.post")
    assert actor is not None
    errors = Errors()
    target = await _board_for_posting(actor, board, errors)
    title, body = _check_text(errors, title, body)
    tag_slugs = parse_tags(tags, errors)
    errors.raise_if_any()
    assert target is not None
    body_html = markup.render_markdown(body)
    at = now()
    async with in_transaction():
        idea = await Idea.create(
            board=target,
            author=actor,
            title=title,
            slug=slugify(title),
            body_md=body,
            body_html=body_html,
            status_id="open",
            tags_text=" ".join(tag_slugs),
            trending_score=ranking.weight("idea", at),
            last_activity_at=at,
            created_at=at,
        )
        await _set_tags(idea, tag_slugs)
        await follow_quietly(idea.id, actor.id)
        await notify_mentions(body, idea=idea, actor=actor, cause=f"idea:{idea.id}")
        await events.emit(IdeaPosted(idea_id=idea.id, author_id=actor.id, board_id=target.id))
    return idea


@cache
def _get_idea_sql(extra: str = "") -> str:
    idea = ", ".join(f"i.{c}" for c in sorted(Idea._meta.db_fields))
    author = ", ".join(f'u.{c} AS "author__{c}"' for c in sorted(User._meta.db_fields))
    return f"SELECT {idea}, {author}{extra} FROM ideas i JOIN users u ON u.id = i.author_id WHERE i.id = $1"  # noqa: S608


async def get_idea(idea_id: int) -> Idea:
    """The idea with its board, status and author loaded (one statement; board and status come
    from the catalogue, shared between requests: never modify them through the idea)."""
    return (await load_idea(idea_id))[0]


async def load_idea(idea_id: int, extra: str = "", *values: Any) -> tuple[Idea, dict[str, Any]]:
    """`get_idea`, plus in the same statement the `extra` columns (SQL over the idea `i`, such as
    `, (SELECT ...) AS name`, with placeholders from $2 for `values`), returned by name."""
    found = await sql.fetch(_get_idea_sql(extra), idea_id, *values)
    if not found:
        raise NotFound("There is no such idea.")
    columns, fields = found[0], Idea._meta.db_fields
    facts = {k: columns.pop(k) for k in list(columns) if k not in fields and not k.startswith("author__")}
    idea = sql.as_model(Idea, {k: v for k, v in columns.items() if not k.startswith("author__")})
    idea.author = sql.as_model(User, {k[8:]: v for k, v in columns.items() if k.startswith("author__")})
    idea.board, idea.status = await catalog.lookup(idea.board_id, idea.status_id)
    return idea, facts


async def visible_idea(actor: User | None, idea_id: int) -> Idea:
    """The idea, if `actor` may see it; 404 otherwise, so private ideas are not revealed."""
    idea = await get_idea(idea_id)
    await ensure_visible(actor, idea)
    return idea


async def ensure_visible(actor: User | None, idea: Idea) -> None:
    """404 unless `actor` may see the idea, so private ideas are not revealed."""
    await prepare_access(actor, [idea.board])
    if not can_view_board(actor, idea.board):
        raise NotFound("There is no such idea.")
    if idea.hidden_at is not None and not permissions.can(actor, "idea.moderate"):
        raise NotFound("There is no such idea.")


async def edit_idea(
    *, actor: User | None, idea_id: int, title: str, body: str, tags: str | Iterable[str] | None = None
) -> Idea:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.edit", idea)
    errors = Errors()
    title, body = _check_text(errors, title, body)
    tag_slugs = parse_tags(tags, errors)
    errors.raise_if_any()
    body_html = markup.render_markdown(body)
    async with in_transaction():
        await IdeaRevision.create(idea=idea, editor=actor, title=idea.title, body_md=idea.body_md)
        await Idea.filter(id=idea.id).update(
            title=title, slug=slugify(title), body_md=body, body_html=body_html, tags_text=" ".join(tag_slugs)
        )
        await _set_tags(idea, tag_slugs)
        if actor is not None and actor.id != idea.author_id:
            await audit.record(actor, "idea.edit", kind="idea", object_id=idea.id)
    return await get_idea(idea.id)


_PROMISE = re.compile(r"^(\d{4})-(?:(0[1-9]|1[0-2])|Q([1-4]))$")


def parse_promise(raw: str | None, errors: Errors) -> tuple[date | None, str]:
    """A promise as a month (2027-03) or a quarter (2027-Q1): the last day it covers, and its label."""
    raw = (raw or "").strip().upper()
    if not raw:
        return None, ""
    match = _PROMISE.match(raw)
    if match is None:
        errors.add("promise", "Give a month like 2027-03 or a quarter like 2027-Q1.")
        return None, ""
    year = int(match.group(1))
    last_month = int(match.group(2)) if match.group(2) else int(match.group(3)) * 3
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, last_month, last_day), raw


async def change_status(
    *, actor: User | None, idea_id: int, status: str, message: str = "", promise: str | None = None
) -> Idea:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.change_status", idea)
    assert actor is not None
    errors = Errors()
    new_status = await Status.get_or_none(key=(status or "").strip())
    message = (message or "").strip()
    if new_status is None:
        errors.add("status", "There is no such status.")
    elif new_status.key == idea.status_id:
        errors.add("status", f"The idea is already {new_status.name.lower()}.")
    if new_status is not None and new_status.key == "declined" and not message:
        errors.add("message", "Say why the idea is declined: the people who asked deserve a reason.")
    if len(message) > MESSAGE_MAX:
        errors.add("message", f"Use at most {MESSAGE_MAX:,} characters.")
    if idea.merged_into_id is not None:
        errors.add("status", "A merged idea follows its target; change the target's status.")
    promised_by, promise_label = parse_promise(promise, errors)
    if (
        promised_by is not None
        and new_status is not None
        and new_status.key not in ("planned", "in_progress")
    ):
        errors.add("promise", "Promise a date when planning an idea.")
    elif promised_by is not None and promised_by < now().date():
        errors.add("promise", "A promise lies in the future.")
    errors.raise_if_any()
    assert new_status is not None
    at = now()
    async with in_transaction():
        # Lock the row: two staff moving the same idea at once record two clean steps.
        locked = await Idea.filter(id=idea.id).select_for_update().first()
        assert locked is not None
        from_status = locked.status_id
        change = await StatusChange.create(
            idea_id=idea.id,
            actor=actor,
            from_status=from_status,
            to_status=new_status.key,
            message_md=message,
            message_html=markup.render_markdown(message) if message else "",
            created_at=at,
        )
        updates: dict = {"status_id": new_status.key, "last_activity_at": at}
        if locked.first_response_at is None:
            updates["first_response_at"] = at
        if locked.decided_at is None and new_status.key not in OPEN_STATUSES:
            updates["decided_at"] = at
        if promised_by is not None:
            updates["promised_by"], updates["promise_label"] = promised_by, promise_label
        await Idea.filter(id=idea.id).update(**updates)
        await notifications.notify(
            await readers_among(await follower_ids(idea.id), idea),
            kind="status_changed",
            title=f"“{idea.title}” is now {new_status.name}",
            body=message,
            url=idea_url(idea),
            cause=f"status:{change.id}",
            exclude=[actor.id],
        )
        await audit.record(
            actor, "idea.status", kind="idea", object_id=idea.id, status=new_status.key, previous=from_status
        )
        await events.emit(
            IdeaStatusChanged(
                idea_id=idea.id,
                change_id=change.id,
                actor_id=actor.id,
                from_status=from_status,
                to_status=new_status.key,
            )
        )
    return await get_idea(idea.id)


async def follower_ids(idea_id: int) -> list[int]:
    return list(await Follow.filter(idea_id=idea_id).values_list("user_id", flat=True))


async def follow(*, actor: User | None, idea_id: int) -> bool:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.follow", idea)
    assert actor is not None
    return await follow_quietly(idea.id, actor.id)


async def unfollow(*, actor: User | None, idea_id: int) -> bool:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.follow", idea)
    assert actor is not None
    return await Follow.filter(idea_id=idea.id, user_id=actor.id).delete() > 0


async def is_following(user: User | None, idea_id: int) -> bool:
    return user is not None and await Follow.exists(idea_id=idea_id, user_id=user.id)


async def public_ideas(idea_ids: Iterable[int]) -> set[int]:
    """Which of these ideas everyone may see (a public board, not hidden)."""
    ids = set(idea_ids)
    if not ids:
        return set()
    found = Idea.filter(id__in=ids, hidden_at=None, board__visibility="public").values_list("id", flat=True)
    return set(await found)


async def counted_publicly(comments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The comments an idea's public count includes: not internal, and written on an idea everyone
    may see (a comment moved by a merge keeps the visibility of the idea it was written on)."""
    public = await public_ideas(c["merged_from_id"] for c in comments if c["merged_from_id"] is not None)
    return [
        c
        for c in comments
        if not c["internal"] and (c["merged_from_id"] is None or c["merged_from_id"] in public)
    ]


def _seen_as_widely(source: Idea, target: Idea) -> bool:
    """Whether everyone who may see `source` may see `target` too, which a merge needs: the
    source's followers, voters and comments move to the target, and news of it reaches them."""
    if target.hidden_at is not None and source.hidden_at is None:
        return False
    return (
        target.board_id == source.board_id
        or target.board.visibility == "public"
        or source.board.visibility == "private"
    )


async def merge(*, actor: User | None, idea_id: int, into: int | str | None) -> Idea:
    """Merges a duplicate into a target: followers and comments move, votes move (voting listens)."""
    source = await visible_idea(actor, idea_id)
    permissions.require(actor, "idea.merge", source)
    assert actor is not None
    errors = Errors()
    target: Idea | None = None
    try:
        target_id = int(into)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        errors.add("into", "Give the number of the idea to merge into.")
    else:
        if target_id == source.id:
            errors.add("into", "An idea cannot be merged into itself.")
        else:
            try:
                target = await visible_idea(actor, target_id)
            except NotFound:
                errors.add("into", "There is no such idea.")
    if source.merged_into_id is not None:
        errors.add("into", "This idea is merged already.")
    if target is not None and target.merged_into_id is not None:
        errors.add("into", f"Idea #{target.id} is itself merged; merge into #{target.merged_into_id}.")
    elif target is not None and not _seen_as_widely(source, target):
        errors.add(
            "into",
            f"Idea #{target.id} is seen by fewer people than this one: its followers and voters would"
            " follow an idea they cannot see. Merge into an idea on the same board or a public one.",
        )
    errors.raise_if_any()
    assert target is not None
    at = now()
    async with in_transaction():
        changed = await Idea.filter(id=source.id, merged_into_id=None).update(merged_into_id=target.id)
        if not changed:
            raise Conflict("This idea was merged a moment ago.")
        source_followers = await follower_ids(source.id)
        for user_id in source_followers:
            await follow_quietly(target.id, user_id)
        # A comment keeps the idea it was written on through any chain of merges: it shows only to
        # readers who may see that idea (`queries.visible_comments`), and counts only if everyone may.
        moving = await Comment.filter(idea_id=source.id).values("merged_from_id", "internal", "hidden_at")
        await Comment.filter(idea_id=source.id, merged_from_id=None).update(merged_from_id=source.id)
        moved = await Comment.filter(idea_id=source.id).update(idea_id=target.id)
        moved_public = len(
            await counted_publicly(
                [
                    c | {"merged_from_id": c["merged_from_id"] or source.id}
                    for c in moving
                    if c["hidden_at"] is None
                ]
            )
        )
        await Idea.filter(id=target.id).update(
            comment_count=F("comment_count") + moved_public, last_activity_at=at
        )
        await Idea.filter(id=source.id).update(comment_count=0)
        await notifications.notify(
            await readers_among(source_followers, target),
            kind="idea_merged",
            title=f"“{source.title}” was merged into “{target.title}”",
            body="Your vote and comments now count on the combined idea.",
            url=idea_url(target),
            cause=f"merge:{source.id}",
            exclude=[actor.id],
        )
        await audit.record(
            actor, "idea.merge", kind="idea", object_id=source.id, into=target.id, comments=moved
        )
        await events.emit(IdeaMerged(source_id=source.id, target_id=target.id, actor_id=actor.id))
    return await get_idea(target.id)


async def notify_mentions(text: str, *, idea: Idea, actor: User, cause: str) -> int:
    """Tells people named as @handle (their name without spaces, any letter case).

    Only people taking part in the idea (author, followers, commenters) and staff can be named, as
    on GitHub: it keeps the lookup small, and strangers cannot be summoned into a thread.
    """
    handles = markup.mentions(text)
    if not handles:
        return 0
    involved = {idea.author_id, *await follower_ids(idea.id)}
    involved.update(await Comment.filter(idea_id=idea.id).values_list("author_id", flat=True))
    candidates = await User.filter(
        Q(id__in=involved) | Q(role__in=sorted(STAFF_ROLES)), banned_at=None
    ).values("id", "name")
    wanted = set(handles)
    ids = [c["id"] for c in candidates if handle_of(c["name"]) in wanted]
    return await notifications.notify(
        await readers_among(ids, idea),
        kind="mention",
        title=f"{actor.name} mentioned you on “{idea.title}”",
        url=idea_url(idea),
        cause=f"mention:{cause}",
        exclude=[actor.id],
    )


def handle_of(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "", name).lower()


def idea_url(idea: Idea) -> str:
    return f"/ideas/{idea.id}-{idea.slug}" if idea.slug else f"/ideas/{idea.id}"
