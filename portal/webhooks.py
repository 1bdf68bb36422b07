"""Webhooks: chosen events, POSTed as signed JSON to addresses that administrators register.

An event becomes one outbox row per subscribed webhook, written by a listener of every event inside
the transaction that raised it, so a delivery exists exactly when its cause committed. The outbox
worker then POSTs it (never inside a transaction), retries with backoff, and gives up after
`Settings.webhook_max_attempts` tries. Every try is kept in `WebhookAttempt` for the delivery log.

The portal does not know ideas, votes or perks: each feature registers, per event name, a payload
builder `async (event) -> (data, is_public) | None` (None: nothing to tell, e.g. hidden content).
Webhooks marked "public content only" get only events whose builder says the content is public.

Signing (documented for receivers in README.md, "Webhooks"): the body is the UTF-8 JSON text of
`{"id", "event", "created_at", "data"}`, and `Hearken-Signature: t=<unix time>,v1=<hex>` carries
HMAC-SHA256 with the webhook's secret over `f"{t}.{body}"`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from tortoise.signals import post_delete, post_save
from tortoise.transactions import in_transaction

from portal import audit, outbox, permissions
from portal.cache import TTLCache
from portal.errors import Errors, NotFound
from portal.events import Event, listen_all
from portal.models import WEBHOOK_EVENTS, OutboxMessage, User, Webhook, WebhookAttempt
from portal.settings import Settings

CHANNEL = "webhook"
TEST_EVENT = "ping"
TIMEOUT = 10.0
SECRET_PREFIX = "whsec_"
MIN_SECRET_LENGTH = 16
USER_AGENT = "Hearken-Webhooks/1"
_ERROR_BODY_CHARS = 300

Payload = tuple[dict[str, Any], bool]
Builder = Callable[[Any], Awaitable[Payload | None]]

_builders: dict[str, Builder] = {}
_base_url = Settings.base_url


def register_payload(event_name: str, builder: Builder) -> None:
    """Makes `event_name` deliverable: `builder(event)` gives `(data, is_public)`, or None to skip."""
    if event_name not in WEBHOOK_EVENTS:
        raise ValueError(f"{event_name!r} is not a webhook event ({', '.join(WEBHOOK_EVENTS)})")
    _builders[event_name] = builder


def configure(settings: Settings) -> None:
    """Called at app creation: payloads carry absolute links to this site."""
    global _base_url
    _base_url = settings.base_url.rstrip("/")


def absolute_url(path: str) -> str:
    return _base_url + path


@permissions.policy("webhook.manage")
def can_manage_webhooks(user: User | None, _obj: Any) -> bool:
    return permissions.is_admin(user)


# --- signing -------------------------------------------------------------------------------------


def signature(secret: str, timestamp: int, body: str) -> str:
    """Hex HMAC-SHA256 of `f"{timestamp}.{body}"` under `secret`."""
    message = f"{timestamp}.{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: str) -> str:
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def body_of(payload: dict[str, Any]) -> str:
    """The exact JSON text POSTed for an outbox row (signed as is)."""
    envelope = {
        "id": payload["delivery_id"],
        "event": payload["event"],
        "created_at": payload["created_at"],
        "data": payload["data"],
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


# --- from events to outbox rows ------------------------------------------------------------------


def _cause(event: Event) -> str:
    """A stable key for one event, so a replayed event queues no second delivery."""
    fields = json.dumps(asdict(event), sort_keys=True, default=str)
    return f"{event.name}:{hashlib.sha256(fields.encode()).hexdigest()[:32]}"


def _row(hook_id: int, event: str, data: dict[str, Any], key: str, at: datetime) -> OutboxMessage:
    payload = {
        "webhook_id": hook_id,
        "event": event,
        "delivery_id": str(uuid.uuid4()),
        "created_at": at.isoformat(),
        "data": data,
    }
    return OutboxMessage(channel=CHANNEL, payload=payload, dedupe_key=key, available_at=at)


def _key(hook_id: int, cause: str) -> str:
    return f"{CHANNEL}:{hook_id}:{cause}"


# Every event asks which webhooks want it, and webhooks change rarely: the active ones are kept in
# memory (a shared cache: cleared in every process when one is saved or deleted, see portal.cache).
_active = TTLCache(300, name="portal.webhooks")


async def _active_hooks() -> list[Webhook]:
    """The active webhooks. Shared between events: never modify what this returns."""
    return await _active.get_or_compute("active", _load_active)  # type: ignore[no-any-return]


async def _load_active() -> list[Webhook]:
    return await Webhook.filter(active=True).order_by("id")


async def _changed() -> None:
    await _active.invalidate()


@post_save(Webhook)
async def _saved(_sender: Any, _instance: Any, _created: bool, _using_db: Any, _fields: Any) -> None:
    await _changed()


@post_delete(Webhook)
async def _deleted(_sender: Any, _instance: Any, _using_db: Any) -> None:
    await _changed()


async def _on_event(event: Event) -> None:
    """Queues the event for every webhook that wants it (runs inside the event's transaction)."""
    builder = _builders.get(event.name)
    if builder is None:
        return
    hooks = [h for h in await _active_hooks() if event.name in (h.events or [])]
    if not hooks:
        return
    built = await builder(event)
    if built is None:
        return
    data, is_public = built
    hooks = [h for h in hooks if is_public or not h.public_only]
    if not hooks:
        return
    cause = _cause(event)
    keys = {h.id: _key(h.id, cause) for h in hooks}
    done = set(
        await OutboxMessage.filter(dedupe_key__in=list(keys.values())).values_list("dedupe_key", flat=True)
    )
    at = datetime.now(UTC)
    await OutboxMessage.bulk_create(
        [_row(h.id, event.name, data, keys[h.id], at) for h in hooks if keys[h.id] not in done]
    )


# --- delivery (the outbox worker calls this, outside any transaction) -----------------------------


class DeliveryFailed(Exception):
    """The receiver did not answer 2xx; the outbox tries again later."""


async def private_address(url: str) -> str | None:
    """The first address of the receiver's host that is not on the public internet (loopback, a
    private network, link-local such as a cloud's metadata service), or None.

    A webhook is a request the portal makes on an administrator's word: pointed inward, it would
    reach services that trust the portal's network. Checked as each delivery starts; redirects are
    never followed. (A host whose name changes address between this check and the connection
    could still slip through; the delivery's own resolution is not pinned.)
    """
    host = urlsplit(url).hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None  # unresolvable: the delivery fails with the resolver's own error
    for info in found:
        address = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone index is no part of the address
        if not ipaddress.ip_address(address).is_global:
            return address
    return None


async def deliver(row: OutboxMessage, settings: Settings) -> None:
    payload = row.payload
    hook = await Webhook.get_or_none(id=payload["webhook_id"])
    if hook is None:
        raise outbox.PermanentFailure("the webhook was deleted")
    if not hook.active:
        raise outbox.PermanentFailure("the webhook is turned off")
    body = body_of(payload)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Hearken-Event": payload["event"],
        "Hearken-Delivery": payload["delivery_id"],
        "Hearken-Signature": signature_header(hook.secret, timestamp, body),
    }
    status: int | None = None
    error = ""
    started = time.monotonic()
    inward = None if settings.webhook_private_addresses else await private_address(hook.url)
    if inward is not None:
        error = (
            f"Refused: {urlsplit(hook.url).hostname} is at {inward}, not on the public internet"
            " (HEARKEN_WEBHOOK_PRIVATE_ADDRESSES=1 allows receivers on the local network)."
        )
        await _record_attempt(row, hook, status, error, started)
        raise outbox.PermanentFailure(error)
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            response = await client.post(hook.url, content=body.encode(), headers=headers)
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}: {response.text[:_ERROR_BODY_CHARS]}".rstrip(": ")
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
    await _record_attempt(row, hook, status, error, started)
    if not error:
        return
    if row.attempts >= settings.webhook_max_attempts:
        raise outbox.PermanentFailure(f"{error} (gave up after {row.attempts} tries)")
    raise DeliveryFailed(error)


