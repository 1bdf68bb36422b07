"""Events the rewards package raises."""

from __future__ import annotations

from dataclasses import dataclass

from portal.events import Event


@dataclass(frozen=True)
class PerkClaimed(Event):
    name = "perk.claimed"
    perk_id: int
    claim_id: int
    user_id: int
    status: str
