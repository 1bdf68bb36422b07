"""Fixtures for the rewards tests: cheap password hashes for the members they make, signed-in browsers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette

from portal.models import User
from tests import factories
from tests.browser import Client

# Lowest argon2 cost: a sign-in verifies in well under a millisecond instead of ~100 ms.
_CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(factories.PASSWORD)


@pytest.fixture(autouse=True)
def _cheap_factory_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factories, "_HASH", _CHEAP_HASH)


SignedIn = Callable[..., Awaitable[tuple[Client, User]]]


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[SignedIn]:
    """`client, user = await browser(role="member")`: a new browser signed in as a new user.

    Pass `user=` to sign in as someone who exists already.
    """
    opened: list[Client] = []

    async def open_as(role: str = "member", user: User | None = None, **kw: Any) -> tuple[Client, User]:
        user = user or await factories.make_user(role=role, **kw)
        client = Client(app)
        opened.append(client)
        await client.sign_in_as(user)
        return client, user

    yield open_as
    for client in opened:
        await client.http.aclose()
