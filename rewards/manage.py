"""What community managers do by a member's e-mail address: grant points, set a tier.

The pages name members by e-mail; these find the member and call the ledger or the tiers, so
that every field is checked and reported at once.
"""

from __future__ import annotations

from typing import Any

from portal import accounts, permissions
from portal.errors import Errors
from portal.models import User
from rewards import ledger, tiers
from rewards.models import MemberPoints, PointEntry, TierChange


async def _member(errors: Errors, email: str) -> User | None:
    address = accounts.normalize_email(email)
    if not address:
        errors.add("email", "Give the member's e-mail address.")
        return None
    user = await User.get_or_none(email=address)
    if user is None:
        errors.add("email", f"Nobody has the address {address}.")
    return user


def _points(errors: Errors, raw: Any) -> int:
    try:
        points = int(str(raw).strip())
    except ValueError:
        errors.add("points", "Give a whole number of points, e.g. 50 or -20.")
        return 0
    if points == 0 or abs(points) > 1_000_000:
        errors.add("points", "Give a number from -1,000,000 to 1,000,000, other than 0.")
    return points


async def grant_points(*, actor: User | None, email: str, points: Any, reason: str) -> PointEntry:
    """A manual grant (or, with negative points, a deduction), shown to the member with its reason."""
    permissions.require(actor, "rewards.manage")
    errors = Errors()
    user = await _member(errors, email)
    amount = _points(errors, points)
    if not reason.strip():
        errors.add("reason", "Give a reason; the member sees it in their history.")
    errors.raise_if_any()
    assert user is not None
    return await ledger.grant(actor=actor, user_id=user.id, points=amount, reason=reason.strip())


async def set_tier(*, actor: User | None, email: str, tier: str, lock: bool, reason: str) -> MemberPoints:
    """Grants, locks or revokes a member's tier (see `tiers.set_member_tier`)."""
    permissions.require(actor, "rewards.manage")
    errors = Errors()
    user = await _member(errors, email)
    if not reason.strip():
        errors.add("reason", "Give a reason; it is kept with the change.")
    errors.raise_if_any()
    assert user is not None
    return await tiers.set_member_tier(actor=actor, user_id=user.id, tier=tier, lock=lock, reason=reason)


async def recent_grants(limit: int = 20) -> list[dict[str, Any]]:
    return await (
        PointEntry.filter(kind="grant")
        .order_by("-id")
        .limit(limit)
        .values("id", "delta", "reason", "created_at", "user_id", "user__name", "user__email", "actor__name")
    )


async def recent_tier_changes(limit: int = 20) -> list[dict[str, Any]]:
    return await (
        TierChange.all()
        .order_by("-id")
        .limit(limit)
        .values("id", "from_tier", "to_tier", "cause", "created_at", "user__name", "user__email")
    )
