"""Pages for ideas: home, lists, the idea page and its actions, roadmap. Routes parse and render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ideas import (
    card_pages,
    catalog,
    comments,
    extensions,
    moderation,
    queries,
    responsiveness,
    service,
    threads,
)
from ideas.visibility import visible_boards
from portal import permissions
from portal.errors import Invalid, NotFound
from portal.templating import flash, is_htmx, render
from portal.web import back, form, limit_writes, see_other, user_of


def _local(target: str | None) -> str | None:
    """A `next` target, only when it is a path on this site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _id(request: Request) -> int:
    return int(request.path_params["idea_id"])


async def home_page(request: Request) -> Response:
    user = user_of(request)
    figures = await responsiveness.figures_for(user)
    _, trending = await card_pages.list_with_cards(user, queries.TRENDING)
    return render(
        request,
        "ideas/home.html",
        await queries.home(user) | {"trending": trending, "figures": figures, "human": responsiveness.human},
    )


async def list_page(request: Request) -> Response:
    user = user_of(request)
    flt = queries.parse_filter(request.query_params)
    page, cards = await card_pages.list_with_cards(user, flt)
    statuses = await catalog.statuses()
    figures = None
    if page.board is not None and not is_htmx(request):
        figures = await responsiveness.figures_for(user, board=page.board.slug)
    return render(
        request,
        "ideas/list.html",
        {
            "page": page,
            "cards": cards,
            "flt": flt,
            "statuses": statuses,
            "sorts": list(queries.SORTS),
            "card_slots": extensions.card_slots,
            "figures": figures,
            "human": responsiveness.human,
        },
        fragment="ideas/_list_page.html",
    )


async def new_idea_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "idea.post")
    boards = [b for b in await visible_boards(user, include_archived=False)]
    values = {"board": request.query_params.get("board", ""), "title": "", "body": "", "tags": ""}
    if request.method == "POST":
        values = await form(request)
        await limit_writes(request, user)
        try:
            idea = await service.post_idea(
                actor=user,
                board=values.get("board"),
                title=values.get("title", ""),
                body=values.get("body", ""),
                tags=values.get("tags", ""),
            )
        except Invalid as exc:
            return render(
                request,
                "ideas/new.html",
                {"boards": boards, "form": values, "errors": exc.errors},
                status_code=422,
            )
        flash(request, "Your idea is posted. You will hear when the team answers.", "success")
        return see_other(service.idea_url(idea))
    return render(request, "ideas/new.html", {"boards": boards, "form": values, "errors": {}})


async def similar_fragment(request: Request) -> Response:
    user = user_of(request)
    title = request.query_params.get("title", "")[:200]
    ideas = await queries.similar_ideas(user, title)
    return render(request, "ideas/_similar.html", {"similar": ideas, "title": title})


async def idea_page(request: Request) -> Response:
    user = user_of(request)
    view = await queries.idea_view(user, _id(request))
    idea = view.idea
    if idea.merged_into_id is not None:
        flash(request, f"“{idea.title}” was merged into this idea.")
        return RedirectResponse(f"/ideas/{idea.merged_into_id}", status_code=301)
    canonical = service.idea_url(idea)
    if request.url.path != canonical:
        return RedirectResponse(canonical, status_code=301)
    return render(
        request,
        "ideas/idea.html",
        {
            "view": view,
            "idea": idea,
            "row": view.row,
            "comments": await threads.comment_sections(user, idea),
            "card_slots": extensions.card_slots,
            "page_slots": extensions.page_slots,
            "errors": {},
        },
    )


async def edit_page(request: Request) -> Response:
    user = user_of(request)
    idea = await service.visible_idea(user, _id(request))
    permissions.require(user, "idea.edit", idea)
    values = {"title": idea.title, "body": idea.body_md, "tags": ", ".join(idea.tags_text.split())}
    if request.method == "POST":
        values = await form(request)
        await limit_writes(request, user)
        try:
            idea = await service.edit_idea(
                actor=user,
                idea_id=idea.id,
                title=values.get("title", ""),
                body=values.get("body", ""),
                tags=values.get("tags", ""),
            )
        except Invalid as exc:
            return render(
                request,
                "ideas/edit.html",
                {"idea": idea, "form": values, "errors": exc.errors},
                status_code=422,
            )
        flash(request, "Your changes are saved.", "success")
        return see_other(service.idea_url(idea))
    return render(request, "ideas/edit.html", {"idea": idea, "form": values, "errors": {}})


