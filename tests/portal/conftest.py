"""Helpers for the portal's tests: cheap password hashes, apps built with changed settings, and real
SMTP and OpenID Connect servers on 127.0.0.1 with helpers to read the mail the outbox delivers."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import BaseRoute
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal import outbox
from portal.app import create_app
from portal.models import KeptMail
from portal.settings import Settings
from tests import factories
from tests.portal.oidc_provider import Provider
from tests.portal.smtp_server import Inbox, SMTPServer

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


# Mail, the outbox and sign-in providers: real servers on 127.0.0.1, started once per run.


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def inbox(smtp_server: SMTPServer) -> Inbox:
    """The SMTP server's inbox, empty at the start of the test; its URL is `smtp_server.url`."""
    smtp_server.inbox.clear()
    return smtp_server.inbox


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[Provider]:
    provider = Provider()
    provider.start()
    try:
        yield provider
    finally:
        provider.stop()


@pytest.fixture
def provider(oidc_server: Provider) -> Provider:
    """The test OpenID provider, reset (a fresh person, no codes, good behaviour)."""
    oidc_server.reset()
    return oidc_server


async def deliver_mail(settings: Settings) -> list[KeptMail]:
    """Runs the outbox worker as the app would without SMTP; returns every mail kept, oldest first."""
    await outbox.Worker(settings).drain()
    return await KeptMail.all().order_by("id")


def link_in(text: str, path: str) -> str:
    """The local path of the first link to `path` (e.g. "/auth/verify") in a mail's text."""
    found = re.search(rf"https?://[^/\s]+({re.escape(path)}/[A-Za-z0-9_.\-]+)", text)
    assert found, f"no {path} link in:\n{text}"
    return found.group(1)
