"""Accountability pages: responsiveness figures, triage, dashboard, changelog and feeds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ideas import changelog, extensions, feeds, queries, responsiveness, service, triage
from ideas.policy import tier_choices
from portal import permissions
from portal.errors import Invalid
from portal.templating import flash, render
from portal.web import form, see_other, user_of

ATOM = "application/atom+xml; charset=utf-8"


async def stats_api(request: Request) -> Response:
    user = user_of(request)
    window = responsiveness.parse_window(request.query_params.get("window"))
    figures = await responsiveness.figures_for(
        user, board=request.query_params.get("board") or None, window=window
    )
    return JSONResponse(figures.as_json())


async def triage_page(request: Request) -> Response:
    user = user_of(request)
    items = await triage.queue(user)
    statuses = await service.Status.all()
    return render(
        request,
        "ideas/triage.html",
        {"items": items, "statuses": statuses, "card_slots": extensions.card_slots},
    )


async def dashboard_page(request: Request) -> Response:
    user = user_of(request)
    data = await triage.dashboard(user)
    figures = await responsiveness.figures_for(user, window=30)
    return render(request, "ideas/dashboard.html", data | {"figures": figures, "human": responsiveness.human})


async def changelog_page(request: Request) -> Response:
    user = user_of(request)
    before = request.query_params.get("before")
    try:
        before_id = int(before) if before else None
    except ValueError:
        raise Invalid({"before": "Give an entry number."}) from None
    entries = await changelog.entries_for(user, before=before_id)
    return render(request, "ideas/changelog.html", {"entries": entries})


async def changelog_entry_page(request: Request) -> Response:
    item = await changelog.entry_for(user_of(request), int(request.path_params["entry_id"]))
    return render(request, "ideas/changelog_entry.html", {"item": item})


async def changelog_new(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "changelog.write")
    values = {"title": "", "body": "", "ideas": request.query_params.get("ideas", ""), "min_tier": ""}
    if request.method == "POST":
        values = await form(request)
        try:
            entry = await changelog.create_entry(
                actor=user,
                title=values.get("title", ""),
                body=values.get("body", ""),
                idea_ids=values.get("ideas", ""),
                min_tier=values.get("min_tier") or None,
            )
        except Invalid as exc:
            return render(
                request,
                "ideas/changelog_new.html",
                {"form": values, "errors": exc.errors, "tiers": await tier_choices()},
                status_code=422,
            )
        flash(request, "Published. Voters and followers of the linked ideas are told.", "success")
        return see_other(f"/changelog/{entry.id}")
    return render(
        request, "ideas/changelog_new.html", {"form": values, "errors": {}, "tiers": await tier_choices()}
    )


async def changelog_atom(request: Request) -> Response:
    # Feeds are read anonymously by feed readers: only what everyone may see.
    entries = await changelog.entries_for(None, limit=50)
    settings = request.app.state.settings
    return Response(feeds.changelog_feed(settings.base_url, settings.site_name, entries), media_type=ATOM)


async def idea_atom(request: Request) -> Response:
    idea = await service.visible_idea(None, int(request.path_params["idea_id"]))
    history = await queries.status_history(idea.id)
    settings = request.app.state.settings
    body = feeds.idea_feed(settings.base_url, settings.site_name, idea, service.idea_url(idea), history)
    return Response(body, media_type=ATOM)


def routes() -> list[BaseRoute]:
    return [
        Route("/staff/triage", triage_page),
        Route("/staff/dashboard", dashboard_page),
        Route("/changelog", changelog_page),
        Route("/changelog.atom", changelog_atom),
        Route("/changelog/new", changelog_new, methods=["GET", "POST"]),
        Route("/changelog/{entry_id:int}", changelog_entry_page),
        Route("/ideas/{idea_id:int}.atom", idea_atom),
    ]


def api_routes() -> list[BaseRoute]:
    return [Route("/stats", stats_api)]
