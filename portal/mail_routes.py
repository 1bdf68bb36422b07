"""/staff/mail: the mail kept when no SMTP server is set, and the state of the outbox.

Only admins read it: account mails carry sign-in and reset links, so reading them is signing in as
anyone.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal import auth, permissions
from portal.errors import NotFound
from portal.models import KeptMail, OutboxMessage, User
from portal.permissions import is_admin, policy
from portal.templating import render

PAGE_SIZE = 50


@policy("mail.view")
def can_view_mail(user: User | None, _obj: Any) -> bool:
    return is_admin(user)


async def mail_page(request: Request) -> Response:
    permissions.require(auth.current_user(request), "mail.view")
    raw = request.query_params.get("before", "")
    query = KeptMail.all().order_by("-id").limit(PAGE_SIZE + 1)
    if raw.isdigit():
        query = query.filter(id__lt=int(raw))
    mails = await query
    more = len(mails) > PAGE_SIZE
    mails = mails[:PAGE_SIZE]
    pending = await OutboxMessage.filter(sent_at=None, failed_at=None).count()
    failed = await OutboxMessage.filter(failed_at__isnull=False).order_by("-failed_at").limit(20)
    return render(
        request,
        "portal/staff_mail.html",
        {
            "mails": mails,
            "next_before": mails[-1].id if more else None,
            "pending": pending,
            "failed": failed,
            "smtp": request.app.state.settings.smtp_url is not None,
        },
    )


async def mail_message(request: Request) -> Response:
    permissions.require(auth.current_user(request), "mail.view")
    kept = await KeptMail.get_or_none(id=request.path_params["mail_id"])
    if kept is None:
        raise NotFound("There is no such mail.")
    return render(request, "portal/staff_mail_message.html", {"mail": kept})


def routes() -> list[BaseRoute]:
    return [
        Route("/staff/mail", mail_page),
        Route("/staff/mail/{mail_id:int}", mail_message),
    ]
