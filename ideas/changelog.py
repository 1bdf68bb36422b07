"""The changelog: staff announce what shipped, linking the ideas it answers, and their people hear."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from ideas import extensions
from ideas.models import Board, ChangelogEntry, ChangelogIdea, Idea
from ideas.policy import can_view_board, check_min_tier, prepare_access
from ideas.service import follower_ids, idea_url
from ideas.visibility import visible_boards
from portal import audit, markup, notifications, permissions
from portal.errors import Errors, NotFound
from portal.models import User

PAGE = 20


def entry_visible(user: User | None, entry: ChangelogEntry) -> bool:
    """Published entries for everyone; insider previews from their tier up (as insider boards)."""
    if entry.published_at is None:
        return permissions.can(user, "changelog.write")
    if entry.min_tier is None:
        return True
    preview = SimpleNamespace(id=-1, visibility="insiders", min_tier=entry.min_tier, archived_at=None)
    return can_view_board(user, preview)  # type: ignore[arg-type]


def _parse_ids(raw: Any, errors: Errors) -> list[int]:
    if raw in (None, ""):
        return []
    items = raw if isinstance(raw, list) else str(raw).replace(",", " ").split()
    ids: list[int] = []
    for item in items:
        try:
            value = int(str(item).lstrip("#"))
        except ValueError:
            errors.add("ideas", "List idea numbers separated by commas, like 12, 40.")
            return []
        if value not in ids:
            ids.append(value)
    return ids


async def create_entry(
    *,
    actor: User | None,
    title: str,
    body: str,
    idea_ids: Any = None,
    min_tier: str | None = None,
    publish: bool = True,
) -> ChangelogEntry:
    permissions.require(actor, "changelog.write")
    assert actor is not None
    errors = Errors()
    title = " ".join((title or "").split())
    if not 3 <= len(title) <= 140:
        errors.add("title", "Use 3 to 140 characters.")
    body = (body or "").strip()
    if len(body) > 20_000:
        errors.add("body", "Use at most 20,000 characters.")
    tier = await check_min_tier(errors, min_tier)
    ids = _parse_ids(idea_ids, errors)
    found = {i.id: i for i in await Idea.filter(id__in=ids)} if ids else {}
    missing = [i for i in ids if i not in found]
    if missing:
        errors.add("ideas", f"There is no idea #{missing[0]}.")
    errors.raise_if_any()
    async with in_transaction():
        entry = await ChangelogEntry.create(
            title=title,
            body_md=body,
            body_html=markup.render_markdown(body),
            author=actor,
            min_tier=tier,
            published_at=datetime.now(UTC) if publish else None,
        )
        for idea_id in ids:
            await ChangelogIdea.create(entry=entry, idea_id=idea_id)
        await audit.record(actor, "changelog.create", kind="changelog", object_id=entry.id, ideas=ids)
        if publish:
            await _tell_audience(entry, list(found.values()))
    return entry


async def _tell_audience(entry: ChangelogEntry, ideas: list[Idea]) -> None:
    """Voters and followers of the linked ideas hear about the entry, once each."""
    people: set[int] = set()
    for idea in ideas:
        people.update(await follower_ids(idea.id))
    for provider in extensions.audience_providers:
        people.update(await provider([i.id for i in ideas]))
    if entry.min_tier is not None:
        # An insider preview reaches only those who may read it.
        readers = set()
        for user in await User.filter(id__in=people):
            await prepare_access(user)
            if entry_visible(user, entry):
                readers.add(user.id)
        people = readers
    if not people:
        return
    # Everyone told hears the titles that everyone may read, never a private or insider idea's.
    public = set(
        await Board.filter(id__in={i.board_id for i in ideas}, visibility="public").values_list(
            "id", flat=True
        )
    )
    shown = [i for i in ideas if i.board_id in public and i.hidden_at is None]
    await notifications.notify(
        people,
        kind="changelog",
        title=f"Shipped: {entry.title}",
        body=", ".join(f"“{i.title}”" for i in shown[:5]),
        url=f"/changelog/{entry.id}",
        cause=f"changelog:{entry.id}",
        exclude=[entry.author_id] if entry.author_id else [],
    )


async def entries_for(
    user: User | None, *, before: int | None = None, limit: int = PAGE
) -> list[dict[str, Any]]:
    """Published entries the reader may see, newest first, each with the visible ideas it links."""
    await prepare_access(user)
    query = ChangelogEntry.filter(published_at__not_isnull=True).order_by("-published_at", "-id")
    if before is not None:
        # Keyset on (published_at, id), the order of the page: an id alone skips or repeats entries
        # whenever publication order differs from creation order.
        anchor = await ChangelogEntry.get_or_none(id=before)
        if anchor is None or anchor.published_at is None:
            return []
        query = query.filter(
            Q(published_at__lt=anchor.published_at) | Q(published_at=anchor.published_at, id__lt=anchor.id)
        )
    rows: list[ChangelogEntry] = []
    # Insider previews the reader may not see are skipped; read on until the page is full.
    while len(rows) < limit:
        batch = await query.limit(limit * 3)
        if not batch:
            break
        rows.extend(e for e in batch if entry_visible(user, e))
        last = batch[-1]
        query = query.filter(
            Q(published_at__lt=last.published_at) | Q(published_at=last.published_at, id__lt=last.id)
        )
    return await _with_ideas(user, rows[:limit])


async def entry_for(user: User | None, entry_id: int) -> dict[str, Any]:
    await prepare_access(user)
    entry = await ChangelogEntry.get_or_none(id=entry_id)
    if entry is None or not entry_visible(user, entry):
        raise NotFound("There is no such changelog entry.")
    return (await _with_ideas(user, [entry]))[0]


async def _with_ideas(user: User | None, entries: list[ChangelogEntry]) -> list[dict[str, Any]]:
    if not entries:
        return []
    board_ids = [b.id for b in await visible_boards(user)]
    links = await ChangelogIdea.filter(
        entry_id__in=[e.id for e in entries],
        idea__board_id__in=board_ids,
        idea__hidden_at=None,
    ).values("entry_id", "idea_id", "idea__title", "idea__slug")
    by_entry: dict[int, list[dict[str, Any]]] = {}
    for link in links:
        url = idea_url(SimpleNamespace(id=link["idea_id"], slug=link["idea__slug"]))  # type: ignore[arg-type]
        by_entry.setdefault(link["entry_id"], []).append(
            {"id": link["idea_id"], "title": link["idea__title"], "url": url}
        )
    return [{"entry": e, "ideas": by_entry.get(e.id, [])} for e in entries]
