"""Administration pages for boards and statuses, and the staff audit log. Routes parse and render."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ideas import boards, upload_routes
from ideas.models import VISIBILITIES, Board
from ideas.policy import tier_choices
from portal import audit, permissions
from portal.errors import Invalid, NotFound
from portal.templating import flash, render
from portal.web import form, see_other, user_of

AUDIT_PAGE_SIZE = 50
_BOARD_FIELDS = ("slug", "name", "visibility", "description", "min_tier", "response_target_hours")
_EMPTY_BOARD = dict.fromkeys(_BOARD_FIELDS, "") | {"visibility": "public", "response_target_hours": "72"}


def _board_values(board: Board) -> dict[str, str]:
    return {
        "slug": board.slug,
        "name": board.name,
        "visibility": board.visibility,
        "description": board.description,
        "min_tier": board.min_tier or "",
        "response_target_hours": str(board.response_target_hours),
    }


def _board_input(values: dict[str, str]) -> dict[str, str]:
    return {name: values.get(name, "") for name in _BOARD_FIELDS}


async def boards_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "board.manage")
    values = dict(_EMPTY_BOARD)
    if request.method == "POST":
        values = _board_input(await form(request))
        try:
            board = await boards.create_board(actor=user, **values)
        except Invalid as exc:
            return await _boards_page(request, values, exc.errors, status_code=422)
        flash(request, f"Board “{board.name}” is created.", "success")
        return see_other("/admin/boards")
    return await _boards_page(request, values, {})


async def _boards_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    return render(
        request,
        "ideas/admin_boards.html",
        {
            "boards": await Board.all(),
            "form": values,
            "errors": errors,
            "visibilities": VISIBILITIES,
            "tiers": await tier_choices(),
        },
        status_code=status_code,
    )


async def board_edit_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "board.manage")
    board = await Board.get_or_none(id=int(request.path_params["board_id"]))
    if board is None:
        raise NotFound("No such board.")
    values = _board_values(board)
    context = {"board": board, "visibilities": VISIBILITIES, "tiers": await tier_choices()}
    if request.method == "POST":
        values = _board_input(await form(request))
        try:
            board = await boards.update_board(actor=user, board_id=board.id, **values)
        except Invalid as exc:
            return render(
                request,
                "ideas/admin_board_edit.html",
                {**context, "form": values, "errors": exc.errors},
                status_code=422,
            )
        flash(request, f"Board “{board.name}” is saved.", "success")
        return see_other("/admin/boards")
    return render(
        request,
        "ideas/admin_board_edit.html",
        {**context, "form": values, "errors": {}},
    )


async def archive_board(request: Request) -> Response:
    archived = request.url.path.endswith("/archive")
    board = await boards.set_board_archived(
        actor=user_of(request), board_id=int(request.path_params["board_id"]), archived=archived
    )
    if archived:
        flash(request, f"Board “{board.name}” is archived: it takes no new ideas.", "success")
    else:
        flash(request, f"Board “{board.name}” is open again.", "success")
    return see_other("/admin/boards")


async def statuses_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "status.manage")
    if request.method == "POST":
        values = await form(request)
        adding = values.get("new") == "1"
        try:
            status = await boards.save_status(
                actor=user,
                key=values.get("key", ""),
                name=values.get("name", ""),
                color=values.get("color", ""),
                is_closed=values.get("is_closed") == "1",
                position=values.get("position", ""),
                new=adding,
            )
        except Invalid as exc:
            failed = "" if adding else values.get("key", "")
            return await _statuses_page(request, failed, values, exc.errors, status_code=422)
        flash(request, f"Status “{status.name}” is {'added' if adding else 'saved'}.", "success")
        return see_other("/admin/statuses")
    return await _statuses_page(request, None, {}, {})


async def _statuses_page(
    request: Request,
    failed: str | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    """`failed` names the form that was sent back with `errors`: a status key, or "" for a new one."""
    return render(
        request,
        "ideas/admin_statuses.html",
        {"statuses": await boards.statuses(), "failed": failed, "form": values, "errors": errors},
        status_code=status_code,
    )


async def audit_page(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "audit.view")
    raw = request.query_params.get("before", "")
    before = int(raw) if raw.isdigit() else None
    entries = await audit.recent(user, AUDIT_PAGE_SIZE + 1, before)
    more = len(entries) > AUDIT_PAGE_SIZE
    entries = entries[:AUDIT_PAGE_SIZE]
    return render(
        request,
        "ideas/audit.html",
        {
            "entries": entries,
            "next_before": entries[-1].id if more else None,
            "paged": before is not None,
        },
    )


def routes() -> list[BaseRoute]:
    board = "/admin/boards/{board_id:int}"
    return [
        Route("/admin/boards", boards_page, methods=["GET", "POST"]),
        Route(board, board_edit_page, methods=["GET", "POST"]),
        Route(board + "/archive", archive_board, methods=["POST"]),
        Route(board + "/unarchive", archive_board, methods=["POST"]),
        Route("/admin/statuses", statuses_page, methods=["GET", "POST"]),
        Route("/staff/audit", audit_page),
        *upload_routes.routes(),
    ]
