"""Boards and statuses: created and arranged by administrators."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ideas import catalog
from ideas.models import VISIBILITIES, Board, Status
from ideas.policy import DEFAULT_TIER, check_min_tier
from portal import audit, permissions
from portal.errors import Errors, Invalid, NotFound
from portal.models import User

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
# WCAG 2 AA for normal text: a status badge's white label on its colour.
MIN_BADGE_CONTRAST = 4.5


def contrast_with_white(color: str) -> float:
    """The WCAG contrast ratio of white text on `color` (#rrggbb), from 1 to 21."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
    return 1.05 / (luminance + 0.05)


def _check_board(
    errors: Errors,
    *,
    slug: str,
    name: str,
    visibility: str,
    response_target_hours: int | str | None,
) -> dict:
    slug = slug.strip().lower()
    name = " ".join(name.split())
    if not _SLUG.match(slug) or len(slug) > 60:
        errors.add("slug", "Use 1–60 lower-case letters, digits and single hyphens, like mobile-app.")
    if not name or len(name) > 80:
        errors.add("name", "Enter a name of 1–80 characters.")
    if visibility not in VISIBILITIES:
        errors.add("visibility", f"Choose one of {', '.join(VISIBILITIES)}.")
    hours = 72
    if response_target_hours not in (None, ""):
        try:
            hours = int(response_target_hours)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            hours = -1
        if not 1 <= hours <= 24 * 365:
            errors.add("response_target_hours", "Enter a whole number of hours from 1 to 8760.")
    return {
        "slug": slug,
        "name": name,
        "visibility": visibility,
        "min_tier": None,  # set by the caller for an insider board (`check_min_tier`)
        "response_target_hours": hours,
    }


async def create_board(
    *,
    actor: User,
    slug: str,
    name: str,
    visibility: str = "public",
    description: str = "",
    min_tier: str | None = None,
    response_target_hours: int | str | None = None,
) -> Board:
    permissions.require(actor, "board.manage")
    errors = Errors()
    values = _check_board(
        errors,
        slug=slug,
        name=name,
        visibility=visibility,
        response_target_hours=response_target_hours,
    )
    if values["visibility"] == "insiders":
        values["min_tier"] = await check_min_tier(errors, min_tier, default=DEFAULT_TIER)
    errors.raise_if_any()
    try:
        async with in_transaction():
            position = await Board.all().count()
            board = await Board.create(**values, description=description.strip()[:2000], position=position)
            await audit.record(actor, "board.create", kind="board", object_id=board.id, slug=board.slug)
    except IntegrityError:
        raise Invalid({"slug": "A board with this slug exists already."}) from None
    return board


async def update_board(
    *,
    actor: User,
    board_id: int,
    slug: str,
    name: str,
    visibility: str,
    description: str = "",
    min_tier: str | None = None,
    response_target_hours: int | str | None = None,
) -> Board:
    permissions.require(actor, "board.manage")
    board = await Board.get_or_none(id=board_id)
    if board is None:
        raise NotFound("No such board.")
    errors = Errors()
    values = _check_board(
        errors,
        slug=slug,
        name=name,
        visibility=visibility,
        response_target_hours=response_target_hours,
    )
    if values["visibility"] == "insiders":
        values["min_tier"] = await check_min_tier(errors, min_tier, default=DEFAULT_TIER)
    errors.raise_if_any()
    try:
        async with in_transaction():
            await Board.filter(id=board_id).update(**values, description=description.strip()[:2000])
            await catalog.changed()
            await audit.record(actor, "board.update", kind="board", object_id=board_id, **values)
    except IntegrityError:
        raise Invalid({"slug": "A board with this slug exists already."}) from None
    return await Board.get(id=board_id)


async def set_board_archived(*, actor: User, board_id: int, archived: bool) -> Board:
    permissions.require(actor, "board.manage")
    async with in_transaction():
        changed = await Board.filter(id=board_id).update(archived_at=datetime.now(UTC) if archived else None)
        if not changed:
            raise NotFound("No such board.")
        await catalog.changed()
        await audit.record(
            actor, "board.archive" if archived else "board.unarchive", kind="board", object_id=board_id
        )
    return await Board.get(id=board_id)


async def statuses() -> list[Status]:
    return await Status.all()


async def save_status(
    *,
    actor: User,
    key: str,
    name: str,
    color: str,
    is_closed: bool,
    position: int | str | None = None,
    new: bool = False,
) -> Status:
    """Adds a status or renames/recolours/moves one; its key never changes once made.

    `new` says the caller means to add: then an existing key is an error rather than an edit.
    """
    permissions.require(actor, "status.manage")
    errors = Errors()
    key = key.strip().lower()
    name = " ".join(name.split())
    if not re.match(r"^[a-z][a-z0-9_]{0,29}$", key):
        errors.add("key", "Use 1–30 lower-case letters, digits and underscores, starting with a letter.")
    if not name or len(name) > 40:
        errors.add("name", "Enter a name of 1–40 characters.")
    if not _COLOR.match(color):
        errors.add("color", "Use a colour like #3046c8.")
    elif (contrast := contrast_with_white(color)) < MIN_BADGE_CONTRAST:
        errors.add(
            "color",
            f"Choose a darker colour: status badges have white text, and on {color} it has a contrast"
            f" of {contrast:.1f}:1, below the {MIN_BADGE_CONTRAST}:1 that people need to read it.",
        )
    if isinstance(position, str):
        position = position.strip() or None
        try:
            position = int(position) if position is not None else None
        except ValueError:
            position = -1
    if position is not None and not 0 <= position <= 1000:
        errors.add("position", "Enter a whole number from 0 to 1000.")
    errors.raise_if_any()
    async with in_transaction():
        status = await Status.get_or_none(key=key)
        if status is not None and new:
            raise Invalid({"key": "A status with this key exists already."})
        if status is None:
            status = await Status.create(
                key=key,
                name=name,
                color=color,
                is_closed=is_closed,
                position=position if position is not None else await Status.all().count(),
            )
        else:
            status.name, status.color, status.is_closed = name, color, is_closed
            if position is not None:
                status.position = position
            await status.save()
        await audit.record(actor, "status.save", kind="status", key=key, name=name)
    return status
