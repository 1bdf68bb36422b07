"""Who may vote, vote for others, and see voters."""

from __future__ import annotations

from typing import Any

from portal.models import User
from portal.permissions import is_active, is_staff, policy


@policy("vote.cast")
def can_vote(user: User | None, _idea: Any) -> bool:
    """Only verified members vote: an unverified address could be anyone, many times over."""
    return is_active(user) and user.email_verified_at is not None  # type: ignore[union-attr]


@policy("vote.on_behalf")
def can_vote_on_behalf(user: User | None, _idea: Any) -> bool:
    return is_staff(user)


@policy("vote.see_voters")
def can_see_voters(user: User | None, _idea: Any) -> bool:
    return is_staff(user)


@policy("vote.manage_budget")
def can_manage_budget(user: User | None, _board: Any) -> bool:
    return is_active(user) and user.role == "admin"  # type: ignore[union-attr]
