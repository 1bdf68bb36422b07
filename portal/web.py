"""Small helpers that every package's routes share: input, write limits, redirects."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse

from portal.auth import current_user
from portal.errors import Invalid
from portal.models import User


async def form(request: Request) -> dict[str, str]:
    """The submitted form as plain strings (the last value wins for repeated fields)."""
    data = await request.form()
    return {k: v for k, v in data.items() if isinstance(v, str)}


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 422 naming what is wrong with it."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"body": "The request body is not valid JSON."}) from None
    if not isinstance(body, dict):
        raise Invalid({"body": "The request body must be a JSON object."})
    return body


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def limit_writes(request: Request, user: User | None, kind: str = "write") -> None:
    """Counts one write against the person and the address; 429 past the configured limit."""
    limits = request.app.state.rate_limits
    settings = request.app.state.settings
    await limits.hit(settings.write_limit_per_address, f"{kind}:ip:{client_address(request)}")
    if user is not None:
        await limits.hit(settings.write_limit, f"{kind}:user:{user.id}")


def see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def back(request: Request, fallback: str) -> RedirectResponse:
    """Back to where a form came from, when that is on this site."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    target = referer[len(base) - 1 :] if referer.startswith(base) else fallback
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        target = fallback  # "http://host//elsewhere" would leave the site
    return see_other(target or fallback)


def user_of(request: Request) -> User | None:
    return current_user(request)
