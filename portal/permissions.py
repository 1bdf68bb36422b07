"""Who may do what: one named policy per action, asked by every use case and by the templates.

Feature packages register their policies here (from their `policy.py`), so that enforcement in the
services and the buttons a page shows come from the same predicate and never disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from portal.errors import Forbidden, NotFound, Unauthorized
from portal.models import User

Policy = Callable[[User | None, Any], bool]
F = TypeVar("F", bound=Policy)

_policies: dict[str, Policy] = {}

STAFF_ROLES = frozenset({"staff", "admin"})
COMMUNITY_ROLES = frozenset({"community_manager", "admin"})


def policy(action: str) -> Callable[[F], F]:
    """Registers the function deciding `action`; it takes (user or None, object) and says yes or no."""

    def register(fn: F) -> F:
        if action in _policies and _policies[action] is not fn:
            raise RuntimeError(f"policy {action!r} is defined twice")
        _policies[action] = fn
        return fn

    return register


def can(user: User | None, action: str, obj: Any = None) -> bool:
    try:
        decide = _policies[action]
    except KeyError:
        raise RuntimeError(f"no policy for action {action!r}") from None
    return decide(user, obj)


def require(user: User | None, action: str, obj: Any = None, *, hide: bool = False) -> None:
    """Raises unless `user` may do `action`. `hide` answers 404 where 403 would reveal the object."""
    if can(user, action, obj):
        return
    if hide:
        raise NotFound()
    if user is None:
        raise Unauthorized("Please sign in to do that.")
    raise Forbidden("You are not allowed to do that.")


# Role predicates, shared by the policies of every package.


def is_active(user: User | None) -> bool:
    return user is not None and user.banned_at is None


def is_staff(user: User | None) -> bool:
    return is_active(user) and user.role in STAFF_ROLES  # type: ignore[union-attr]


def is_community_manager(user: User | None) -> bool:
    return is_active(user) and user.role in COMMUNITY_ROLES  # type: ignore[union-attr]


def is_admin(user: User | None) -> bool:
    return is_active(user) and user.role == "admin"  # type: ignore[union-attr]


@policy("account.view")
def _can_view_account(user: User | None, _obj: Any) -> bool:
    return is_active(user)


@policy("token.manage")
def _can_manage_token(user: User | None, owner: User | None) -> bool:
    return is_active(user) and (owner is None or owner.id == user.id or is_admin(user))  # type: ignore[union-attr]


@policy("users.manage")
def _can_manage_users(user: User | None, _obj: Any) -> bool:
    return is_admin(user)


@policy("audit.view")
def _can_view_audit(user: User | None, _obj: Any) -> bool:
    return is_staff(user) or is_community_manager(user)
