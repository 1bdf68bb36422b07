"""What webhooks receive about perks: who claimed which perk. Never public (a member's claim is
their business), and never a code."""

from __future__ import annotations

from typing import Any

from portal import webhooks
from portal.models import User
from rewards.events import PerkClaimed
from rewards.models import Claim, Perk


async def on_perk_claimed(event: PerkClaimed) -> tuple[dict[str, Any], bool] | None:
    perk = await Perk.get_or_none(id=event.perk_id)
    claim = await Claim.get_or_none(id=event.claim_id)
    member = await User.get_or_none(id=event.user_id)
    if perk is None or claim is None or member is None:
        return None
    data = {
        "perk": {"id": perk.id, "kind": perk.kind, "title": perk.title},
        "claim": {"id": claim.id, "status": event.status, "created_at": claim.created_at.isoformat()},
        "member": {"id": member.id, "name": member.name},
    }
    return data, False


def install() -> None:
    webhooks.register_payload(PerkClaimed.name, on_perk_claimed)
