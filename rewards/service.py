"""What other packages may ask of rewards: a member's tier, and whether they see an insider board."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ideas.policy import set_insider_access
from portal import sql
from portal.models import User
from rewards.models import Perk
from rewards.tiers import all_tiers


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
    ranks = await _ranks()
    tier_key, boards = "member", set()
    for row in await sql.fetch(_MEMBER_ACCESS, user.id):
        if row["board_id"] is None:
            tier_key = row["tier"]
        else:
            boards.add(row["board_id"])
    access = Access(tier_key, ranks.get(tier_key, 0), ranks, frozenset(boards))
    user.__dict__["_rewards_access"] = access
    return access


# The member's tier and the boards of the programs they were admitted to, in one statement.
_MEMBER_ACCESS = (
    "SELECT tier, NULL AS board_id FROM member_points WHERE user_id = $1"
    " UNION ALL SELECT NULL, p.board_id FROM claims c JOIN perks p ON p.id = c.perk_id"
    " WHERE c.user_id = $1 AND c.status = 'admitted' AND p.board_id IS NOT NULL"
)


async def _ranks() -> dict[str, int]:
    """Tier key (and lower-cased name) -> position. Tiers' keys, names and order are set by
    migrations, never at run time, so the tiers' cache (ten seconds) is safe to read them from."""
    ranks: dict[str, int] = {}
    rows = await all_tiers()
    for tier in rows:
        ranks[tier.key] = tier.position
    for tier in rows:  # a board may name its tier ("Insider", the default) instead of its key
        ranks.setdefault(tier.name.lower(), tier.position)
    return ranks


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


async def _tier_choices() -> list[tuple[str, str]]:
    return [(t.key, t.name) for t in await all_tiers()]


def install_gating() -> None:
    set_insider_access(can_see, _prepare, _tier_choices)


async def perk_is_open_to(user: User | None, perk: Perk) -> bool:
    if user is None:
        return False
    access = await load_access(user)
    if perk.min_tier is None:
        return True
    needed = access.ranks.get(perk.min_tier)
    return needed is not None and access.rank >= needed
