"""The outbox: work that leaves the process, delivered after its cause commits, at least once.

Rows are written in the transaction of their cause (`enqueue`, `notifications.notify`). A worker
claims a batch in a short transaction: it locks due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
several workers never take the same row; on SQLite one process serialises everything) and leases
them by moving `available_at` a few minutes ahead. It then delivers each row outside any transaction
and records the outcome:

- sent: `sent_at` is set, and a row with `sent_at` is never claimed again;
- failed: the next try waits 30 s, 1 min, 2 min, ... (doubling, at most 6 h); after 8 tries, or
  at once when the failure is permanent, `failed_at` is set and the row stays for inspection;
- the process died: nothing is recorded, the lease runs out, and another worker delivers the row
  again. So a row is delivered at least once, and more than once only when the process died between
  the send and the record of it (the stable Message-ID lets mail clients show such a copy once).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from portal import mail, notifications, tokens
from portal.models import OutboxMessage
from portal.settings import Settings

log = logging.getLogger("hearken.outbox")

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=6)
LEASE = timedelta(minutes=5)
HOUSEKEEPING_EVERY = timedelta(minutes=1)

Clock = Callable[[], datetime]
# Channels that other modules deliver (e.g. "webhook", in portal/webhooks.py), by name; e-mail is
# built in. A handler returns when the row is sent and raises to fail (`PermanentFailure`: for good).
ChannelHandler = Callable[[OutboxMessage, Settings], Awaitable[None]]
PermanentFailure = mail.PermanentFailure

_channels: dict[str, ChannelHandler] = {}
_wakers: set[asyncio.Event] = set()


def register_channel(name: str, deliver: ChannelHandler) -> None:
    """Lets workers deliver rows of channel `name` with `deliver(row, settings)`: it returns when
    sent, raises to be retried with backoff, or raises `mail.PermanentFailure` to give up at once."""
    _channels[name] = deliver


def _now() -> datetime:
    return datetime.now(UTC)


async def enqueue(
    channel: str, payload: dict[str, Any], *, key: str | None = None, available_at: datetime | None = None
) -> OutboxMessage:
    """Writes one row; call it inside the transaction of its cause. `key` makes retries idempotent."""
    return await OutboxMessage.create(
        channel=channel,
        payload=payload,
        dedupe_key=key or f"{channel}:{uuid.uuid4().hex}",
        available_at=available_at or _now(),
    )


async def enqueue_mail(template: str, *, key: str | None = None, **payload: Any) -> OutboxMessage:
    return await enqueue("email", {"template": template, **payload}, key=key)


def nudge() -> None:
    """Wakes workers running in this process (after a commit that queued something urgent)."""
    for event in _wakers:
        event.set()


def backoff(attempts: int) -> timedelta:
    """The wait before try number `attempts + 1`: 30 s doubling per try, at most 6 h."""
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


async def claim(limit: int, *, now: datetime, lease: timedelta = LEASE) -> list[OutboxMessage]:
    """Takes up to `limit` due rows for this worker, oldest first, and leases them."""
    async with in_transaction():
        rows = await (
            OutboxMessage.filter(sent_at=None, failed_at=None, available_at__lte=now)
            .order_by("available_at", "id")
            .limit(limit)
            .select_for_update(skip_locked=True)
        )
        if not rows:
            return []
        await OutboxMessage.filter(id__in=[r.id for r in rows]).update(
            available_at=now + lease, attempts=F("attempts") + 1
        )
    for row in rows:
        row.attempts += 1
    return rows


async def mark_sent(row: OutboxMessage, *, now: datetime) -> None:
    await OutboxMessage.filter(id=row.id, sent_at=None).update(sent_at=now, last_error="")


async def mark_failed(row: OutboxMessage, error: str, *, now: datetime, permanent: bool = False) -> None:
    error = error[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        await OutboxMessage.filter(id=row.id, sent_at=None).update(failed_at=now, last_error=error)
    else:
        await OutboxMessage.filter(id=row.id, sent_at=None).update(
            available_at=now + backoff(row.attempts), last_error=error
        )


class Worker:
    """Delivers due outbox rows. `run` loops until stopped; `run_once` and `drain` are for tests and
    `hearken worker --once`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: mail.Transport | None = None,
        batch: int = 20,
        lease: timedelta = LEASE,
        clock: Clock = _now,
    ) -> None:
        self.settings = settings
        self.transport = transport or mail.transport_for(settings)
        self.batch = batch
        self.lease = lease
        self.clock = clock
        self._housekeeping_at: datetime | None = None

    async def _send_email(self, row: OutboxMessage, _settings: Settings) -> None:
        composed = await mail.compose(self.settings, row.payload)
        if composed is None:
            return  # nothing to send any more: recorded as done
        message = mail.to_message(self.settings, composed, ref=f"outbox:{row.id}:{row.dedupe_key}")
        await self.transport.send(message, outbox_id=row.id)

    async def deliver(self, row: OutboxMessage) -> bool:
        """Delivers one claimed row and records the outcome; True when it was sent."""
        handler = self._send_email if row.channel == "email" else _channels.get(row.channel)
        try:
            if handler is None:
                raise PermanentFailure(f"no handler for channel {row.channel!r}")
            await handler(row, self.settings)
        except PermanentFailure as exc:
            log.warning("outbox %s failed for good: %s", row.id, exc)
            await mark_failed(row, str(exc), now=self.clock(), permanent=True)
            return False
        except Exception as exc:
            log.warning("outbox %s try %s failed: %r", row.id, row.attempts, exc)
            await mark_failed(row, f"{type(exc).__name__}: {exc}", now=self.clock())
            return False
        await mark_sent(row, now=self.clock())
        return True

    async def run_once(self) -> int:
        """Claims one batch and delivers it, one row after another; returns how many were claimed."""
        rows = await claim(self.batch, now=self.clock(), lease=self.lease)
        for row in rows:
            await self.deliver(row)
        return len(rows)

    async def drain(self) -> int:
        """Delivers until nothing is due; returns how many rows were tried."""
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def housekeeping(self) -> None:
        """Queues daily digests that are due and forgets used links past their age (once a minute)."""
        now = self.clock()
        if self._housekeeping_at is not None and now - self._housekeeping_at < HOUSEKEEPING_EVERY:
            return
        self._housekeeping_at = now
        await notifications.queue_digests(now=now, hour=self.settings.digest_hour)
        await tokens.forget_expired(now)

    async def run(self, stop: asyncio.Event, *, interval: float = 2.0) -> None:
        """Delivers until `stop` is set; sleeps `interval` seconds (or until nudged) when idle."""
        wake = asyncio.Event()
        _wakers.add(wake)
        try:
            while not stop.is_set():
                try:
                    await self.housekeeping()
                    busy = await self.run_once()
                except Exception:
                    log.exception("outbox worker pass failed; trying again")
                    busy = 0
                if busy:
                    continue
                wake.clear()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
                try:
                    await asyncio.wait(waiters, timeout=interval, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    for waiter in waiters:
                        waiter.cancel()
        finally:
            _wakers.discard(wake)
