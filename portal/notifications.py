"""Notifications: an in-app row per person, and e-mail by the person's choice per kind.

Each kind of notification is mailed at once (an outbox row written with the notification), in a
daily digest (the row waits, marked `digest_pending`, until `queue_digests` gathers it), or never.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from portal.errors import Invalid, NotFound
from portal.models import MAIL_MODES, Notification, NotificationPreference, OutboxMessage, User

MODE_LABELS = {"instant": "At once", "digest": "In a daily digest", "never": "Never"}
# The kind an unsubscribe link of a digest names: every kind the member gets in digests.
DIGEST = "digest"


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    default: str = "instant"


_kinds: dict[str, Kind] = {}

# Checks that drop the notices a person may no longer read (news of an idea hidden or moved to a
# board they cannot see since it was written), asked when notices are sent later (the digest).
NoticeFilter = Callable[[User, list[Notification]], Awaitable[list[Notification]]]
_notice_filters: list[NoticeFilter] = []


def register_notice_filter(fn: NoticeFilter) -> None:
    if fn not in _notice_filters:
        _notice_filters.append(fn)


async def still_readable(user: User, items: list[Notification]) -> list[Notification]:
    """The notices of `items` that `user` may still read, in order."""
    for fn in _notice_filters:
        items = await fn(user, items)
    return items


def register_kind(key: str, label: str, default: str = "instant") -> Kind:
    """Makes a kind of notification known to the preferences page; feature packages add theirs."""
    if default not in MAIL_MODES:
        raise ValueError(f"default must be one of {MAIL_MODES}")
    _kinds[key] = Kind(key, label, default)
    return _kinds[key]


for _key, _label, _default in (
    ("status_changed", "An idea you follow changes status", "instant"),
    ("official_response", "The team answers an idea you follow", "instant"),
    ("mention", "Someone mentions you", "instant"),
    ("idea_merged", "An idea you follow is merged into another", "instant"),
    ("changelog", "An idea you voted for or follow ships (changelog)", "instant"),
    ("tier_reached", "You reach a new insider tier", "instant"),
    ("perk_open", "A perk opens to you", "instant"),
    ("program_admitted", "You are admitted to an early-access program", "instant"),
):
    register_kind(_key, _label, _default)


def kind(key: str) -> Kind:
    return _kinds.get(key) or Kind(key, key.replace("_", " ").capitalize())


def kinds() -> list[Kind]:
    return list(_kinds.values())


async def modes_for(user_ids: Iterable[int], kind_key: str) -> dict[int, str]:
    ids = list(user_ids)
    chosen = dict(
        await NotificationPreference.filter(user_id__in=ids, kind=kind_key).values_list("user_id", "mode")
    )
    default = kind(kind_key).default
    return {uid: chosen.get(uid, default) for uid in ids}


async def mode_for(user_id: int, kind_key: str) -> str:
    return (await modes_for([user_id], kind_key))[user_id]


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
    modes = await modes_for(fresh, kind)
    await Notification.bulk_create(
        [
            Notification(
                user_id=uid,
                kind=kind,
                title=title,
                body=body,
                url=url,
                dedupe_key=f"{cause}:{uid}",
                digest_pending=modes[uid] == "digest",
            )
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
            if modes[uid] == "instant"
        ]
    )
    return len(fresh)


# The in-app list.


async def unread_count(user: User) -> int:
    return await Notification.filter(user=user, read_at=None).count()


async def recent(user: User, *, limit: int = 30, before: int | None = None) -> list[Notification]:
    query = Notification.filter(user=user).order_by("-id").limit(limit)
    if before is not None:
        query = query.filter(id__lt=before)
    return await query


async def mark_read(*, actor: User, notification_id: int) -> Notification:
    """Marks one of the actor's notifications read; someone else's is "not found"."""
    item = await Notification.get_or_none(id=notification_id, user_id=actor.id)
    if item is None:
        raise NotFound("There is no such notification.")
    if item.read_at is None:
        item.read_at = datetime.now(UTC)
        await Notification.filter(id=item.id, read_at=None).update(read_at=item.read_at)
    return item


async def mark_all_read(*, actor: User) -> int:
    return await Notification.filter(user_id=actor.id, read_at=None).update(read_at=datetime.now(UTC))


# Preferences and unsubscribing.


async def preferences(user: User) -> list[tuple[Kind, str]]:
    chosen = dict(await NotificationPreference.filter(user=user).values_list("kind", "mode"))
    return [(k, chosen.get(k.key, k.default)) for k in kinds()]


async def set_preferences(*, actor: User, modes: dict[str, str]) -> None:
    """Saves the actor's choice per kind; unknown kinds and modes are errors, all named at once."""
    choose = f"Choose one of {', '.join(MAIL_MODES)}."
    errors = {key: choose for key, mode in modes.items() if mode not in MAIL_MODES}
    errors.update({key: "There is no such kind of notification." for key in modes if key not in _kinds})
    if errors:
        raise Invalid(errors)
    async with in_transaction():
        for key, mode in modes.items():
            await _set_mode(actor.id, key, mode)


