"""The public leaderboard: the members who earned the most, over 30 days or all time.

Only members take part: staff (and community managers, admins) are left out, and so are banned
members and those who opted out. All time ranks by lifetime points (earned and granted, net of
reversals); 30 days sums the same kinds of ledger entries in the window, in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum

from portal import permissions
from portal.models import User
from rewards import ledger
from rewards.models import MemberPoints, PointEntry
from rewards.tiers import all_tiers

PERIODS = {"30d": timedelta(days=30), "all": None}
SIZE = 50


def parse_period(raw: str | None) -> str:
    return raw if raw in PERIODS else "30d"


async def top(period: str = "30d", *, limit: int = SIZE) -> list[dict[str, Any]]:
    """Rows of {rank, user_id, name, points, tier (name)}, best first; ties share the order of ids."""
    window = PERIODS[parse_period(period)]
    if window is None:
        rows = await (
            MemberPoints.filter(
                lifetime__gt=0, leaderboard_opt_out=False, user__role="member", user__banned_at=None
            )
            .order_by("-lifetime", "user_id")
            .limit(limit)
            .values("user_id", "tier", name="user__name", points="lifetime")
        )
    else:
        rows = await _window(datetime.now(UTC) - window, limit)
    names = {t.key: t.name for t in await all_tiers()}
    return [
        {**row, "rank": n, "tier": names.get(row["tier"], row["tier"])} for n, row in enumerate(rows, start=1)
    ]


async def _window(since: datetime, limit: int) -> list[dict[str, Any]]:
    opted_out = MemberPoints.filter(leaderboard_opt_out=True).values("user_id")
    rows = await (
        PointEntry.filter(
            Q(kind__in=ledger.LIFETIME_KINDS) | Q(kind="reversal", reverses__kind__in=ledger.LIFETIME_KINDS),
            created_at__gte=since,
            user__role="member",
            user__banned_at=None,
        )
        .filter(user_id__not_in=Subquery(opted_out))
        .annotate(points=Sum("delta"))
        .group_by("user_id", "user__name")
        .filter(points__gt=0)
        .order_by("-points", "user_id")
        .limit(limit)
        .values("user_id", "points", name="user__name")
    )
    tiers = dict(
        await MemberPoints.filter(user_id__in=[r["user_id"] for r in rows]).values_list("user_id", "tier")
    )
    return [{**r, "tier": tiers.get(r["user_id"], "member")} for r in rows]


async def opted_out(user: User | None) -> bool:
    if user is None:
        return False
    found = await MemberPoints.filter(user_id=user.id).values_list("leaderboard_opt_out", flat=True)
    return bool(found and found[0])


async def set_opt_out(*, actor: User | None, opt_out: bool) -> bool:
    """Leaves (or rejoins) the public leaderboard; returns the new choice."""
    permissions.require(actor, "account.view")
    assert actor is not None
    await ledger.account(actor.id)
    await MemberPoints.filter(user_id=actor.id).update(leaderboard_opt_out=opt_out)
    return opt_out
