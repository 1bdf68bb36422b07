"""Tiers by lifetime points: promotion as points arrive, careful demotion when thresholds change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from tortoise.transactions import in_transaction

from portal import audit, notifications, permissions
from portal.cache import TTLCache
from portal.errors import Errors, Invalid, NotFound
from portal.models import User
from rewards.models import MemberPoints, Perk, Tier, TierChange

# When thresholds rise, a member keeps their tier until they fall below 90% of the new threshold,
# and never loses it within 14 days of being promoted: nobody is demoted by a settings change alone.
DEMOTION_MARGIN = 0.9
DEMOTION_GRACE = timedelta(days=14)


def now() -> datetime:
    return datetime.now(UTC)


_tiers = TTLCache(10)


async def all_tiers() -> list[Tier]:
    """The tiers in order; read by every award, so kept for ten seconds (cleared on change)."""
    tiers = _tiers.get("all")
    if tiers is None:
        tiers = await Tier.all().order_by("position")
        _tiers.put("all", tiers)
    return list(tiers)


def rank(tiers: list[Tier], key: str | None) -> int:
    for i, tier in enumerate(tiers):
        if tier.key == key:
            return i
    return -1


def earned_tier(tiers: list[Tier], lifetime: int) -> Tier:
    best = tiers[0]
    for tier in tiers:
        if lifetime >= tier.threshold:
            best = tier
    return best


async def _change(
    mp: MemberPoints, tiers: list[Tier], to: Tier, *, cause: str, actor_id: int | None, promoted: bool
) -> TierChange:
    previous = mp.tier
    updates: dict[str, Any] = {"tier": to.key}
    if promoted:
        updates["promoted_at"] = now()
    await MemberPoints.filter(user_id=mp.user_id).update(**updates)
    change = await TierChange.create(
        user_id=mp.user_id, from_tier=previous, to_tier=to.key, cause=cause[:300], actor_id=actor_id
    )
    if promoted:
        await notifications.notify(
            [mp.user_id],
            kind="tier_reached",
            title=f"You are now {to.name}!",
            body=f"You reached the {to.name} tier. See what is open to you on the insiders page.",
            url="/insiders",
            cause=f"tier:{change.id}",
        )
        await _tell_about_new_perks(mp.user_id, tiers, previous, to)
    return change


async def _tell_about_new_perks(user_id: int, tiers: list[Tier], previous: str, to: Tier) -> None:
    """A promotion opens perks gated between the old and the new tier: say which."""
    opened = [t.key for t in tiers if rank(tiers, previous) < rank(tiers, t.key) <= rank(tiers, to.key)]
    perks = await Perk.filter(archived_at=None, min_tier__in=opened).values("id", "title")
    for perk in perks:
        await notifications.notify(
            [user_id],
            kind="perk_open",
            title=f"New for you: {perk['title']}",
            url=f"/insiders/perks/{perk['id']}",
            cause=f"perk_open:{perk['id']}",
        )


async def promote_if_due(
    user_id: int, *, cause: str, actor_id: int | None = None, totals: dict[str, Any] | None = None
) -> None:
    """Raises the member's tier when lifetime points passed a threshold (never lowers it).

    `totals` is the member's `lifetime`, `tier` and `tier_locked` as just written (the ledger's
    update returns them), which saves reading them again; without it they are read.
    """
    if totals is None:
        mp = await MemberPoints.get(user_id=user_id)
        totals = {"lifetime": mp.lifetime, "tier": mp.tier, "tier_locked": mp.tier_locked}
    if totals["tier_locked"]:
        return
    tiers = await all_tiers()
    target = earned_tier(tiers, totals["lifetime"])
    if rank(tiers, target.key) > rank(tiers, totals["tier"]):
        current = MemberPoints(user_id=user_id, tier=totals["tier"])
        await _change(current, tiers, target, cause=cause, actor_id=actor_id, promoted=True)


async def tier_of(user: User | None) -> str | None:
    if user is None:
        return None
    row = await MemberPoints.get_or_none(user_id=user.id).values_list("tier", flat=True)
    return row or "member"  # type: ignore[return-value]


async def set_thresholds(*, actor: User | None, thresholds: dict[str, Any]) -> list[TierChange]:
    """Changes thresholds, then re-evaluates every member with the demotion safeguards above.

    Returns the tier changes this call made (not earlier ones).
    """
    permissions.require(actor, "rewards.manage")
    tiers = await all_tiers()
    errors = Errors()
    values: dict[str, int] = {}
    for tier in tiers:
        raw = thresholds.get(tier.key, tier.threshold)
        try:
            values[tier.key] = int(raw)
        except (TypeError, ValueError):
            errors.add(tier.key, "Give a whole number of points.")
    ordered = [values.get(t.key, 0) for t in tiers]
    if not errors and (ordered[0] != 0 or any(b <= a for a, b in pairwise(ordered))):
        errors.add("thresholds", "The first tier starts at 0 and each next tier needs more points.")
    errors.raise_if_any()
    changes: list[TierChange] = []
    async with in_transaction():
        for tier in tiers:
            await Tier.filter(key=tier.key).update(threshold=values[tier.key])
        _tiers.clear()
        tiers = await all_tiers()
        for mp in await MemberPoints.filter(tier_locked=False):
            target = earned_tier(tiers, mp.lifetime)
            current = rank(tiers, mp.tier)
            if rank(tiers, target.key) > current:
                change = await _change(
                    mp, tiers, target, cause="Tier thresholds changed", actor_id=actor.id, promoted=True
                )  # type: ignore[union-attr]
                changes.append(change)
            elif rank(tiers, target.key) < current:
                held = tiers[current]
                recently = mp.promoted_at is not None and now() - mp.promoted_at < DEMOTION_GRACE
                if mp.lifetime < DEMOTION_MARGIN * held.threshold and not recently:
                    # Down to the highest tier the member still holds with the margin applied.
                    keep = tiers[0]
                    for tier in tiers[:current]:
                        if mp.lifetime >= DEMOTION_MARGIN * tier.threshold:
                            keep = tier
                    change = await _change(
                        mp, tiers, keep, cause="Tier thresholds changed", actor_id=actor.id, promoted=False
                    )  # type: ignore[union-attr]
                    changes.append(change)
        await audit.record(actor, "rewards.thresholds", kind="tiers", **values)
    return changes


async def set_member_tier(
    *, actor: User | None, user_id: int, tier: str, lock: bool, reason: str
) -> MemberPoints:
    """A manual grant, lock or revocation of a tier, with a reason (audited)."""
    permissions.require(actor, "rewards.manage")
    tiers = await all_tiers()
    target = next((t for t in tiers if t.key == tier), None)
    errors = Errors()
    if target is None:
        errors.add("tier", "There is no such tier.")
    if not reason.strip():
        errors.add("reason", "Give a reason; it is kept with the change.")
    errors.raise_if_any()
    assert target is not None and actor is not None
    if not await User.exists(id=user_id):
        raise NotFound("There is no such member.")
    from rewards.ledger import account

    async with in_transaction():
        mp = await account(user_id, lock=True)
        promoted = rank(tiers, target.key) > rank(tiers, mp.tier)
        if target.key != mp.tier:
            await _change(
                mp,
                tiers,
                target,
                cause=f"{actor.name}: {reason.strip()}",
                actor_id=actor.id,
                promoted=promoted,
            )
        await MemberPoints.filter(user_id=user_id).update(tier_locked=lock)
        await audit.record(
            actor,
            "rewards.tier",
            kind="user",
            object_id=user_id,
            tier=target.key,
            lock=lock,
            reason=reason.strip(),
        )
    return await MemberPoints.get(user_id=user_id)


def check_tier_key(tiers: list[Tier], key: str | None) -> str | None:
    if key in (None, ""):
        return None
    if rank(tiers, key) < 0:
        raise Invalid({"min_tier": f"Choose one of {', '.join(t.key for t in tiers)}."})
    return key
