"""The member's data: download it as JSON, or delete the account. Routes parse and render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal import auth, data_rights
from portal.errors import Conflict, Invalid
from portal.templating import flash
from portal.web import form, see_other, user_of


async def export_json(request: Request) -> Response:
    user = user_of(request)
    data = await data_rights.export_data(actor=user)
    assert user is not None
    return Response(
        data_rights.to_json(data),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="hearken-data-{user.id}.json"',
            "Cache-Control": "no-store",
        },
    )


async def delete_account(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    if user is not None:
        # The password is checked here: limit guesses like sign-in does.
        settings = request.app.state.settings
        await request.app.state.rate_limits.hit(settings.signin_limit, f"delete-account:{user.id}")
    try:
        await data_rights.delete_account(
            actor=user, password=values.get("password", ""), email=values.get("email", "")
        )
    except Invalid as exc:
        flash(request, "Your account was not deleted: " + " ".join(exc.errors.values()), "error")
        return see_other("/account#delete-account")
    except Conflict as exc:
        flash(request, f"Your account was not deleted: {exc.detail}", "error")
        return see_other("/account#delete-account")
    auth.sign_out(request)
    flash(request, "Your account is deleted. What you wrote stays, signed “Deleted member”.", "success")
    return see_other("/")


def routes() -> list[BaseRoute]:
    return [
        Route("/account/export.json", export_json),
        Route("/account/delete", delete_account, methods=["POST"]),
    ]
