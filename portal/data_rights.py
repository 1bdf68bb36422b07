"""Data rights: a member downloads what the portal holds about them, and deletes their account.

Each package says what it holds about a person: `register_exporter(name, fn)` adds a section to the
download (`fn(user)` returns a list or a dict of plain values), and `register_eraser(fn)` removes or
detaches what must not outlive the account (votes, follows, ...). Features register theirs in their
setup, so the portal never imports them.

Deleting an account keeps the content people wrote (ideas, comments, the points ledger) and makes it
anonymous: the user row stays, named "Deleted member", with an address that cannot receive mail, no
password, no sign-in identities or tokens, and every session ended. What named the person elsewhere
(notifications, queued and kept mail, webhook payloads, the audit log) is removed or rewritten.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from portal import audit, permissions
from portal.accounts import normalize_email
from portal.errors import Conflict, Invalid
from portal.models import (
    ApiToken,
    AuditEntry,
    Identity,
    KeptMail,
    Notification,
    NotificationPreference,
    OutboxMessage,
    User,
)
from portal.passwords import verify_password

Exporter = Callable[[User], Awaitable[list[Any] | dict[str, Any]]]
Eraser = Callable[[User], Awaitable[None]]

DELETED_NAME = "Deleted member"
FORMAT = "hearken-export/1"
_BATCH = 500

_exporters: dict[str, Exporter] = {}
_erasers: list[Eraser] = []


def register_exporter(name: str, fn: Exporter) -> None:
    """Adds section `name` to every member's download."""
    _exporters[name] = fn


def register_eraser(fn: Eraser) -> None:
    """`fn(user)` runs inside the deletion's transaction, before the portal anonymises the user."""
    if fn not in _erasers:
        _erasers.append(fn)


def deleted_email(user_id: int) -> str:
    return f"deleted-{user_id}@invalid.example"


@permissions.policy("account.delete")
def _can_delete_account(user: User | None, _obj: Any) -> bool:
    return permissions.is_active(user)


# --- export --------------------------------------------------------------------------------------


async def export_data(*, actor: User | None) -> dict[str, Any]:
    """Everything registered about `actor`, section by section."""
    permissions.require(actor, "account.view")
    assert actor is not None
    data: dict[str, Any] = {"format": FORMAT, "exported_at": datetime.now(UTC)}
    for name, exporter in _exporters.items():
        data[name] = await exporter(actor)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=_plain, ensure_ascii=False, indent=2)


async def _export_account(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "email_verified_at": user.email_verified_at,
        "created_at": user.created_at,
        "sign_in_identities": await Identity.filter(user_id=user.id).values(
            "provider", "email", "created_at", "last_used_at"
        ),
        "api_tokens": await ApiToken.filter(user_id=user.id).values(
            "name", "prefix", "created_at", "last_used_at", "revoked_at"
        ),
        "mail_preferences": await NotificationPreference.filter(user_id=user.id).values("kind", "mode"),
    }


async def _export_notifications(user: User) -> list[dict[str, Any]]:
    return await (
        Notification.filter(user_id=user.id)
        .order_by("id")
        .values("kind", "title", "body", "url", "created_at", "read_at")
    )


# --- deletion ------------------------------------------------------------------------------------


async def delete_account(*, actor: User | None, password: str = "", email: str = "") -> None:
    """Deletes `actor`'s account, confirmed by their password (or, without one, their address)."""
    permissions.require(actor, "account.delete")
    assert actor is not None
    if actor.password_hash:
        if not await verify_password(actor.password_hash, password):
            raise Invalid({"password": "The password is wrong."})
    elif normalize_email(email) != actor.email:
        raise Invalid({"email": "Type your e-mail address exactly as shown to confirm."})
    if (
        actor.role == "admin"
        and not await User.filter(role="admin", banned_at=None).exclude(id=actor.id).exists()
    ):
        raise Conflict("You are the only administrator: make someone else an administrator first.")
    scrub = _Scrubber(name=actor.name, email=actor.email, user_id=actor.id)
    async with in_transaction():
        for eraser in _erasers:
            await eraser(actor)
        await ApiToken.filter(user_id=actor.id).delete()
        await Identity.filter(user_id=actor.id).delete()
        await NotificationPreference.filter(user_id=actor.id).delete()
        await Notification.filter(user_id=actor.id).delete()
        await KeptMail.filter(recipient=actor.email).delete()
        await User.filter(id=actor.id).update(
            name=DELETED_NAME,
            email=deleted_email(actor.id),
            password_hash=None,
            session_version=F("session_version") + 1,
        )
        await _scrub_notifications(scrub)
        await _scrub_kept_mail(scrub)
        await _scrub_outbox(scrub)
        await _scrub_audit(scrub)
        await audit.record(actor, "account.delete", kind="user", object_id=actor.id)
    actor.name, actor.email, actor.password_hash = DELETED_NAME, deleted_email(actor.id), None


