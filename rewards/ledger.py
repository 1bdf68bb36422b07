"""The points ledger: append-only entries, with balances cached and changed in the same transaction.

Every change of a member's points is one `PointEntry`. An entry's `dedupe_key` names its cause
(rule, source object, member), and a unique index on it makes every award idempotent: replaying an
event writes nothing. A reversal is a new entry that references the original (unique, so it is
reversed at most once) and negates the amount the original paid, never today's rule value.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from functools import lru_cache
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


_COLUMNS = (
    "user_id, delta, kind, rule, reason, source_kind, source_id, dedupe_key, reverses_id, actor_id,"
    " created_at"
)
# Awards go only to members who are not banned: checked by the insert, not by a statement of its own.
_ACTIVE = "EXISTS (SELECT 1 FROM users WHERE id = $1 AND banned_at IS NULL)"
# Under a daily cap ($12), what the rule paid the member since midnight ($13) cuts the amount. The
# caller holds the member's lock, so this statement sees every award that could compete.
_PAID_TODAY = (
    "(SELECT COALESCE(SUM(delta), 0) AS paid FROM point_entries"
    " WHERE user_id = $1 AND rule = $4 AND kind = 'earn' AND created_at >= $13) AS today"
)
# Moves the cached totals, making them on a member's first entry; returns what tiers need.
_TOTALS = (
    "INSERT INTO member_points (user_id, balance, lifetime) {source}"
    " ON CONFLICT (user_id) DO UPDATE SET balance = member_points.balance + excluded.balance,"
    " lifetime = member_points.lifetime + excluded.lifetime"
    " RETURNING lifetime, tier, tier_locked"
)
_ADD_TO_TOTALS = _TOTALS.format(source="VALUES ($1, $2, $3)")


@lru_cache(maxsize=16)
def _entry_sql(*, capped: bool, active_only: bool) -> str:
    """Inserts one entry unless its keys are taken (or the member is banned, or the cap is reached):
    `$1..$11` are the columns of `_COLUMNS`, `$12` and `$13` the cap and midnight when `capped`."""
    delta, source, conditions = "$2", "", []
    if capped:
        delta, source = "CASE WHEN $12 - paid < $2 THEN $12 - paid ELSE $2 END", f" FROM {_PAID_TODAY}"
        conditions.append("paid < $12")
    if active_only:
        conditions.append(_ACTIVE)
    return (
        f"INSERT INTO point_entries ({_COLUMNS})"
        f" SELECT $1, {delta}, $3, $4, $5, $6, $7, $8, $9, $10, $11{source}"
        f" WHERE {' AND '.join(conditions) or '1 = 1'} ON CONFLICT DO NOTHING RETURNING *"
    )


def _with_totals(entry_sql: str, *, counts_lifetime: bool) -> str:
    """PostgreSQL: the entry and the totals in one statement (one round trip, not two)."""
    lifetime = "delta" if counts_lifetime else "0"
    totals = _TOTALS.format(source=f"SELECT user_id, delta, {lifetime} FROM e")  # noqa: S608
    return (
        f"WITH e AS ({entry_sql}), t AS ({totals}) SELECT e.*, t.lifetime AS totals_lifetime,"  # noqa: S608
        " t.tier AS totals_tier, t.tier_locked AS totals_tier_locked FROM e, t"
    )


@lru_cache(maxsize=32)
def _entry_and_totals_sql(*, capped: bool, active_only: bool, counts_lifetime: bool) -> str:
    return _with_totals(_entry_sql(capped=capped, active_only=active_only), counts_lifetime=counts_lifetime)


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
    daily_cap: int = 0,
) -> tuple[PointEntry, dict[str, Any]] | None:
    """Writes one entry and moves the cached totals: the entry and the new totals, or None when
    the entry exists already (its `dedupe_key` is taken), with `active_only` when the member is
    banned, and with a `daily_cap` when the rule paid that much today (else the entry is cut to it).

    One statement on PostgreSQL, two on SQLite, and no savepoint: the unique keys are handled by
    `ON CONFLICT DO NOTHING`. A `daily_cap` needs the caller to hold the member's lock.
    """
    values: list[Any] = [user_id, delta, kind, rule, reason[:300], source_kind, source_id, dedupe_key]
    values += [reverses_id, actor_id, now()]
    capped = daily_cap > 0
    if capped:
        values += [daily_cap, datetime.combine(values[-1].date(), time.min, tzinfo=UTC)]
    if sql.is_postgres():
        both = _entry_and_totals_sql(capped=capped, active_only=active_only, counts_lifetime=counts_lifetime)
        rows = await sql.fetch(both, *values)
        if not rows:
            return None
        row = rows[0]
        totals = {"lifetime": row["totals_lifetime"], "tier": row["totals_tier"]}
        totals["tier_locked"] = row["totals_tier_locked"]
        return sql.as_model(PointEntry, row), totals
    rows = await sql.fetch(_entry_sql(capped=capped, active_only=active_only), *values)
    if not rows:
        return None
    entry = sql.as_model(PointEntry, rows[0])
    totals = await _add_to_totals(user_id, entry.delta, entry.delta if counts_lifetime else 0)
    return entry, totals


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


_LOCK_TOTALS = "SELECT user_id FROM member_points WHERE user_id = $1 FOR UPDATE"


async def _lock_earner(user_id: int) -> bool:
    """Serialises this member's awards (PostgreSQL: locks the totals, made on first use); False
    when the member may not earn. SQLite runs one transaction at a time: nothing to do there."""
    if not sql.is_postgres() or await sql.fetch(_LOCK_TOTALS, user_id):
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
    once cannot both pay past it (the entry's insert reads what was paid today and cuts the amount).
    """
    rule = await cached_rule(rule_key)
    if rule is None or not rule.enabled:
        return None
    amount = rule.points if points is None else points
    if amount <= 0:
        return None
    async with sql.atomic():
        if rule.daily_cap > 0 and not await _lock_earner(user_id):
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
            daily_cap=rule.daily_cap,
        )
        if written is None:
            return None
        entry, totals = written
        await tiers.promote_if_due(user_id, cause=f"{rule.name} (+{entry.delta})", totals=totals)
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
    f"INSERT INTO point_entries ({_COLUMNS})"  # noqa: S608 - constants only
    " SELECT user_id, -delta, 'reversal', rule, $2, source_kind, source_id, 'reverse:' || id, id,"
    " NULL, $3 FROM point_entries WHERE dedupe_key = $1 AND kind = 'earn' AND delta <> 0"
    " ON CONFLICT DO NOTHING RETURNING *"
)
_REVERSE_EARNING_WITH_TOTALS = _with_totals(_REVERSE_EARNING, counts_lifetime=True)


async def reverse_earning(dedupe_key: str, *, reason: str) -> PointEntry | None:
    """`reverse` of the earning with this key, if there is one: found and reversed by one INSERT ...
    SELECT (with the totals on PostgreSQL), since a vote taken back asks this as often as votes are cast."""
    async with sql.atomic():
        if sql.is_postgres():
            rows = await sql.fetch(_REVERSE_EARNING_WITH_TOTALS, dedupe_key, reason[:300], now())
            return sql.as_model(PointEntry, rows[0]) if rows else None
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
