"""Vote buttons (htmx swaps them in place; without JavaScript the form posts and redirects)."""

from __future__ import annotations

import csv
import io

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ideas.models import Idea
from ideas.service import idea_url, visible_idea
from portal.errors import Invalid
from portal.templating import flash, is_htmx, render
from portal.web import back, form, see_other, user_of
from voting import service
from voting.limits import limit_votes
from voting.listeners import add_demand
from voting.models import PRIORITIES


def _id(request: Request) -> int:
    return int(request.path_params["idea_id"])


async def _answer(request: Request, state: service.VoteState) -> Response:
    if is_htmx(request):
        # The same fields a list row gives the button: whether the idea still takes votes, and
        # (for staff) the weighted demand, so the swapped-in button matches the rest of the page.
        [idea] = await Idea.filter(id=_id(request)).values(
            "id", "status__is_closed", "comments_locked", "merged_into_id"
        )
        user = user_of(request)
        idea |= (await add_demand(user, [idea["id"]])).get(idea["id"], {})
        idea |= {"voted": state.voted, "vote_count": state.vote_count, "priority": state.priority}
        return render(request, "voting/_vote.html", {"idea": idea})
    return back(request, f"/ideas/{_id(request)}")


async def vote(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    await limit_votes(request, user)
    state = await service.cast_vote(actor=user, idea_id=_id(request), priority=values.get("priority") or None)
    return await _answer(request, state)


async def unvote(request: Request) -> Response:
    user = user_of(request)
    await limit_votes(request, user)
    state = await service.remove_vote(actor=user, idea_id=_id(request))
    return await _answer(request, state)


async def vote_on_behalf(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    try:
        await service.vote_on_behalf(
            actor=user,
            idea_id=_id(request),
            email=values.get("email", ""),
            name=values.get("name", ""),
            priority=values.get("priority") or None,
            note=values.get("note", ""),
        )
    except Invalid as exc:
        flash(request, "Vote not recorded: " + "; ".join(exc.errors.values()), "error")
    else:
        flash(request, f"Vote recorded for {values.get('email', '').strip().lower()}.", "success")
    return see_other(f"/ideas/{_id(request)}/voters")


async def voters_page(request: Request) -> Response:
    user = user_of(request)
    idea = await visible_idea(user, _id(request))
    rows = await service.voters(actor=user, idea_id=idea.id)
    demand = (await service.demand([idea.id])).get(idea.id, {"by_priority": {}, "weighted_demand": 0})
    return render(
        request,
        "voting/voters.html",
        {
            "idea": idea,
            "idea_url": idea_url(idea),
            "voters": rows,
            "demand": demand,
            "priorities": PRIORITIES,
        },
    )


async def voters_csv(request: Request) -> Response:
    user = user_of(request)
    rows = await service.voters(actor=user, idea_id=_id(request))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["name", "email", "verified", "priority", "voted_at", "on_behalf_by", "source_note"])
    for r in rows:
        writer.writerow(
            [
                _csv_safe(r["user__name"]),
                _csv_safe(r["user__email"]),  # an address may start with "=" too
                "yes" if r["user__email_verified_at"] else "no",
                r["priority"] or "",
                r["created_at"].isoformat(),
                _csv_safe(r["on_behalf_by__name"] or ""),
                _csv_safe(r["source_note"]),
            ]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="idea-{_id(request)}-voters.csv"'},
    )


def _csv_safe(value: str) -> str:
    """Neutralises spreadsheet formulas in user text (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def set_budget(request: Request) -> Response:
    values = await form(request)
    board_id = int(request.path_params["board_id"])
    value = await service.set_budget(
        actor=user_of(request), board_id=board_id, votes_per_member=values.get("votes_per_member")
    )
    flash(
        request, f"Vote budget: {value} per member." if value else "No vote budget on this board.", "success"
    )
    return back(request, f"/admin/boards/{board_id}")


def routes() -> list[BaseRoute]:
    idea = "/ideas/{idea_id:int}"
    return [
        Route(idea + "/vote", vote, methods=["POST"]),
        Route(idea + "/unvote", unvote, methods=["POST"]),
        Route(idea + "/vote-on-behalf", vote_on_behalf, methods=["POST"]),
        Route(idea + "/voters", voters_page),
        Route(idea + "/voters.csv", voters_csv),
        Route("/admin/boards/{board_id:int}/vote-budget", set_budget, methods=["POST"]),
    ]