class _Scrubber:
    """Rewrites the deleted person's address and name wherever text or JSON mentions them."""

    def __init__(self, *, name: str, email: str, user_id: int) -> None:
        self.user_id = user_id
        self.email = email
        self.name = name
        self._rules = [(re.compile(re.escape(email), re.IGNORECASE), deleted_email(user_id))]
        if name and name != DELETED_NAME:
            # Whole words only, so a short name does not eat into other words.
            self._rules.append((re.compile(rf"(?<!\w){re.escape(name)}(?!\w)"), DELETED_NAME))

    def text(self, value: str) -> str:
        for pattern, replacement in self._rules:
            value = pattern.sub(replacement, value)
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value


async def _scrub_notifications(scrub: _Scrubber) -> None:
    """Other people's notifications that name the person ("Ann mentioned you")."""
    match = Q(title__icontains=scrub.email) | Q(body__icontains=scrub.email)
    if scrub.name:
        match |= Q(title__contains=scrub.name) | Q(body__contains=scrub.name)
    for row in await Notification.filter(match).values("id", "title", "body"):
        title, body = scrub.text(row["title"]), scrub.text(row["body"])
        if (title, body) != (row["title"], row["body"]):
            await Notification.filter(id=row["id"]).update(title=title, body=body)


async def _scrub_kept_mail(scrub: _Scrubber) -> None:
    """Mail kept for reading (no SMTP set) that was sent to others and names the person."""
    match = Q(subject__icontains=scrub.email) | Q(text__icontains=scrub.email)
    if scrub.name:
        match |= Q(subject__contains=scrub.name) | Q(text__contains=scrub.name) | Q(html__contains=scrub.name)
    for row in await KeptMail.filter(match).values("id", "subject", "text", "html", "headers"):
        cleaned = {
            "subject": scrub.text(row["subject"]),
            "text": scrub.text(row["text"]),
            "html": scrub.text(row["html"]),
            "headers": scrub.value(_json(row["headers"])),
        }
        await KeptMail.filter(id=row["id"]).update(**cleaned)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


async def _scrub_outbox(scrub: _Scrubber) -> None:
    """Mail to the person is dropped, sent or not; other rows (webhooks) are rewritten."""
    last = 0
    while (
        rows := await OutboxMessage.filter(id__gt=last)
        .order_by("id")
        .limit(_BATCH)
        .values("id", "channel", "payload")
    ):
        last = rows[-1]["id"]
        for row in rows:
            payload = _json(row["payload"])
            if (
                row["channel"] == "email"
                and isinstance(payload, dict)
                and payload.get("user_id") == scrub.user_id
            ):
                await OutboxMessage.filter(id=row["id"]).delete()
                continue
            cleaned = scrub.value(payload)
            if cleaned != payload:
                await OutboxMessage.filter(id=row["id"]).update(payload=cleaned)


async def _scrub_audit(scrub: _Scrubber) -> None:
    """Details of staff actions that name the person (a vote recorded on their behalf)."""
    last = 0
    while rows := await AuditEntry.filter(id__gt=last).order_by("id").limit(_BATCH).values("id", "detail"):
        last = rows[-1]["id"]
        for row in rows:
            detail = _json(row["detail"])
            cleaned = scrub.value(detail)
            if cleaned != detail:
                await AuditEntry.filter(id=row["id"]).update(detail=cleaned)


register_exporter("account", _export_account)
register_exporter("notifications", _export_notifications)
