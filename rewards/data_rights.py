"""What rewards holds about a member, for their download, and what changes when they leave.

The points ledger is append-only and stays (it explains other members' totals too); a deleted member
is taken off the leaderboard. Claims stay, with their codes, so a code is never given twice.
"""

from __future__ import annotations

from typing import Any

from portal import data_rights
from portal.models import User
from rewards import ledger
from rewards.models import Claim, MemberPoints, PointEntry


async def export_points(user: User) -> dict[str, Any]:
    totals = await MemberPoints.filter(user_id=user.id).values(
        "balance", "lifetime", "tier", "leaderboard_opt_out"
    )
    entries = await (
        PointEntry.filter(user_id=user.id)
        .order_by("id")
        .values("id", "delta", "kind", "rule", "reason", "source_kind", "source_id", "created_at")
    )
    return {**(totals[0] if totals else {"balance": 0, "lifetime": 0, "tier": "member"}), "entries": entries}


async def export_claims(user: User) -> list[dict[str, Any]]:
    return await (
        Claim.filter(user_id=user.id)
        .order_by("id")
        .values("id", "perk_id", "perk__title", "perk__kind", "status", "code", "points_spent", "created_at")
    )


async def erase(user: User) -> None:
    await ledger.account(user.id)
    await MemberPoints.filter(user_id=user.id).update(leaderboard_opt_out=True)


def install() -> None:
    data_rights.register_exporter("points", export_points)
    data_rights.register_exporter("claims", export_claims)
    data_rights.register_eraser(erase)
