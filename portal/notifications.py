"""Notifications: an in-app row per person, and an e-mail in the outbox (delivered by the worker)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from portal.models import Notification, OutboxMessage, User


async def notify(
    user_ids: Iterable[int],
    *,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    cause: str,
    exclude: Iterable[int] = (),
) -> int:
    """Tells each person once about `cause` (a stable key such as "status:42"); returns how many.

    Call it inside the transaction of the change it reports: the rows commit or roll back with it.
    """
    skip = set(exclude)
    ids = sorted({uid for uid in user_ids if uid not in skip})
    if not ids:
        return 0
    active = await User.filter(id__in=ids, banned_at=None).values_list("id", flat=True)
    keys = [f"{cause}:{uid}" for uid in active]
    existing = set(await Notification.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    now = datetime.now(UTC)
    fresh = [uid for uid, key in zip(active, keys, strict=True) if key not in existing]
    await Notification.bulk_create(
        [
            Notification(user_id=uid, kind=kind, title=title, body=body, url=url, dedupe_key=f"{cause}:{uid}")
            for uid in fresh
        ]
    )
    await OutboxMessage.bulk_create(
        [
            OutboxMessage(
                channel="email",
                payload={"user_id": uid, "kind": kind, "title": title, "body": body, "url": url},
                dedupe_key=f"email:{cause}:{uid}",
                available_at=now,
            )
            for uid in fresh
        ]
    )
    return len(fresh)


async def unread_count(user: User) -> int:
    return await Notification.filter(user=user, read_at=None).count()
