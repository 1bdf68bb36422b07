"""The active webhooks are kept in memory (events ask for them on every vote): every change shows at once."""

from __future__ import annotations

from starlette.applications import Starlette

from portal import webhooks
from portal.models import OutboxMessage, Webhook
from tests.factories import make_idea, make_user


async def queued() -> int:
    return await OutboxMessage.filter(channel="webhook").count()


async def test_every_change_of_a_webhook_reaches_the_next_event(app: Starlette) -> None:
    admin = await make_user(role="admin")
    await make_idea()  # no webhook yet: "none" is what the cache holds now
    assert await queued() == 0

    hook = await webhooks.create_webhook(actor=admin, url="http://127.0.0.1:9/hook", events=["idea.posted"])
    await make_idea()
    assert await queued() == 1

    async def update(**changes: object) -> None:
        values = {"url": hook.url, "events": ["idea.posted"], "public_only": True, "active": True} | changes
        await webhooks.update_webhook(actor=admin, webhook_id=hook.id, **values)  # type: ignore[arg-type]

    await update(active=False)
    await make_idea()
    assert await queued() == 1
    await update(active=True, events=["comment.posted"])
    await make_idea()
    assert await queued() == 1
    await update(events=["idea.posted"])
    await make_idea()
    assert await queued() == 2

    await webhooks.delete_webhook(actor=admin, webhook_id=hook.id)
    await make_idea()
    assert await queued() == 2

    # A webhook written through the model, not the service, is seen too (the model's signals).
    await Webhook.create(url="http://127.0.0.1:9/other", secret="whsec_" + "x" * 20, events=["idea.posted"])
    await make_idea()
    assert await queued() == 3
