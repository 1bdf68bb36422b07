"""Test data, made directly in the database (fast: one password hash shared by all users)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from argon2 import PasswordHasher

from portal.models import User

PASSWORD = "correct horse battery"
_HASH = PasswordHasher().hash(PASSWORD)
_seq = itertools.count(1)


async def make_user(
    *,
    role: str = "member",
    email: str | None = None,
    name: str | None = None,
    verified: bool = True,
    banned: bool = False,
) -> User:
    n = next(_seq)
    return await User.create(
        email=(email or f"user{n}@example.com").lower(),
        name=name or f"User {n}",
        role=role,
        password_hash=_HASH,
        email_verified_at=datetime.now(UTC) if verified else None,
        banned_at=datetime.now(UTC) if banned else None,
    )
