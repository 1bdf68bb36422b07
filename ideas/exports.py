"""Staff exports of ideas as CSV: votes, demand, comments and response times, streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ideas import queries
from ideas.models import Idea
from ideas.visibility import visible_board_ids
from portal import permissions
from portal.exports import csv_response
from portal.models import User
from portal.web import user_of

BATCH = 500
HEADER = (
    "id",
    "board",
    "title",
    "status",
    "votes",
    "weighted_demand",
    "comments",
    "created_at",
    "first_response_at",
    "time_to_first_answer_s",
    "decided_at",
    "time_to_decision_s",
    "hidden",
    "merged_into",
    "url",
)
_FIELDS = (
    "id",
    "slug",
    "board__slug",
    "title",
    "status_id",
    "vote_count",
    "comment_count",
    "created_at",
    "first_response_at",
    "decided_at",
    "hidden_at",
    "merged_into_id",
)


@permissions.policy("ideas.export")
def can_export(user: User | None, _obj: Any) -> bool:
    return permissions.is_staff(user)


def _seconds(start: Any, end: Any) -> int | None:
    return None if start is None or end is None else int((end - start).total_seconds())


def _demand(row: dict[str, Any]) -> int | None:
    """Weighted demand, which voting adds for staff; no votes, no demand. None: not known here."""
    if "weighted_demand" in row:
        return row["weighted_demand"]
    return 0 if row["vote_count"] == 0 else None


async def idea_batches(user: User, base_url: str) -> AsyncIterator[list[list[Any]]]:
    """Every idea on the boards `user` sees (staff: hidden ones too), in id order, a batch at a time
    (keyset paging on the primary key, so the export never holds more than one batch)."""
    board_ids = await visible_board_ids(user)
    last = 0
    while board_ids:
        rows = await (
            Idea.filter(board_id__in=board_ids, id__gt=last).order_by("id").limit(BATCH).values(*_FIELDS)
        )
        if not rows:
            return
        last = rows[-1]["id"]
        await queries.decorate(user, rows)
        yield [
            [
                r["id"],
                r["board__slug"],
                r["title"],
                r["status_id"],
                r["vote_count"],
                _demand(r),
                r["comment_count"],
                r["created_at"],
                r["first_response_at"],
                _seconds(r["created_at"], r["first_response_at"]),
                r["decided_at"],
                _seconds(r["created_at"], r["decided_at"]),
                "yes" if r["hidden_at"] else "no",
                r["merged_into_id"],
                base_url + r["url"],
            ]
            for r in rows
        ]


async def ideas_csv(request: Request) -> Response:
    user = user_of(request)
    permissions.require(user, "ideas.export")
    assert user is not None
    base_url = request.app.state.settings.base_url
    return csv_response("ideas.csv", HEADER, idea_batches(user, base_url))


def routes() -> list[BaseRoute]:
    return [Route("/staff/exports/ideas.csv", ideas_csv)]
