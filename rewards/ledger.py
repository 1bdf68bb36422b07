"""The points ledger: append-only entries, with balances cached and changed in the same transaction.

Every change of a member's points is one `PointEntry`. An entry's `dedupe_key` names its cause
(rule, source object, member), and a unique index on it makes every award idempotent: replaying an
event writes nothing. A reversal is a new entry that references the original (unique, so it is
reversed at most once) and negates the amount the original paid, never today's rule value.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Subquery
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from portal import permissions
from portal.cache import TTLCache
from portal.errors import Errors
from portal.models import User
from rewards import tiers
from rewards.models import EarningRule, MemberPoints, PointEntry

# Entries that build lifetime points (and so tiers); spending and refunds move only the balance.
LIFETIME_KINDS = ("earn", "grant")


def now() -> datetime:
    return datetime.now(UTC)


async def account(user_id: int, *, lock: bool = False) -> MemberPoints:
    """The member's cached totals, created on first use; `lock` serialises this member's changes."""
    query = MemberPoints.filter(user_id=user_id)
    if lock:
        query = query.select_for_update()
    row = await query.first()
    if row is not None:
        return row
    try:
        async with in_transaction():  # savepoint: a concurrent first award may create it too
            await MemberPoints.create(user_id=user_id)
    except IntegrityError:
        pass
    row = await query.first()
    assert row is not None
    return row


async def _write(
    *,
    user_id: int,
    delta: int,
    kind: str,
    reason: str,
    dedupe_key: str,
    rule: str | None = None,
    source_kind: str = "",
    source_id: int | None = None,
    reverses_id: int | None = None,
    actor_id: int | None = None,
    counts_lifetime: bool,
) -> PointEntry | None:
    """Writes one entry and moves the cached totals; None when the entry exists already."""
    try:
        async with in_transaction():  # savepoint: a duplicate key must not abort the caller
            entry = await PointEntry.create(
                user_id=user_id,
                delta=delta,
                kind=kind,
                rule=rule,
                reason=reason[:300],
                source_kind=source_kind,
                source_id=source_id,
                dedupe_key=dedupe_key,
                reverses_id=reverses_id,
                actor_id=actor_id,
            )
    except IntegrityError:
        return None
    updates: dict[str, Any] = {"balance": F("balance") + delta}
    if counts_lifetime:
        updates["lifetime"] = F("lifetime") + delta
    await MemberPoints.filter(user_id=user_id).update(**updates)
    return entry


# Rules change rarely and every award reads one: kept for ten seconds (cleared when one is saved).
_rules = TTLCache(10)


async def cached_rule(key: str) -> EarningRule | None:
    rule = _rules.get(key)
    if rule is None:
        rule = await EarningRule.get_or_none(key=key)
        if rule is not None:
            _rules.put(key, rule)
    return rule


def forget_rules() -> None:
    _rules.clear()


async def award(
    *,
    user_id: int,
    rule_key: str,
    source_kind: str,
    source_id: int,
    reason: str | None = None,
    points: int | None = None,
    dedupe_suffix: str = "",
) -> PointEntry | None:
    """Pays a rule to a member once per (rule, source, member), within the rule's daily cap."""
    rule = await cached_rule(rule_key)
    if rule is None or not rule.enabled:
        return None
    amount = rule.points if points is None else points
    if amount <= 0:
        return None
    user = await User.get_or_none(id=user_id)
    if user is None or user.banned_at is not None:
        return None
    async with in_transaction():
        await account(user_id, lock=True)
        if rule.daily_cap > 0:
            start = datetime.combine(now().date(), time.min, tzinfo=UTC)
            today = (
                await PointEntry.filter(user_id=user_id, rule=rule_key, kind="earn", created_at__gte=start)
                .annotate(total=Sum("delta"))
                .values_list("total", flat=True)
            )
            paid_today = (today[0] or 0) if today else 0
            amount = min(amount, rule.daily_cap - paid_today)
            if amount <= 0:
                return None
        entry = await _write(
            user_id=user_id,
            delta=amount,
            kind="earn",
            rule=rule_key,
            reason=reason or rule.name,
            dedupe_key=f"{rule_key}:{source_kind}:{source_id}:{user_id}{dedupe_suffix}",
            source_kind=source_kind,
            source_id=source_id,
            counts_lifetime=True,
        )
        if entry is not None:
            await tiers.promote_if_due(user_id, cause=f"{rule.name} (+{amount})")
        return entry


