"""What other packages may ask of rewards: a member's tier, and whether they see an insider board."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ideas.policy import set_insider_access
from portal.models import User
from rewards.models import Claim, MemberPoints, Perk, Tier


@dataclass(frozen=True)
class Access:
    tier: str
    rank: int
    ranks: dict[str, int]
    program_boards: frozenset[int]


async def load_access(user: User) -> Access:
    """Loads (once per user object, so once per request) the member's tier and program boards."""
    cached = user.__dict__.get("_rewards_access")
    if cached is not None:
        return cached
    rows = await Tier.all().values_list("key", "name", "position")
    ranks = {key: pos for key, _name, pos in rows}
    for _key, name, pos in rows:  # a board may name its tier ("Insider", the default) instead of its key
        ranks.setdefault(name.lower(), pos)
    tier = await MemberPoints.filter(user_id=user.id).values_list("tier", flat=True)
    tier_key = tier[0] if tier else "member"
    boards = await Claim.filter(
        user_id=user.id, status="admitted", perk__board_id__not_isnull=True
    ).values_list("perk__board_id", flat=True)
    access = Access(tier_key, ranks.get(tier_key, 0), ranks, frozenset(b for b in boards if b is not None))
    user.__dict__["_rewards_access"] = access
    return access


def forget_access(user: User) -> None:
    user.__dict__.pop("_rewards_access", None)


def can_see(user: User, board: Any) -> bool:
    """An insider board opens from its minimum tier up, and to participants of its program."""
    access: Access | None = user.__dict__.get("_rewards_access")
    if access is None:
        return False  # not loaded: deny rather than guess
    if board.id in access.program_boards:
        return True
    tier = board.min_tier or "insider"
    needed = access.ranks.get(tier, access.ranks.get(tier.lower()))
    return needed is not None and access.rank >= needed


async def tier_of(user: User | None) -> str | None:
    if user is None:
        return None
    return (await load_access(user)).tier


async def _prepare(user: User) -> None:
    await load_access(user)


def install_gating() -> None:
    set_insider_access(can_see, _prepare)


async def perk_is_open_to(user: User | None, perk: Perk) -> bool:
    if user is None:
        return False
    access = await load_access(user)
    if perk.min_tier is None:
        return True
    needed = access.ranks.get(perk.min_tier)
    return needed is not None and access.rank >= needed
