"""Staff export of every vote as CSV, streamed a batch at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal import permissions
from portal.exports import csv_response
from portal.web import user_of
from voting.models import Vote

BATCH = 1000
HEADER = ("idea_id", "email", "priority", "on_behalf_by", "on_behalf_note", "created_at")


async def vote_batches() -> AsyncIterator[list[list[Any]]]:
    """All votes in id order (keyset paging on the primary key)."""
    last = 0
    while (
        rows := await Vote.filter(id__gt=last)
        .order_by("id")
        .limit(BATCH)
        .values(
            "id", "idea_id", "user__email", "priority", "on_behalf_by__email", "source_note", "created_at"
        )
    ):
        last = rows[-1]["id"]
        yield [
            [
                r["idea_id"],
                r["user__email"],
                r["priority"],
                r["on_behalf_by__email"],
                r["source_note"],
                r["created_at"],
            ]
            for r in rows
        ]


async def votes_csv(request: Request) -> Response:
    permissions.require(user_of(request), "vote.see_voters")
    return csv_response("votes.csv", HEADER, vote_batches())


def routes() -> list[BaseRoute]:
    return [Route("/staff/exports/votes.csv", votes_csv)]
