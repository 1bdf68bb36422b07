"""The JSON API for votes: idempotent PUT and DELETE, votes on behalf, voters."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal.web import json_body, user_of
from voting import service
from voting.limits import limit_votes


def _id(request: Request) -> int:
    return int(request.path_params["idea_id"])


def _state(state: service.VoteState) -> JSONResponse:
    return JSONResponse({"voted": state.voted, "vote_count": state.vote_count, "priority": state.priority})


async def vote(request: Request) -> Response:
    user = user_of(request)
    if request.method == "DELETE":
        await limit_votes(request, user)
        return _state(await service.remove_vote(actor=user, idea_id=_id(request)))
    data = await json_body(request)
    await limit_votes(request, user)
    return _state(await service.cast_vote(actor=user, idea_id=_id(request), priority=data.get("priority")))


async def vote_on_behalf(request: Request) -> Response:
    data = await json_body(request)
    state = await service.vote_on_behalf(
        actor=user_of(request),
        idea_id=_id(request),
        email=str(data.get("email") or ""),
        name=str(data.get("name") or ""),
        priority=data.get("priority"),
        note=str(data.get("note") or ""),
    )
    return JSONResponse({"voted": True, "vote_count": state.vote_count, "priority": state.priority}, 201)


async def voters(request: Request) -> Response:
    rows = await service.voters(actor=user_of(request), idea_id=_id(request))
    return JSONResponse(
        [
            {
                "user": {"id": r["user_id"], "name": r["user__name"], "email": r["user__email"]},
                "priority": r["priority"],
                "on_behalf_by": r["on_behalf_by__name"],
                "source_note": r["source_note"],
                "created_at": r["created_at"].isoformat(),
            }
            for r in rows
        ]
    )


def routes() -> list[BaseRoute]:
    idea = "/ideas/{idea_id:int}"
    return [
        Route(idea + "/vote", vote, methods=["PUT", "DELETE"]),
        Route(idea + "/votes/on-behalf", vote_on_behalf, methods=["POST"]),
        Route(idea + "/voters", voters, methods=["GET"]),
    ]