async def _set_mode(user_id: int, kind_key: str, mode: str) -> None:
    if await NotificationPreference.filter(user_id=user_id, kind=kind_key).update(mode=mode):
        return
    try:
        async with in_transaction():  # a savepoint: a concurrent insert must not abort the caller's
            await NotificationPreference.create(user_id=user_id, kind=kind_key, mode=mode)
    except IntegrityError:
        await NotificationPreference.filter(user_id=user_id, kind=kind_key).update(mode=mode)


async def unsubscribe(user_id: int, kind_key: str) -> list[Kind]:
    """Stops e-mail of one kind, or (`DIGEST`) of every kind now in the digest; returns what stopped.

    Idempotent: a second click stops nothing more and says so by returning an empty list.
    """
    if not await User.exists(id=user_id):
        raise NotFound("There is no such account.")
    current = dict(await NotificationPreference.filter(user_id=user_id).values_list("kind", "mode"))
    if kind_key == DIGEST:
        targets = [k for k in kinds() if current.get(k.key, k.default) == "digest"]
    else:
        target = kind(kind_key)
        targets = [target] if current.get(target.key, target.default) != "never" else []
    async with in_transaction():
        for target in targets:
            await _set_mode(user_id, target.key, "never")
        # Mail already waiting for the digest is dropped too: "stop" means now.
        await Notification.filter(
            user_id=user_id, digest_pending=True, kind__in=[t.key for t in targets]
        ).update(digest_pending=False)
    return targets


# Daily digests.


def digest_run_at(now: datetime, hour: int) -> datetime:
    """The latest digest time (today's `hour`:00 UTC, or yesterday's if that is still to come)."""
    at = now.astimezone(UTC).replace(hour=hour, minute=0, second=0, microsecond=0)
    return at if at <= now else at - timedelta(days=1)


async def queue_digests(*, now: datetime, hour: int) -> int:
    """Writes one digest mail per person with waiting notifications, at most one per day.

    The notifications made before the latest digest time go into that day's digest; those made
    after it wait for the next. Safe to run often and from several workers: the outbox row's
    dedupe key (`digest:{user}:{date}`) allows one per person and day.
    """
    run_at = digest_run_at(now, hour)
    day = run_at.date().isoformat()
    user_ids = await (
        Notification.filter(digest_pending=True, created_at__lte=run_at)
        .distinct()
        .values_list("user_id", flat=True)
    )
    queued = 0
    for user_id in sorted(set(user_ids)):
        key = f"digest:{user_id}:{day}"
        if await OutboxMessage.exists(dedupe_key=key):
            continue
        try:
            async with in_transaction():
                ids = await Notification.filter(
                    user_id=user_id, digest_pending=True, created_at__lte=run_at
                ).values_list("id", flat=True)
                if not ids:
                    continue
                await OutboxMessage.create(
                    channel="email",
                    payload={"template": "digest", "user_id": user_id, "notification_ids": sorted(ids)},
                    dedupe_key=key,
                    available_at=now,
                )
                await Notification.filter(id__in=ids).update(digest_pending=False)
        except IntegrityError:
            continue  # another worker queued this digest a moment ago
        queued += 1
    return queued
