"""Notification pages: the list and the header bell, marking read, e-mail preferences, unsubscribe.

The bell is a fragment that htmx loads after the page (and again every minute, or when something is
marked read), so no page pays a query for it; without JavaScript it is a plain link to the list.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portal import auth, notifications, permissions, tokens
from portal.errors import Invalid, NotFound
from portal.link_routes import link_problem
from portal.models import MAIL_MODES, Notification, User
from portal.templating import flash, is_htmx, render

PAGE_SIZE = 30
_NO_STORE = {"Cache-Control": "no-store"}
_CHOOSE = {"again": "/account/notifications", "again_label": "Choose which e-mails you get"}


def _member(request: Request) -> User:
    user = auth.current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    return user


async def notifications_page(request: Request) -> Response:
    user = _member(request)
    raw = request.query_params.get("before", "")
    before = int(raw) if raw.isdigit() else None
    items = await notifications.recent(user, limit=PAGE_SIZE + 1, before=before)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    return render(
        request,
        "portal/notifications.html",
        {
            "items": items,
            "unread": await notifications.unread_count(user),
            "next_before": items[-1].id if more else None,
            "paged": before is not None,
        },
        headers=_NO_STORE,
    )


async def bell(request: Request) -> Response:
    user = auth.current_user(request)
    unread = await notifications.unread_count(user) if user is not None else 0
    headers = {**_NO_STORE, "Vary": "HX-Request"}
    return render(request, "portal/_bell.html", {"unread": unread}, headers=headers)


async def mark_read(request: Request) -> Response:
    user = _member(request)
    item = await notifications.mark_read(actor=user, notification_id=request.path_params["notification_id"])
    if is_htmx(request):
        response = render(request, "portal/_notification.html", {"item": item})
        response.headers["HX-Trigger"] = "notifications-changed"
        return response
    return RedirectResponse("/notifications", status_code=303)


async def mark_all_read(request: Request) -> Response:
    user = _member(request)
    count = await notifications.mark_all_read(actor=user)
    flash(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return RedirectResponse("/notifications", status_code=303)


async def preferences_page(request: Request) -> Response:
    user = _member(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        modes = {k.key: str(form.get(f"mode-{k.key}", k.default)) for k in notifications.kinds()}
        try:
            await notifications.set_preferences(actor=user, modes=modes)
        except Invalid as exc:
            errors = exc.errors
        else:
            flash(request, "Your e-mail choices are saved.", "success")
            return RedirectResponse("/account/notifications", status_code=303)
    return render(
        request,
        "portal/preferences.html",
        {
            "choices": await notifications.preferences(user),
            "modes": [(m, notifications.MODE_LABELS[m]) for m in MAIL_MODES],
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


async def unsubscribe(request: Request) -> Response:
    """GET shows what the link stops, with one button; POST (that button, or a mail client's
    RFC 8058 one-click request, which carries no cookie or CSRF token) stops it."""
    settings = request.app.state.settings
    try:
        payload = tokens.read(settings.secret_key, tokens.UNSUBSCRIBE, str(request.path_params["token"]))
        user_id, kind_key = int(payload["u"]), str(payload["k"])
    except (KeyError, TypeError, ValueError):
        return link_problem(request, tokens.problem("invalid"), **_CHOOSE)
    except tokens.LinkProblem as exc:
        return link_problem(request, exc, **_CHOOSE)
    label = "daily digest" if kind_key == notifications.DIGEST else notifications.kind(kind_key).label
    if request.method == "GET":
        return render(request, "portal/unsubscribe.html", {"label": label, "done": None})
    try:
        stopped = await notifications.unsubscribe(user_id, kind_key)
    except NotFound:
        return link_problem(request, tokens.problem("invalid"), **_CHOOSE)
    return render(request, "portal/unsubscribe.html", {"label": label, "done": stopped})


# JSON twins.


def _item_json(n: Notification) -> dict[str, object]:
    return {
        "id": n.id,
        "kind": n.kind,
        "title": n.title,
        "body": n.body,
        "url": n.url,
        "created_at": n.created_at.isoformat(),
        "read": n.read_at is not None,
    }


async def api_notifications(request: Request) -> Response:
    user = _member(request)
    items = await notifications.recent(user, limit=PAGE_SIZE)
    unread = await notifications.unread_count(user)
    return JSONResponse({"unread": unread, "items": [_item_json(n) for n in items]})


async def api_mark_read(request: Request) -> Response:
    user = _member(request)
    item = await notifications.mark_read(actor=user, notification_id=request.path_params["notification_id"])
    return JSONResponse(_item_json(item))


async def api_mark_all_read(request: Request) -> Response:
    user = _member(request)
    return JSONResponse({"marked": await notifications.mark_all_read(actor=user)})


def routes() -> list[BaseRoute]:
    return [
        Route("/notifications", notifications_page),
        Route("/notifications/bell", bell),
        Route("/notifications/{notification_id:int}/read", mark_read, methods=["POST"]),
        Route("/notifications/read-all", mark_all_read, methods=["POST"]),
        Route("/account/notifications", preferences_page, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
    ]


def api_routes() -> list[BaseRoute]:
    return [
        Route("/notifications", api_notifications),
        Route("/notifications/{notification_id:int}/read", api_mark_read, methods=["POST"]),
        Route("/notifications/read-all", api_mark_all_read, methods=["POST"]),
    ]