async def _record_attempt(
    row: OutboxMessage, hook: Webhook, status: int | None, error: str, started: float
) -> None:
    await WebhookAttempt.create(
        webhook_id=hook.id,
        outbox_id=row.id,
        delivery_id=row.payload["delivery_id"],
        event=row.payload["event"],
        attempt=row.attempts,
        status_code=status,
        error=error,
        duration_ms=int((time.monotonic() - started) * 1000),
    )


# --- administration ------------------------------------------------------------------------------


def _check(errors: Errors, url: str, events_: Iterable[str], secret: str) -> tuple[str, list[str], str]:
    url = url.strip()
    parts = urlsplit(url)
    if not url:
        errors.add("url", "Enter the address that receives the events.")
    elif len(url) > 500:
        errors.add("url", "Use at most 500 characters.")
    elif parts.scheme not in ("http", "https") or not parts.hostname:
        errors.add("url", "Enter an http:// or https:// address.")
    chosen = [e for e in WEBHOOK_EVENTS if e in set(events_)]
    if not chosen:
        errors.add("events", "Choose at least one event.")
    secret = secret.strip()
    if secret and not MIN_SECRET_LENGTH <= len(secret) <= 100:
        errors.add("secret", f"Use {MIN_SECRET_LENGTH} to 100 characters, or leave it empty for a new one.")
    return url, chosen, secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


