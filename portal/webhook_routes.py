"""Administration pages for webhooks: the list, one webhook with its delivery log, a test delivery."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal import permissions, webhooks
from portal.errors import Invalid
from portal.models import WEBHOOK_EVENTS, Webhook
from portal.templating import flash, render
from portal.web import see_other, user_of

_EMPTY = {"url": "", "events": list(WEBHOOK_EVENTS), "public_only": True, "secret": "", "description": ""}


async def _input(request: Request) -> dict[str, Any]:
    data = await request.form()
    text = {k: v for k, v in data.items() if isinstance(v, str)}
    return {
        "url": text.get("url", ""),
        "events": [e for e in data.getlist("events") if isinstance(e, str)],
        "public_only": text.get("public_only") in ("1", "on"),
        "secret": text.get("secret", ""),
        "description": text.get("description", ""),
        "active": text.get("active") in ("1", "on"),
    }


def _values(hook: Webhook) -> dict[str, Any]:
    return {
        "url": hook.url,
        "events": list(hook.events or []),
        "public_only": hook.public_only,
        "secret": "",
        "description": hook.description,
        "active": hook.active,
    }


async def list_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "webhook.manage")
    values, errors, status = dict(_EMPTY), {}, 200
    if request.method == "POST":
        values = await _input(request)
        try:
            hook = await webhooks.create_webhook(
                actor=user,
                url=values["url"],
                events=values["events"],
                public_only=values["public_only"],
                secret=values["secret"],
                description=values["description"],
            )
        except Invalid as exc:
            errors, status = exc.errors, 422
        else:
            flash(request, "Webhook added. Send a test delivery to check the receiver.", "success")
            return see_other(f"/admin/webhooks/{hook.id}")
    return render(
        request,
        "portal/webhooks.html",
        {
            "hooks": await webhooks.list_webhooks(actor=user),
            "form": values,
            "errors": errors,
            "event_names": WEBHOOK_EVENTS,
        },
        status_code=status,
    )


async def webhook_page(request: Request) -> Response:
    user = user_of(request)
    webhook_id = int(request.path_params["webhook_id"])
    hook = await webhooks.get_webhook(actor=user, webhook_id=webhook_id)
    values, errors, status = _values(hook), {}, 200
    if request.method == "POST":
        values = await _input(request)
        try:
            await webhooks.update_webhook(actor=user, webhook_id=hook.id, **values)
        except Invalid as exc:
            errors, status = exc.errors, 422
        else:
            flash(request, "Webhook saved.", "success")
            return see_other(f"/admin/webhooks/{hook.id}")
    return render(
        request,
        "portal/webhook.html",
        {
            "hook": hook,
            "form": values,
            "errors": errors,
            "event_names": WEBHOOK_EVENTS,
            "deliveries": await webhooks.deliveries(actor=user, webhook_id=hook.id),
        },
        status_code=status,
    )


async def send_test(request: Request) -> Response:
    webhook_id = int(request.path_params["webhook_id"])
    await webhooks.send_test(actor=user_of(request), webhook_id=webhook_id)
    flash(request, "Test delivery queued: it shows below once the worker has sent it.", "success")
    return see_other(f"/admin/webhooks/{webhook_id}")


async def delete(request: Request) -> Response:
    await webhooks.delete_webhook(actor=user_of(request), webhook_id=int(request.path_params["webhook_id"]))
    flash(request, "Webhook deleted.", "success")
    return see_other("/admin/webhooks")


def routes() -> list[BaseRoute]:
    hook = "/admin/webhooks/{webhook_id:int}"
    return [
        Route("/admin/webhooks", list_page, methods=["GET", "POST"]),
        Route(hook, webhook_page, methods=["GET", "POST"]),
        Route(hook + "/test", send_test, methods=["POST"]),
        Route(hook + "/delete", delete, methods=["POST"]),
    ]
