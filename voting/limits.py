"""Rate limits on vote changes: per member, and (generously) per address."""

from __future__ import annotations

from starlette.requests import Request

from portal.models import User
from portal.web import client_address


async def limit_votes(request: Request, user: User | None) -> None:
    limits = request.app.state.rate_limits
    settings = request.app.state.settings
    await limits.hit(settings.vote_limit_per_address, f"vote:ip:{client_address(request)}")
    if user is not None:
        await limits.hit(settings.vote_limit, f"vote:user:{user.id}")
