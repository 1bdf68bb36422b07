"""What the insiders pages read: a member's points, tier, perks, claims and programs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal import permissions
from portal.errors import NotFound
from portal.models import User
from rewards import ledger, outcomes, perks, rules
from rewards.models import LIVE_CLAIM_STATES, Claim, EarningRule, MemberPoints, Perk, Tier
from rewards.service import perk_is_open_to
from rewards.tiers import all_tiers, rank

# Supporters (1 = the earliest) whose share of a shipped idea the insiders page spells out.
FORMULA_POSITIONS = (1, 5, 10, 20, 40)
WAITING_STATES = ("waitlisted", "pending")
PARTICIPATING_STATES = ("admitted", "claimed")


@dataclass(frozen=True)
class Progress:
    tier: Tier
    next: Tier | None
    lifetime: int
    needed: int  # points still to earn for the next tier
    percent: int  # of the way from this tier's threshold to the next one's


def progress(tiers: list[Tier], account: MemberPoints) -> Progress:
    held = max(rank(tiers, account.tier), 0)
    tier = tiers[held]
    nxt = tiers[held + 1] if held + 1 < len(tiers) else None
    if nxt is None:
        return Progress(tier, None, account.lifetime, 0, 100)
    span = max(nxt.threshold - tier.threshold, 1)
    done = min(max(account.lifetime - tier.threshold, 0), span)
    return Progress(tier, nxt, account.lifetime, max(nxt.threshold - account.lifetime, 0), done * 100 // span)


def ship_formula(all_rules: list[EarningRule]) -> dict[str, Any]:
    """The ship award with today's values: what the author gets, and each supporter's share."""
    by_key = {r.key: r for r in all_rules}
    author, voters = by_key.get("idea_shipped"), by_key.get("ship_voter_share")
    share = voters.points if voters and voters.enabled else 0
    return {
        "author": author.points if author and author.enabled else 0,
        "share": share,
        "halving": outcomes.HALVING,
        "tenth": outcomes.share(share, 9) if share else 0,
        "twentieth": outcomes.share(share, 19) if share else 0,
        "examples": [(n, outcomes.share(share, n - 1)) for n in FORMULA_POSITIONS] if share else [],
    }


def card(entry: dict[str, Any], balance: int) -> dict[str, Any]:
    """A perk as a member sees it (an entry of `perks.perks_for`), with what they may do next."""
    perk: Perk = entry["perk"]
    live = [c for c in entry["claims"] if c.status in LIVE_CLAIM_STATES]
    action, blocked = None, None
    if perk.kind == "early_access":
        if live:
            blocked = None  # in the program (or waiting): the page offers "leave"
        elif not entry["open"]:
            blocked = "tier"
        elif perk.approval_required:
            action = "Apply"
        else:
            action = "Join the waitlist" if perk.remaining == 0 else "Join"
    elif not entry["open"]:
        blocked = "tier"
    elif entry["sold_out"]:
        blocked = "sold_out"
    elif len(live) >= perk.per_member_limit:
        blocked = "limit"
    elif perk.cost > balance:
        blocked = "points"
    else:
        action = f"Claim for {perk.cost} points" if perk.cost else "Claim"
    return {**entry, "live": live, "action": action, "blocked": blocked}


async def program() -> dict[str, Any]:
    """What the program is, for a visitor: its tiers and how points are earned."""
    earning = await rules.rules()
    return {
        "tiers": await all_tiers(),
        "rules": [r for r in earning if r.enabled and r.points > 0],
        "formula": ship_formula(earning),
    }


async def overview(user: User) -> dict[str, Any]:
    """Everything the member's insiders page shows."""
    account = await ledger.account(user.id)
    tiers = await all_tiers()
    offers = [card(entry, account.balance) for entry in await perks.perks_for(user)]
    claims = await Claim.filter(user_id=user.id).select_related("perk").order_by("-id").limit(100)
    programs = [c for c in claims if c.perk.kind == "early_access" and c.status in LIVE_CLAIM_STATES]
    earning = await rules.rules()
    return {
        "account": account,
        "tiers": tiers,
        "tier_names": {t.key: t.name for t in tiers},
        "progress": progress(tiers, account),
        "history": await ledger.history(user.id),
        "offers": [o for o in offers if o["open"]],
        "locked": [o for o in offers if not o["open"]],
        "deals": [c for c in claims if c.perk.kind == "deal"],
        "programs": programs,
        "positions": {c.id: await perks.waitlist_position(c) for c in programs if c.status in WAITING_STATES},
        "rules": [r for r in earning if r.enabled and r.points > 0],
        "formula": ship_formula(earning),
    }


async def perk_page(user: User, perk_id: int) -> dict[str, Any]:
    """One perk for a member: its card, their claims of it, and the private notes when they may read
    them (participants: admitted to the program or holding the deal; and community managers)."""
    perk = await Perk.get_or_none(id=perk_id)
    if perk is None or (perk.archived_at is not None and not permissions.can(user, "rewards.manage")):
        raise NotFound("There is no such perk.")
    account = await ledger.account(user.id)
    claims = await Claim.filter(perk_id=perk.id, user_id=user.id).order_by("id")
    entry = {
        "perk": perk,
        "open": await perk_is_open_to(user, perk),
        "claims": claims,
        "sold_out": perk.kind == "deal" and perk.remaining == 0,
    }
    live = [c for c in claims if c.status in LIVE_CLAIM_STATES]
    participant = any(c.status in PARTICIPATING_STATES for c in live)
    tiers = await all_tiers()
    return {
        "perk": perk,
        "offer": card(entry, account.balance),
        "is_live": perks.is_live(perk),
        "account": account,
        "tier_names": {t.key: t.name for t in tiers},
        "positions": {c.id: await perks.waitlist_position(c) for c in live if c.status in WAITING_STATES},
        "show_notes": bool(perk.private_notes) and (participant or permissions.can(user, "rewards.manage")),
    }
