"""Helpers for the portal's tests: cheap password hashes, and apps built with changed settings."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.app import create_app
from tests import factories

# A real argon2 hash with the lowest cost: verifying it (every sign-in) takes well under a millisecond,
# where the default cost takes ~130 ms. The parameters travel inside the hash, so the portal's own
# verifier checks it exactly as it checks a production hash.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
CHEAP_HASH = CHEAP_HASHER.hash(factories.PASSWORD)


@pytest.fixture(autouse=True)
def _cheap_factory_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factories, "_HASH", CHEAP_HASH)


@pytest.fixture
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Makes the accounts service hash new passwords at the lowest argon2 cost."""

    async def hash_password(password: str) -> str:
        return CHEAP_HASHER.hash(password)

    monkeypatch.setattr("portal.accounts.hash_password", hash_password)


AppBuilder = Callable[..., contextlib.AbstractAsyncContextManager[Starlette]]


@pytest.fixture
def build_app(make_settings: Callable[..., Any]) -> AppBuilder:
    """`async with build_app(routes=[...], **setting_changes) as app:` — an app of its own, started.

    `routes` are tried before the portal's own. Do not combine with the `app`/`client` fixtures:
    one test, one application.
    """

    @contextlib.asynccontextmanager
    async def build(routes: Sequence[BaseRoute] = (), **changes: Any) -> AsyncIterator[Starlette]:
        EXECUTOR_CACHE.clear()
        application = create_app(make_settings(**changes), migrate=False)
        application.router.routes[0:0] = list(routes)
        async with application.router.lifespan_context(application):
            yield application

    return build