async def reverse(entry: PointEntry, *, reason: str, actor_id: int | None = None) -> PointEntry | None:
    """Cancels what `entry` paid with a new, negating entry (at most once)."""
    if entry.reverses_id is not None or entry.delta == 0:
        return None
    async with in_transaction():
        await account(entry.user_id, lock=True)
        return await _write(
            user_id=entry.user_id,
            delta=-entry.delta,
            kind="reversal",
            rule=entry.rule,
            reason=reason,
            dedupe_key=f"reverse:{entry.id}",
            source_kind=entry.source_kind,
            source_id=entry.source_id,
            reverses_id=entry.id,
            actor_id=actor_id,
            counts_lifetime=entry.kind in LIFETIME_KINDS,
        )


async def reverse_where(*, reason: str, **filters: Any) -> int:
    """Reverses every live (not yet reversed) earning entry matching `filters`; returns how many."""
    reversed_ids = Subquery(PointEntry.filter(reverses_id__not_isnull=True).values("reverses_id"))
    entries = await PointEntry.filter(kind="earn", **filters).exclude(id__in=reversed_ids)
    count = 0
    for entry in entries:
        if await reverse(entry, reason=reason) is not None:
            count += 1
    return count


async def grant(*, actor: User | None, user_id: int, points: int, reason: str) -> PointEntry:
    """A manual grant (positive) or deduction (negative) by a community manager; counts for tiers."""
    permissions.require(actor, "rewards.manage")
    assert actor is not None
    errors = Errors()
    if points == 0:
        errors.add("points", "Give a number of points other than 0.")
    reason = reason.strip()
    if not reason:
        errors.add("reason", "Give a reason; the member sees it in their history.")
    errors.raise_if_any()
    async with in_transaction():
        await account(user_id, lock=True)
        entry = await _write(
            user_id=user_id,
            delta=points,
            kind="grant",
            reason=reason,
            dedupe_key=f"grant:{user_id}:{uuid.uuid4().hex}",
            source_kind="grant",
            actor_id=actor.id,
            counts_lifetime=True,
        )
        assert entry is not None
        if points > 0:
            await tiers.promote_if_due(user_id, cause=f"Granted by {actor.name}: {reason}", actor_id=actor.id)
        return entry


async def spend(*, user_id: int, points: int, reason: str, claim_id: int) -> PointEntry | None:
    """Charges a perk's cost; the caller holds the member's lock and checked the balance."""
    return await _write(
        user_id=user_id,
        delta=-points,
        kind="spend",
        reason=reason,
        dedupe_key=f"spend:claim:{claim_id}",
        source_kind="claim",
        source_id=claim_id,
        counts_lifetime=False,
    )


async def refund(*, user_id: int, points: int, reason: str, claim_id: int) -> PointEntry | None:
    async with in_transaction():
        await account(user_id, lock=True)
        return await _write(
            user_id=user_id,
            delta=points,
            kind="refund",
            reason=reason,
            dedupe_key=f"refund:claim:{claim_id}",
            source_kind="claim",
            source_id=claim_id,
            counts_lifetime=False,
        )


async def history(user_id: int, limit: int = 50) -> list[dict[str, Any]]:
    return await (
        PointEntry.filter(user_id=user_id)
        .order_by("-id")
        .limit(limit)
        .values(
            "id", "delta", "kind", "rule", "reason", "source_kind", "source_id", "created_at", "reverses_id"
        )
    )
