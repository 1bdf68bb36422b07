"""Earning rules: community managers change them, after a preview of what the change would do."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from portal import audit, permissions
from portal.errors import Errors, NotFound
from portal.models import User
from rewards import ledger
from rewards.models import EarningRule, PointEntry

PREVIEW_WINDOW = timedelta(days=30)


@dataclass
class RulePreview:
    """What the last 30 days would have paid under the new values, member by member."""

    rule: str
    members: int
    entries: int
    paid_before: int
    paid_after: int
    examples: list[dict[str, Any]] = field(default_factory=list)


def _check(errors: Errors, points: Any, daily_cap: Any) -> tuple[int, int]:
    values = []
    for name, raw, high in (("points", points, 100_000), ("daily_cap", daily_cap, 1_000_000)):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors.add(name, "Give a whole number.")
            value = 0
        else:
            if not 0 <= value <= high:
                errors.add(name, f"Give a number from 0 to {high:,}.")
        values.append(value)
    return values[0], values[1]


async def rules() -> list[EarningRule]:
    return await EarningRule.all().order_by("key")


async def preview_rule_change(*, actor: User | None, key: str, points: Any, daily_cap: Any) -> RulePreview:
    permissions.require(actor, "rewards.manage")
    rule = await EarningRule.get_or_none(key=key)
    if rule is None:
        raise NotFound("There is no such rule.")
    errors = Errors()
    new_points, new_cap = _check(errors, points, daily_cap)
    errors.raise_if_any()
    since = datetime.now(UTC) - PREVIEW_WINDOW
    rows = await PointEntry.filter(rule=key, kind="earn", created_at__gte=since).values(
        "user_id", "user__name", "delta", "created_at"
    )
    before: dict[int, int] = defaultdict(int)
    per_day: dict[tuple[int, Any], int] = defaultdict(int)
    names: dict[int, str] = {}
    for r in rows:
        before[r["user_id"]] += r["delta"]
        names[r["user_id"]] = r["user__name"]
        # Shares on shipped ideas scale with the rule: keep each entry's proportion.
        unit = r["delta"] / rule.points if rule.points else 1
        per_day[(r["user_id"], r["created_at"].date())] += round(new_points * unit)
    after: dict[int, int] = defaultdict(int)
    for (user_id, _day), amount in per_day.items():
        after[user_id] += min(amount, new_cap) if new_cap else amount
    examples = sorted(
        (
            {"name": names[u], "before": before[u], "after": after[u], "change": after[u] - before[u]}
            for u in before
        ),
        key=lambda e: -abs(e["change"]),
    )[:5]
    return RulePreview(
        rule=key,
        members=len(before),
        entries=len(rows),
        paid_before=sum(before.values()),
        paid_after=sum(after.values()),
        examples=examples,
    )


async def update_rule(
    *, actor: User | None, key: str, points: Any, daily_cap: Any, enabled: bool
) -> EarningRule:
    """Changes a rule for what happens from now on; entries already paid keep their amounts."""
    permissions.require(actor, "rewards.manage")
    rule = await EarningRule.get_or_none(key=key)
    if rule is None:
        raise NotFound("There is no such rule.")
    errors = Errors()
    new_points, new_cap = _check(errors, points, daily_cap)
    errors.raise_if_any()
    async with in_transaction():
        await EarningRule.filter(key=key).update(points=new_points, daily_cap=new_cap, enabled=enabled)
        ledger.forget_rules()
        await audit.record(
            actor,
            "rewards.rule",
            kind="rule",
            rule=key,
            points=new_points,
            daily_cap=new_cap,
            enabled=enabled,
        )
    return await EarningRule.get(key=key)
