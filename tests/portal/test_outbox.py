"""The outbox (portal/outbox.py): claiming with leases, retries with backoff, at-least-once delivery
when a worker dies, several workers at once, `hearken worker`, and the worker inside the server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal import mail, outbox
from portal.app import create_app
from portal.models import KeptMail, OutboxMessage, User
from portal.settings import Settings
from tests.conftest import TEST_SECRET
from tests.factories import make_user
from tests.portal.smtp_server import Inbox, SMTPServer

pytestmark = pytest.mark.usefixtures("app")  # the database, opened as the app does


@pytest.fixture
def now() -> datetime:
    """The workers' clock: a little ahead, so that rows queued during the test are due."""
    return datetime.now(UTC) + timedelta(minutes=1)


async def queue_resets(n: int) -> list[User]:
    users = [await make_user(email=f"reader{i}@example.com") for i in range(n)]
    for user in users:
        await outbox.enqueue_mail("reset", user_id=user.id, key=f"test:{user.id}")
    return users


class CrashAfter:
    """Sends for real, then kills the worker right after the `n`-th send, before it is recorded."""

    def __init__(self, inner: mail.Transport, n: int) -> None:
        self.inner, self.n, self.sent = inner, n, 0

    async def send(self, message: EmailMessage, *, outbox_id: int | None = None) -> None:
        await self.inner.send(message, outbox_id=outbox_id)
        self.sent += 1
        if self.sent == self.n:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)  # the cancellation lands here: between the send and its record


async def test_a_worker_killed_between_send_and_record_loses_nothing_and_repeats_only_that_row(
    settings: Settings, now: datetime, smtp_server: SMTPServer, inbox: Inbox
) -> None:
    settings = replace(settings, smtp_url=smtp_server.url)
    users = await queue_resets(5)
    crashing = outbox.Worker(
        settings, transport=CrashAfter(mail.SMTPTransport(smtp_server.url), 3), clock=lambda: now
    )
    with pytest.raises(asyncio.CancelledError):
        await asyncio.create_task(crashing.drain())
    rows = await OutboxMessage.all().order_by("id")
    assert [r.sent_at is not None for r in rows] == [True, True, False, False, False]
    assert all(r.attempts == 1 for r in rows), "the whole batch was claimed"
    assert len(inbox.messages) == 3
    # While the dead worker's lease holds, no other worker takes its rows.
    assert await outbox.Worker(settings, clock=lambda: now + timedelta(minutes=1)).drain() == 0
    # After it, another worker delivers the rest: the unrecorded third again, never the first two.
    later = now + outbox.LEASE + timedelta(seconds=1)
    assert await outbox.Worker(settings, clock=lambda: later).drain() == 3
    assert await OutboxMessage.filter(sent_at=None).count() == 0
    received = Counter(m["To"] for m in inbox.messages)
    assert received == {
        users[0].email: 1,
        users[1].email: 1,
        users[2].email: 2,  # sent, then the process died before recording it
        users[3].email: 1,
        users[4].email: 1,
    }
    first, again = inbox.to(users[2].email)
    assert first["Message-ID"] == again["Message-ID"], "the copy carries the same id, for mail clients"
    assert await outbox.Worker(settings, clock=lambda: later + timedelta(days=1)).drain() == 0


async def test_failures_back_off_then_give_up(settings: Settings, now: datetime) -> None:
    calls: list[int] = []

    async def flaky(row: OutboxMessage, _settings: Settings) -> None:
        calls.append(row.attempts)
        raise ConnectionError("receiver down")

    outbox.register_channel("test-flaky", flaky)
    await outbox.enqueue("test-flaky", {"n": 1})
    at = now
    waits = []
    worker = outbox.Worker(settings, clock=lambda: at)
    for _ in range(outbox.MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        row = await OutboxMessage.get(channel="test-flaky")
        assert await worker.run_once() == 0, "not again before its time"
        if row.failed_at is None:
            waits.append(row.available_at - at)
            at = row.available_at
    assert calls == list(range(1, outbox.MAX_ATTEMPTS + 1))
    assert [w.total_seconds() for w in waits] == [30, 60, 120, 240, 480, 960, 1920]
    assert row.failed_at is not None and row.sent_at is None
    assert row.last_error == "ConnectionError: receiver down"
    assert outbox.backoff(30) == timedelta(hours=6)


async def test_an_unknown_channel_fails_at_once(settings: Settings, now: datetime) -> None:
    await outbox.enqueue("carrier-pigeon", {})
    await outbox.Worker(settings, clock=lambda: now).drain()
    row = await OutboxMessage.get(channel="carrier-pigeon")
    assert row.failed_at is not None and row.attempts == 1 and "no handler" in row.last_error


async def test_mail_for_an_account_gone_is_recorded_as_done(settings: Settings) -> None:
    user = await make_user()
    await outbox.enqueue_mail("signin_link", user_id=user.id)
    await User.filter(id=user.id).delete()
    await outbox.Worker(settings).drain()
    assert (await OutboxMessage.get()).sent_at is not None
    assert await KeptMail.all().count() == 0


class Recording:
    def __init__(self) -> None:
        self.ids: list[int | None] = []

    async def send(self, message: EmailMessage, *, outbox_id: int | None = None) -> None:
        await asyncio.sleep(0.002)
        self.ids.append(outbox_id)


async def test_several_workers_share_the_rows_without_delivering_any_twice(settings: Settings) -> None:
    """On PostgreSQL the claims skip each other's locked rows; on SQLite they take turns."""
    await queue_resets(30)
    transport = Recording()
    workers = [outbox.Worker(settings, transport=transport, batch=4) for _ in range(3)]
    done = await asyncio.gather(*(w.drain() for w in workers))
    assert sum(done) == 30
    assert sorted(transport.ids) == sorted(await OutboxMessage.all().values_list("id", flat=True))
    assert len(set(transport.ids)) == 30
    assert await OutboxMessage.filter(sent_at=None).count() == 0


async def test_hearken_worker_once_delivers_what_is_due(database_url: str) -> None:
    await queue_resets(2)
    env = {
        **os.environ,
        "HEARKEN_DATABASE_URL": database_url,
        "HEARKEN_SECRET_KEY": TEST_SECRET,
        "HEARKEN_BASE_URL": "https://ideas.example.com",
    }
    env.pop("HEARKEN_SMTP_URL", None)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "portal.cli", "worker", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "delivered 2 outbox row(s)" in done.stdout
    kept = await KeptMail.all().order_by("id")
    assert [k.recipient for k in kept] == ["reader0@example.com", "reader1@example.com"]
    assert "https://ideas.example.com/auth/reset/" in kept[0].text


def test_worker_help() -> None:
    from portal.cli import build_parser

    help_text = build_parser().format_help()
    assert "worker" in help_text


async def test_the_server_delivers_in_the_background_only_when_asked(settings: Settings) -> None:
    for background in (False, True):
        EXECUTOR_CACHE.clear()
        app = create_app(settings, migrate=False, background_worker=background)
        async with app.router.lifespan_context(app):
            user = await make_user()
            await outbox.enqueue_mail("signin_link", user_id=user.id)
            outbox.nudge()
            for _ in range(250 if background else 10):
                if await KeptMail.exists(recipient=user.email):
                    break
                await asyncio.sleep(0.02)
            assert await KeptMail.exists(recipient=user.email) is background