async def create_webhook(
    *,
    actor: User | None,
    url: str,
    events: Iterable[str],
    public_only: bool = True,
    secret: str = "",
    description: str = "",
) -> Webhook:
    permissions.require(actor, "webhook.manage")
    errors = Errors()
    url, chosen, secret = _check(errors, url, events, secret)
    errors.raise_if_any()
    async with in_transaction():
        hook = await Webhook.create(
            url=url,
            secret=secret or new_secret(),
            events=chosen,
            public_only=public_only,
            description=description.strip()[:200],
            created_by=actor,
        )
        await audit.record(actor, "webhook.create", kind="webhook", object_id=hook.id, url=url)
    return hook


async def update_webhook(
    *,
    actor: User | None,
    webhook_id: int,
    url: str,
    events: Iterable[str],
    public_only: bool,
    active: bool,
    secret: str = "",
    description: str = "",
) -> Webhook:
    """Changes a webhook; an empty `secret` keeps the current one."""
    hook = await get_webhook(actor=actor, webhook_id=webhook_id)
    errors = Errors()
    url, chosen, secret = _check(errors, url, events, secret)
    errors.raise_if_any()
    async with in_transaction():
        await Webhook.filter(id=hook.id).update(
            url=url,
            events=chosen,
            public_only=public_only,
            active=active,
            secret=secret or hook.secret,
            description=description.strip()[:200],
        )
        await _changed()  # a bulk update sends no signal
        await audit.record(
            actor, "webhook.update", kind="webhook", object_id=hook.id, url=url, secret_changed=bool(secret)
        )
    return await Webhook.get(id=hook.id)


async def delete_webhook(*, actor: User | None, webhook_id: int) -> None:
    hook = await get_webhook(actor=actor, webhook_id=webhook_id)
    async with in_transaction():
        await hook.delete()
        await audit.record(actor, "webhook.delete", kind="webhook", object_id=webhook_id, url=hook.url)


async def get_webhook(*, actor: User | None, webhook_id: int) -> Webhook:
    permissions.require(actor, "webhook.manage")
    hook = await Webhook.get_or_none(id=webhook_id)
    if hook is None:
        raise NotFound("There is no such webhook.")
    return hook


async def list_webhooks(*, actor: User | None) -> list[Webhook]:
    permissions.require(actor, "webhook.manage")
    return await Webhook.all().order_by("id")


async def send_test(*, actor: User | None, webhook_id: int) -> OutboxMessage:
    """Queues a `ping` delivery to the webhook (even when it is turned off, it is refused then)."""
    hook = await get_webhook(actor=actor, webhook_id=webhook_id)
    at = datetime.now(UTC)
    data = {"webhook": {"id": hook.id, "url": hook.url}, "message": "A test delivery from Hearken."}
    row = _row(hook.id, TEST_EVENT, data, _key(hook.id, f"{TEST_EVENT}:{uuid.uuid4().hex}"), at)
    await row.save()
    outbox.nudge()
    return row


def _state(row: dict[str, Any]) -> str:
    if row["sent_at"] is not None:
        return "sent"
    if row["failed_at"] is not None:
        return "failed"
    return "retrying" if row["attempts"] else "pending"


async def deliveries(*, actor: User | None, webhook_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The latest deliveries of a webhook, newest first, each with its `state` and its `tries`."""
    hook = await get_webhook(actor=actor, webhook_id=webhook_id)
    rows = await (
        OutboxMessage.filter(channel=CHANNEL, dedupe_key__startswith=f"{CHANNEL}:{hook.id}:")
        .order_by("-id")
        .limit(limit)
        .values(
            "id", "payload", "attempts", "created_at", "available_at", "sent_at", "failed_at", "last_error"
        )
    )
    tries: dict[int, list[dict[str, Any]]] = {}
    if rows:
        for attempt in (
            await WebhookAttempt.filter(outbox_id__in=[r["id"] for r in rows]).order_by("id").values()
        ):
            tries.setdefault(attempt["outbox_id"], []).append(attempt)
    for row in rows:
        payload = row["payload"] if isinstance(row["payload"], dict) else json.loads(row["payload"])
        row["event"] = payload.get("event", "")
        row["delivery_id"] = payload.get("delivery_id", "")
        row["state"] = _state(row)
        row["tries"] = tries.get(row["id"], [])
    return rows


# Importing this module installs webhooks: every event may become a delivery, and workers deliver them.
listen_all(_on_event)
outbox.register_channel(CHANNEL, deliver)
