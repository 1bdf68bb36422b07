"""The JSON API for perks: the same services as the insiders pages."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from portal import permissions
from portal.web import json_body, limit_writes, user_of
from rewards import perks
from rewards.models import LIVE_CLAIM_STATES, Claim, Perk


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def perk_json(perk: Perk, *, claimed: bool = False) -> dict[str, Any]:
    return {
        "id": perk.id,
        "kind": perk.kind,
        "title": perk.title,
        "description_html": perk.description_html,
        "min_tier": perk.min_tier,
        "cost": perk.cost,
        "remaining": perk.remaining,
        "ends_at": _iso(perk.ends_at),
        "claimed": claimed,
    }


def claim_json(claim: Claim, position: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"id": claim.id, "status": claim.status}
    if position is not None:
        body["position"] = position
    return body


def _perk_id(request: Request) -> int:
    return int(request.path_params["perk_id"])


async def list_perks(request: Request) -> Response:
    """The live perks open to the member's tier; `claimed` when they hold a place or a code."""
    user = user_of(request)
    permissions.require(user, "account.view")
    return JSONResponse(
        [
            perk_json(entry["perk"], claimed=any(c.status in LIVE_CLAIM_STATES for c in entry["claims"]))
            for entry in await perks.perks_for(user)
            if entry["open"]
        ]
    )


async def create_perk(request: Request) -> Response:
    data = await json_body(request)
    perk = await perks.create_perk(actor=user_of(request), data=data)
    return JSONResponse(perk_json(perk), status_code=201)


async def add_codes(request: Request) -> Response:
    data = await json_body(request)
    added = await perks.add_codes(actor=user_of(request), perk_id=_perk_id(request), codes=data.get("codes"))
    return JSONResponse({"added": added}, status_code=201)


async def claim(request: Request) -> Response:
    user = user_of(request)
    await limit_writes(request, user, "claim")
    result = await perks.claim_perk(actor=user, perk_id=_perk_id(request))
    body: dict[str, Any] = {"claim": claim_json(result.claim, result.position)}
    if result.code is not None:
        body["code"] = result.code
    return JSONResponse(body, status_code=201)


async def leave(request: Request) -> Response:
    user = user_of(request)
    await limit_writes(request, user, "claim")
    left = await perks.leave_program(actor=user, perk_id=_perk_id(request))
    return JSONResponse({"claim": claim_json(left)})


def routes() -> list[BaseRoute]:
    perk = "/perks/{perk_id:int}"
    return [
        Route("/perks", list_perks, methods=["GET"]),
        Route("/perks", create_perk, methods=["POST"]),
        Route(perk + "/codes", add_codes, methods=["POST"]),
        Route(perk + "/claim", claim, methods=["POST"]),
        Route(perk + "/claim", leave, methods=["DELETE"]),
    ]