async def post_comment(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    await limit_writes(request, user)
    comment = await comments.post_comment(
        actor=user,
        idea_id=_id(request),
        body=values.get("body", ""),
        parent=values.get("parent") or None,
        internal=values.get("internal") == "1",
    )
    back_to = _local(values.get("next"))
    if back_to:  # posted from elsewhere (the triage queue): say it worked, and where it went
        flash(request, f"Your comment is posted on idea #{comment.idea_id}.", "success")
    return see_other(back_to or f"/ideas/{_id(request)}#comment-{comment.id}")


async def change_status(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    idea = await service.change_status(
        actor=user,
        idea_id=_id(request),
        status=values.get("status", ""),
        message=values.get("message", ""),
        promise=values.get("promise", ""),
    )
    flash(request, f"Status changed to {idea.status.name}; followers are told.", "success")
    return see_other(_local(values.get("next")) or service.idea_url(idea))


async def follow(request: Request) -> Response:
    user = user_of(request)
    await service.follow(actor=user, idea_id=_id(request))
    return await _follow_answer(request, following=True)


async def unfollow(request: Request) -> Response:
    user = user_of(request)
    await service.unfollow(actor=user, idea_id=_id(request))
    return await _follow_answer(request, following=False)


async def _follow_answer(request: Request, *, following: bool) -> Response:
    if is_htmx(request):
        count = await service.Follow.filter(idea_id=_id(request)).count()
        return render(
            request,
            "ideas/_follow.html",
            {"idea_id": _id(request), "following": following, "follower_count": count},
        )
    flash(request, "You follow this idea now." if following else "You no longer follow this idea.")
    return see_other(f"/ideas/{_id(request)}")


async def merge(request: Request) -> Response:
    user = user_of(request)
    values = await form(request)
    target = await service.merge(actor=user, idea_id=_id(request), into=values.get("into"))
    flash(request, f"Merged into #{target.id}.", "success")
    return see_other(service.idea_url(target))


async def hide_idea(request: Request) -> Response:
    values = await form(request)
    await moderation.hide_idea(actor=user_of(request), idea_id=_id(request), reason=values.get("reason", ""))
    flash(request, "The idea is hidden.", "success")
    return see_other(f"/ideas/{_id(request)}")


async def unhide_idea(request: Request) -> Response:
    await moderation.unhide_idea(actor=user_of(request), idea_id=_id(request))
    flash(request, "The idea is visible again.", "success")
    return see_other(f"/ideas/{_id(request)}")


async def lock_comments(request: Request) -> Response:
    locked = request.url.path.endswith("/lock")
    await moderation.set_comments_locked(actor=user_of(request), idea_id=_id(request), locked=locked)
    flash(request, "Comments are locked." if locked else "Comments are open again.", "success")
    return see_other(f"/ideas/{_id(request)}")


async def comment_action(request: Request) -> Response:
    user = user_of(request)
    comment_id = int(request.path_params["comment_id"])
    action = request.path_params["action"]
    if action not in ("official", "helpful", "hide", "unhide"):
        raise NotFound()
    values = await form(request)
    if action == "official":
        comment = await comments.mark_official(actor=user, comment_id=comment_id)
        flash(request, "Pinned as the official response; followers are told.", "success")
    elif action == "helpful":
        comment = await comments.mark_helpful(actor=user, comment_id=comment_id)
        flash(request, "Marked as helpful.", "success")
    elif action == "hide":
        comment = await moderation.hide_comment(
            actor=user, comment_id=comment_id, reason=values.get("reason", "")
        )
        flash(request, "The comment is hidden.", "success")
    else:
        comment = await moderation.unhide_comment(actor=user, comment_id=comment_id)
        flash(request, "The comment is visible again.", "success")
    return see_other(f"/ideas/{comment.idea_id}#comment-{comment.id}")


async def roadmap_page(request: Request) -> Response:
    user = user_of(request)
    data = await queries.roadmap(user, request.query_params.get("board") or None)
    return render(request, "ideas/roadmap.html", data | {"card_slots": extensions.card_slots})


async def ban_member(request: Request) -> Response:
    values = await form(request)
    target = await moderation.ban_member(
        actor=user_of(request), user_id=int(request.path_params["user_id"]), reason=values.get("reason", "")
    )
    flash(request, f"{target.name} is banned; their content is hidden.", "success")
    return back(request, "/staff/audit")


def routes() -> list[BaseRoute]:
    from ideas import accountability_routes, admin_routes

    idea = "/ideas/{idea_id:int}"
    return [
        *accountability_routes.routes(),
        Route("/", home_page),
        Route("/ideas", list_page),
        Route("/ideas/new", new_idea_page, methods=["GET", "POST"]),
        Route("/ideas/similar", similar_fragment),
        Route(idea, idea_page),
        Route(idea + "-{slug:str}", idea_page),
        Route(idea + "/edit", edit_page, methods=["GET", "POST"]),
        Route(idea + "/comments", post_comment, methods=["POST"]),
        Route(idea + "/status", change_status, methods=["POST"]),
        Route(idea + "/follow", follow, methods=["POST"]),
        Route(idea + "/unfollow", unfollow, methods=["POST"]),
        Route(idea + "/merge", merge, methods=["POST"]),
        Route(idea + "/hide", hide_idea, methods=["POST"]),
        Route(idea + "/unhide", unhide_idea, methods=["POST"]),
        Route(idea + "/lock", lock_comments, methods=["POST"]),
        Route(idea + "/unlock", lock_comments, methods=["POST"]),
        Route("/comments/{comment_id:int}/{action:str}", comment_action, methods=["POST"]),
        Route("/roadmap", roadmap_page),
        Route("/staff/members/{user_id:int}/ban", ban_member, methods=["POST"]),
        *admin_routes.routes(),
    ]
