"""What voting holds about a member, for their download, and how their votes go when they leave.

A deleted account's votes are removed one by one through the same path as "remove my vote", so the
counters, trending scores and points of idea authors stay exact.
"""

from __future__ import annotations

from typing import Any

from portal import data_rights
from portal.models import User
from voting import service
from voting.models import Vote


async def export_votes(user: User) -> list[dict[str, Any]]:
    rows = await (
        Vote.filter(user_id=user.id)
        .order_by("id")
        .values("idea_id", "idea__title", "priority", "on_behalf_by_id", "source_note", "created_at")
    )
    for row in rows:
        row["on_behalf"] = row.pop("on_behalf_by_id") is not None
    return rows


async def erase(user: User) -> None:
    votes = await Vote.filter(user_id=user.id).order_by("id").values("idea_id", "idea__author_id")
    for vote in votes:
        # The one path that takes a vote back (row, counter, trending score, VoteRemoved), without
        # `remove_vote`'s visibility check: the member may no longer see every idea they voted on.
        await service._delete_vote(
            idea_id=vote["idea_id"], user_id=user.id, author_id=vote["idea__author_id"]
        )


def install() -> None:
    data_rights.register_exporter("votes", export_votes)
    data_rights.register_eraser(erase)
