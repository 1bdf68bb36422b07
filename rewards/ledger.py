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
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from portal import permissions, sql
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


_INSERT_ENTRY = (
    "INSERT INTO point_entries (user_id, delta, kind, rule, reason, source_kind, source_id,"
    " dedupe_key, reverses_id, actor_id, created_at)"
    " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 WHERE {condition}"
    " ON CONFLICT DO NOTHING RETURNING *"
)
_ANYONE = _INSERT_ENTRY.format(condition="1 = 1")
# Awards go only to members who are not banned (checked in the insert: no statement of its own).
_ACTIVE = _INSERT_ENTRY.format(condition="EXISTS (SELECT 1 FROM users WHERE id = $1 AND banned_at IS NULL)")
# Moves the cached totals, making them on a member's first entry; returns what tiers need.
_ADD_TO_TOTALS = (
    "INSERT INTO member_points (user_id, balance, lifetime) VALUES ($1, $2, $3)"
    " ON CONFLICT (user_id) DO UPDATE SET balance = member_points.balance + excluded.balance,"
    " lifetime = member_points.lifetime + excluded.lifetime"
    " RETURNING lifetime, tier, tier_locked"
)


async def _record(
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
    active_only: bool = False,
) -> tuple[PointEntry, dict[str, Any]] | None:
    """Writes one entry and moves the cached totals: the entry and the new totals, or None when
    the entry exists already (its `dedupe_key` is taken) or, with `active_only`, the member is banned.

    Two statements and no savepoint: the unique keys are handled by `ON CONFLICT DO NOTHING`.
    """
    rows = await sql.fetch(
        _ACTIVE if active_only else _ANYONE,
        user_id,
        delta,
        kind,
        rule,
        reason[:300],
        source_kind,
        source_id,
        dedupe_key,
        reverses_id,
        actor_id,
        now(),
    )
    if not rows:
        return None
    totals = await _add_to_totals(user_id, delta, delta if counts_lifetime else 0)
    return sql.as_model(PointEntry, rows[0]), totals


async def _add_to_totals(user_id: int, balance: int, lifetime: int) -> dict[str, Any]:
    return (await sql.fetch(_ADD_TO_TOTALS, user_id, balance, lifetime))[0]


async def _write(**kwargs: Any) -> PointEntry | None:
    """Writes one entry and moves the cached totals (see `_record`); None when the entry exists."""
    written = await _record(**kwargs)
    return written[0] if written is not None else None


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


_LOCK_TOTALS = "SELECT user_id FROM member_points WHERE user_id = $1"
_PAID_TODAY = (
    "SELECT COALESCE(SUM(delta), 0) AS paid FROM point_entries"
    " WHERE user_id = $1 AND rule = $2 AND kind = 'earn' AND created_at >= $3"
)


async def _lock_earner(user_id: int) -> bool:
    """Locks the member's totals (made on first use); False when the member may not earn."""
    if await sql.fetch(_LOCK_TOTALS + sql.for_update(), user_id):
        return True  # a banned member is refused by the entry's insert
    user = await User.get_or_none(id=user_id)
    if user is None or user.banned_at is not None:
        return False
    await account(user_id, lock=True)
    return True


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
    """Pays a rule to a member once per (rule, source, member), within the rule's daily cap.

    Banned members earn nothing. A rule with a cap locks the member's totals first, so two awards at
    once cannot both pay past it; without a cap the award is two statements.
    """
    rule = await cached_rule(rule_key)
    if rule is None or not rule.enabled:
        return None
    amount = rule.points if points is None else points
    if amount <= 0:
        return None
    async with sql.atomic():
        if rule.daily_cap > 0:
            if not await _lock_earner(user_id):
                return None
            start = datetime.combine(now().date(), time.min, tzinfo=UTC)
            [today] = await sql.fetch(_PAID_TODAY, user_id, rule_key, start)
            amount = min(amount, rule.daily_cap - int(today["paid"]))
            if amount <= 0:
                return None
        written = await _record(
            user_id=user_id,
            delta=amount,
            kind="earn",
            rule=rule_key,
            reason=reason or rule.name,
            dedupe_key=f"{rule_key}:{source_kind}:{source_id}:{user_id}{dedupe_suffix}",
            source_kind=source_kind,
            source_id=source_id,
            counts_lifetime=True,
            active_only=True,
        )
        if written is None:
            return None
        entry, totals = written
        await tiers.promote_if_due(user_id, cause=f"{rule.name} (+{amount})", totals=totals)
        return entry


async def reverse(entry: PointEntry, *, reason: str, actor_id: int | None = None) -> PointEntry | None:
    """Cancels what `entry` paid with a new, negating entry (at most once)."""
    if entry.reverses_id is not None or entry.delta == 0:
        return None
    async with sql.atomic():
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


_REVERSE_EARNING = (
    "INSERT INTO point_entries (user_id, delta, kind, rule, reason, source_kind, source_id,"
    " dedupe_key, reverses_id, actor_id, created_at)"
    " SELECT user_id, -delta, 'reversal', rule, $2, source_kind, source_id, 'reverse:' || id, id,"
    " NULL, $3 FROM point_entries WHERE dedupe_key = $1 AND kind = 'earn' AND delta <> 0"
    " ON CONFLICT DO NOTHING RETURNING *"
)


async def reverse_earning(dedupe_key: str, *, reason: str) -> PointEntry | None:
    """`reverse` of the earning with this key, if there is one: found and reversed in one statement
    (plus the totals), since a vote taken back asks this as often as votes are cast."""
    async with sql.atomic():
        rows = await sql.fetch(_REVERSE_EARNING, dedupe_key, reason[:300], now())
        if not rows:
            return None  # never paid, or reversed already
        entry = sql.as_model(PointEntry, rows[0])
        await _add_to_totals(entry.user_id, entry.delta, entry.delta)  # an earning counts for life
        return entry


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
        written = await _record(
            user_id=user_id,
            delta=points,
            kind="grant",
            reason=reason,
            dedupe_key=f"grant:{user_id}:{uuid.uuid4().hex}",
            source_kind="grant",
            actor_id=actor.id,
            counts_lifetime=True,
        )
        assert written is not None
        entry, totals = written
        if points > 0:
            await tiers.promote_if_due(
                user_id, cause=f"Granted by {actor.name}: {reason}", actor_id=actor.id, totals=totals
            )
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
