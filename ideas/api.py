"""The JSON API for boards, ideas and comments: the same services as the pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ideas import boards, comments, extensions, moderation, queries, service
from ideas.models import Board
from ideas.visibility import visible_boards
from portal.web import json_body, limit_writes, user_of


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def board_json(board: Board) -> dict[str, Any]:
    return {
        "id": board.id,
        "slug": board.slug,
        "name": board.name,
        "visibility": board.visibility,
        "min_tier": board.min_tier,
    }


def idea_json(request: Request, row: dict[str, Any], body_html: str | None = None) -> dict[str, Any]:
    return idea_document(request.app.state.settings.base_url, row, body_html)


def idea_document(base: str, row: dict[str, Any], body_html: str | None = None) -> dict[str, Any]:
    """The API's `idea` shape from a row of `queries.LIST_FIELDS` (links start with `base`)."""
    body: dict[str, Any] = {
        "id": row["id"],
        "board": row["board__slug"],
        "title": row["title"],
        "body_html": body_html if body_html is not None else row.get("body_html", ""),
        "author": {"id": row["author_id"], "name": row["author__name"]},
        "status": row["status_id"],
        "vote_count": row["vote_count"],
        "comment_count": row["comment_count"],
        "voted": bool(row.get("voted", False)),
        "tags": row.get("tags", []),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
        "url": base + row["url"],
    }
    for name in extensions.idea_json_fields:
        if name in row:
            body[name] = row[name]
    return body


async def _idea_document(request: Request, idea_id: int, status: int = 200) -> Response:
    user = user_of(request)
    view = await queries.idea_view(user, idea_id)
    body = idea_json(request, view.row, view.idea.body_html)
    body["status_history"] = [
        {
            "from": h["from_status"],
            "to": h["to_status"],
            "message_html": h["message_html"],
            "by": {"id": h["actor_id"], "name": h["actor__name"]},
            "at": _iso(h["created_at"]),
        }
        for h in view.history
    ]
    body["merged_into"] = view.idea.merged_into_id
    return JSONResponse(body, status_code=status)


async def list_boards(request: Request) -> Response:
    user = user_of(request)
    return JSONResponse([board_json(b) for b in await visible_boards(user)])


async def create_board(request: Request) -> Response:
    data = await json_body(request)
    board = await boards.create_board(
        actor=user_of(request),  # type: ignore[arg-type]
        slug=str(data.get("slug", "")),
        name=str(data.get("name", "")),
        visibility=str(data.get("visibility", "public")),
        description=str(data.get("description", "")),
        min_tier=data.get("min_tier"),
        response_target_hours=data.get("response_target_hours"),
    )
    return JSONResponse(board_json(board), status_code=201)


async def list_ideas(request: Request) -> Response:
    user = user_of(request)
    page = await queries.list_ideas(user, queries.parse_filter(request.query_params))
    return JSONResponse(
        {"items": [idea_json(request, row) for row in page.items], "next_cursor": page.next_cursor}
    )


async def create_idea(request: Request) -> Response:
    user = user_of(request)
    data = await json_body(request)
    await limit_writes(request, user)
    tags = data.get("tags")
    idea = await service.post_idea(
        actor=user,
        board=data.get("board"),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        tags=tags if isinstance(tags, list | str) or tags is None else [tags],
    )
    return await _idea_document(request, idea.id, status=201)


async def get_idea(request: Request) -> Response:
    return await _idea_document(request, int(request.path_params["idea_id"]))


async def idea_comments(request: Request) -> Response:
    user = user_of(request)
    idea_id = int(request.path_params["idea_id"])
    if request.method == "POST":
        data = await json_body(request)
        await limit_writes(request, user)
        comment = await comments.post_comment(
            actor=user,
            idea_id=idea_id,
            body=str(data.get("body") or ""),
            parent=data.get("parent"),
            internal=bool(data.get("internal", False)),
        )
        rows = [c for c in await queries.comments_for_api(user, idea_id) if c["id"] == comment.id]
        return JSONResponse(_comment_json(rows[0]), status_code=201)
    return JSONResponse([_comment_json(c) for c in await queries.comments_for_api(user, idea_id)])


def _comment_json(c: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": c["id"],
        "parent": c["parent_id"],
        "author": {"id": c["author_id"], "name": c["author__name"]},
        "body_html": c["body_html"],
        "staff": c["by_staff"],
        "internal": c["internal"],
        "created_at": _iso(c["created_at"]),
    }


async def set_status(request: Request) -> Response:
    data = await json_body(request)
    idea = await service.change_status(
        actor=user_of(request),
        idea_id=int(request.path_params["idea_id"]),
        status=str(data.get("status") or ""),
        message=str(data.get("message") or ""),
        promise=str(data.get("promise") or ""),
    )
    return await _idea_document(request, idea.id)


async def merge(request: Request) -> Response:
    data = await json_body(request)
    target = await service.merge(
        actor=user_of(request), idea_id=int(request.path_params["idea_id"]), into=data.get("into")
    )
    return await _idea_document(request, target.id)


async def hide(request: Request) -> Response:
    data = await json_body(request)
    idea_id = int(request.path_params["idea_id"])
    if request.url.path.endswith("/unhide"):
        await moderation.unhide_idea(
            actor=user_of(request), idea_id=idea_id, reason=str(data.get("reason") or "")
        )
    else:
        await moderation.hide_idea(
            actor=user_of(request), idea_id=idea_id, reason=str(data.get("reason") or "")
        )
    return await _idea_document(request, idea_id)


def routes() -> list[BaseRoute]:
    from ideas import accountability_routes

    idea = "/ideas/{idea_id:int}"
    return [
        *accountability_routes.api_routes(),
        Route("/boards", list_boards, methods=["GET"]),
        Route("/boards", create_board, methods=["POST"]),
        Route("/ideas", list_ideas, methods=["GET"]),
        Route("/ideas", create_idea, methods=["POST"]),
        Route(idea, get_idea),
        Route(idea + "/comments", idea_comments, methods=["GET", "POST"]),
        Route(idea + "/status", set_status, methods=["POST"]),
        Route(idea + "/merge", merge, methods=["POST"]),
        Route(idea + "/hide", hide, methods=["POST"]),
        Route(idea + "/unhide", hide, methods=["POST"]),
    ]
