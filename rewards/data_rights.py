"""What rewards holds about a member, for their download, and what changes when they leave.

The points ledger is append-only and stays (it explains other members' totals too); a deleted member
is taken off the leaderboard and leaves the programs it was in or waiting for. Claims stay, with
their codes, so a code is never given twice (the download shows a code only while it is held).
"""

from __future__ import annotations

from typing import Any

from portal import data_rights
from portal.models import User
from rewards import ledger, perks
from rewards.models import LIVE_CLAIM_STATES, Claim, MemberPoints, PointEntry


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
    claims = await (
        Claim.filter(user_id=user.id)
        .order_by("id")
        .values("id", "perk_id", "perk__title", "perk__kind", "status", "code", "points_spent", "created_at")
    )
    for claim in claims:
        if claim["status"] != "claimed":
            # A code revoked back into the pool may be someone else's now: only a held code is theirs.
            claim["code"] = None
    return claims


async def erase(user: User) -> None:
    await ledger.account(user.id)
    await MemberPoints.filter(user_id=user.id).update(leaderboard_opt_out=True)
    # A deleted member's seats in programs (and places on their waitlists) go to those waiting.
    programs = await Claim.filter(
        user_id=user.id, perk__kind="early_access", status__in=LIVE_CLAIM_STATES
    ).values_list("perk_id", flat=True)
    for perk_id in sorted(set(programs)):
        await perks.leave_program(actor=user, perk_id=perk_id)


def install() -> None:
    data_rights.register_exporter("points", export_points)
    data_rights.register_exporter("claims", export_claims)
    data_rights.register_eraser(erase)
