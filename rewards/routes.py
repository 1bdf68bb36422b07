"""Pages for members: their insider page, a perk's page, claims and programs, the leaderboard, and
duplicate reports. Routes parse, call one service and render; staff pages are in `admin_routes`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal import permissions
from portal.errors import Invalid
from portal.templating import flash, render
from portal.web import back, form, limit_writes, see_other, user_of
from rewards import duplicates, leaderboard, perks, queries


def _perk_id(request: Request) -> int:
    return int(request.path_params["perk_id"])


async def insiders_page(request: Request) -> Response:
    user = user_of(request)
    if user is None:  # what the program is, and a way in, rather than a bare sign-in form
        return render(request, "rewards/insiders_public.html", await queries.program())
    permissions.require(user, "account.view")
    return render(request, "rewards/insiders.html", await queries.overview(user))


async def perk_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "account.view")
    assert user is not None
    return render(request, "rewards/perk.html", await queries.perk_page(user, _perk_id(request)))


async def claim(request: Request) -> Response:
    user = user_of(request)
    await limit_writes(request, user, "claim")
    result = await perks.claim_perk(actor=user, perk_id=_perk_id(request))
    status = result.claim.status
    if result.code is not None:
        flash(request, f"It's yours. Your code: {result.code}", "success")
    elif status == "admitted":
        flash(request, "You're in the program. Welcome!", "success")
    elif status == "pending":
        flash(
            request,
            f"Your application is sent; you are #{result.position} in line for a decision.",
            "success",
        )
    else:
        flash(request, f"The program is full: you are #{result.position} on the waitlist.", "info")
    return see_other(f"/insiders/perks/{_perk_id(request)}")


async def leave(request: Request) -> Response:
    user = user_of(request)
    await limit_writes(request, user, "claim")
    await perks.leave_program(actor=user, perk_id=_perk_id(request))
    flash(request, "You left the program; your place went to the next member waiting.", "success")
    return back(request, "/insiders")


async def leaderboard_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "leaderboard.view")
    period = leaderboard.parse_period(request.query_params.get("period"))
    return render(
        request,
        "rewards/leaderboard.html",
        {
            "period": period,
            "rows": await leaderboard.top(period),
            "opted_out": await leaderboard.opted_out(user),
        },
    )


async def leaderboard_opt_out(request: Request) -> Response:
    values = await form(request)
    opt_out = await leaderboard.set_opt_out(actor=user_of(request), opt_out=values.get("opt_out") == "1")
    flash(
        request,
        "You no longer appear on the leaderboard." if opt_out else "You appear on the leaderboard.",
        "success",
    )
    return see_other("/insiders/leaderboard")


async def duplicate_report_page(request: Request) -> Response:
    """The report form on a page of its own: where the idea page's form comes back with errors."""
    user = user_of(request)
    permissions.require(user, "duplicate.report")
    values = {name: request.query_params.get(name, "") for name in duplicates.FIELDS}
    if request.method == "POST":
        values = {name: (await form(request)).get(name, "") for name in duplicates.FIELDS}
        await limit_writes(request, user)
        try:
            report = await duplicates.report_duplicate(actor=user, **values)
        except Invalid as exc:
            return render(
                request,
                "rewards/report_duplicate.html",
                {"form": values, "errors": exc.errors},
                status_code=422,
            )
        flash(
            request,
            f"Thank you: staff will look at #{report.idea_id} and #{report.duplicate_of_id}. "
            "If they merge them, you earn points.",
            "success",
        )
        return see_other(f"/ideas/{report.idea_id}")
    return render(request, "rewards/report_duplicate.html", {"form": values, "errors": {}})


def routes() -> list[BaseRoute]:
    from rewards import admin_routes

    perk = "/insiders/perks/{perk_id:int}"
    return [
        Route("/insiders", insiders_page),
        Route(perk, perk_page),
        Route(perk + "/claim", claim, methods=["POST"]),
        Route(perk + "/leave", leave, methods=["POST"]),
        Route("/insiders/leaderboard", leaderboard_page),
        Route("/insiders/leaderboard/opt-out", leaderboard_opt_out, methods=["POST"]),
        Route("/insiders/duplicate-reports", duplicate_report_page, methods=["GET", "POST"]),
        *admin_routes.routes(),
    ]
