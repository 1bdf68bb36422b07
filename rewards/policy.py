"""Who may run the insider program and who may claim what."""

from __future__ import annotations

from typing import Any

from portal.models import User
from portal.permissions import is_active, is_community_manager, policy


@policy("rewards.manage")
def can_manage_rewards(user: User | None, _obj: Any) -> bool:
    return is_community_manager(user)


@policy("perk.claim")
def can_claim(user: User | None, _perk: Any) -> bool:
    """Tier and window are checked by the service against the perk; here: an active, verified member."""
    return is_active(user) and user.email_verified_at is not None  # type: ignore[union-attr]


@policy("leaderboard.view")
def can_view_leaderboard(_user: User | None, _obj: Any) -> bool:
    return True


@policy("duplicate.report")
def can_report_duplicate(user: User | None, _idea: Any) -> bool:
    """Reports pay points when staff accept them: an active, verified member."""
    return is_active(user) and user.email_verified_at is not None  # type: ignore[union-attr]
