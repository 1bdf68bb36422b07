"""Recomputes members' cached balances and lifetime points from the ledger; reports the drift."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from tortoise.transactions import in_transaction

from rewards.ledger import LIFETIME_KINDS
from rewards.models import MemberPoints, PointEntry


@dataclass
class Drift:
    balance: dict[int, tuple[int, int]] = field(default_factory=dict)
    lifetime: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.balance) + len(self.lifetime)


async def rebuild(*, dry_run: bool = False) -> Drift:
    drift = Drift()
    async with in_transaction():
        balance: dict[int, int] = defaultdict(int)
        lifetime: dict[int, int] = defaultdict(int)
        originals: dict[int, str] = {}
        rows = (
            await PointEntry.all().order_by("id").values_list("id", "user_id", "delta", "kind", "reverses_id")
        )
        for entry_id, _user, _delta, kind, _rev in rows:
            originals[entry_id] = kind
        for _entry_id, user_id, delta, kind, reverses_id in rows:
            balance[user_id] += delta
            counted = kind if reverses_id is None else originals.get(reverses_id, kind)
            if counted in LIFETIME_KINDS:
                lifetime[user_id] += delta
        cached = {mp.user_id: mp for mp in await MemberPoints.all()}
        for user_id in set(balance) | set(cached):
            mp = cached.get(user_id)
            was_balance = mp.balance if mp else 0
            was_lifetime = mp.lifetime if mp else 0
            if was_balance != balance[user_id]:
                drift.balance[user_id] = (was_balance, balance[user_id])
            if was_lifetime != lifetime[user_id]:
                drift.lifetime[user_id] = (was_lifetime, lifetime[user_id])
            if dry_run or (user_id not in drift.balance and user_id not in drift.lifetime):
                continue
            if mp is None:
                await MemberPoints.create(
                    user_id=user_id, balance=balance[user_id], lifetime=lifetime[user_id]
                )
            else:
                await MemberPoints.filter(user_id=user_id).update(
                    balance=balance[user_id], lifetime=lifetime[user_id]
                )
    return drift
