"""Boards and statuses: read on every page, changed a few times a year, so kept in memory.

The copy is a shared cache (see `portal.cache`): any change to a board or a status, made by a
service or anywhere else through the models, invalidates it in every server process when it
commits. Bulk changes (`Board.filter(...).update(...)`) bypass the models' signals and must call
`changed()` themselves, inside their transaction.
"""

from __future__ import annotations

from typing import Any

from tortoise.signals import post_delete, post_save

from ideas.models import Board, Status
from portal.cache import TTLCache

# A backstop only: changes invalidate the copy at once.
_catalog = TTLCache(300, name="ideas.catalog")


async def boards() -> list[Board]:
    """Every board, in display order. Shared between requests: never modify what this returns."""
    return await _catalog.get_or_compute("boards", lambda: Board.all())  # type: ignore[return-value]


async def statuses() -> list[Status]:
    """Every status, in display order. Shared between requests: never modify what this returns."""
    return await _catalog.get_or_compute("statuses", lambda: Status.all())  # type: ignore[return-value]


async def status_keys() -> frozenset[str]:
    return frozenset((await status_map()).keys())


async def board_map() -> dict[int, Board]:
    return await _catalog.get_or_compute("board_map", _board_map)  # type: ignore[no-any-return]


async def status_map() -> dict[str, Status]:
    return await _catalog.get_or_compute("status_map", _status_map)  # type: ignore[no-any-return]


async def name_statuses(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Gives each status change its statuses' names as they are called now (`from_name`,
    `to_name`): a change records keys, and a status an admin renamed shows its new name."""
    statuses = await status_map()

    def name(key: str | None) -> str:
        if key is None:
            return "new"
        return statuses[key].name if key in statuses else key.replace("_", " ")

    for change in changes:
        change["from_name"], change["to_name"] = name(change["from_status"]), name(change["to_status"])
    return changes


async def maps() -> tuple[dict[int, Board], dict[str, Status]]:
    """The current maps themselves: a new pair after every change, so markup drawn from the
    catalogue can be kept with the pair it read and trusted while the pair is the current one."""
    return await board_map(), await status_map()


async def maps_covering(
    board_ids: set[int], status_keys: set[str]
) -> tuple[dict[int, Board], dict[str, Status]]:
    """Boards by id and statuses by key, holding these. Reloaded once if one is missing: it was
    made a moment ago in another process, before its notice arrived here."""
    boards, statuses = await board_map(), await status_map()
    if not (board_ids <= boards.keys() and status_keys <= statuses.keys()):
        _catalog.clear()  # only this process is behind
        boards, statuses = await board_map(), await status_map()
    return boards, statuses


async def lookup(board_id: int, status_key: str) -> tuple[Board, Status]:
    boards, statuses = await maps_covering({board_id}, {status_key})
    return boards[board_id], statuses[status_key]


async def _board_map() -> dict[int, Board]:
    return {b.id: b for b in await boards()}


async def _status_map() -> dict[str, Status]:
    return {s.key: s for s in await statuses()}


async def changed() -> None:
    await _catalog.invalidate()


@post_save(Board, Status)
async def _saved(_sender: Any, _instance: Any, _created: bool, _using_db: Any, _fields: Any) -> None:
    await changed()


@post_delete(Board, Status)
async def _deleted(_sender: Any, _instance: Any, _using_db: Any) -> None:
    await changed()
