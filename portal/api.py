"""The portal's JSON API: who am I."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal import permissions
from portal.auth import current_user
from portal.models import User

# Features add fields to `/api/v1/me` (rewards adds points and tier) without portal importing them.
MeExtender = Any
me_extenders: list[MeExtender] = []


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role}


async def me(request: Request) -> Response:
    user = current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    body = user_json(user)
    for extend in me_extenders:
        body.update(await extend(user))
    return JSONResponse(body)


def routes() -> list[BaseRoute]:
    from portal.openapi import openapi_json

    return [Route("/me", me), Route("/openapi.json", openapi_json)]
