"""The staff triage queue and dashboard figures."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.functions import Sum

from ideas.models import Board, Idea, IdeaTag
from ideas.queries import LIST_FIELDS, decorate
from portal import permissions
from portal.models import User

NEAR = 0.75  # an idea shows in the queue once 75% of its target time has passed
WEEKS = 12
BUCKETS = (
    ("< 1 h", 3600),
    ("1–4 h", 4 * 3600),
    ("4–24 h", 24 * 3600),
    ("1–3 days", 3 * 86400),
    ("3–7 days", 7 * 86400),
    ("> 7 days", None),
)


def now() -> datetime:
    return datetime.now(UTC)


async def queue(actor: User | None, *, limit: int = 100) -> list[dict[str, Any]]:
    """Ideas past or near their answer or decision target, most weighted demand first."""
    permissions.require(actor, "staff.triage")
    at = now()
    rows: dict[int, dict[str, Any]] = {}
    for board in await Board.filter(archived_at=None):
        answer_due = at - timedelta(hours=board.response_target_hours * NEAR)
        decide_due = at - timedelta(days=board.decision_target_days * NEAR)
        live = Idea.filter(board_id=board.id, hidden_at=None, merged_into_id=None, status__is_closed=False)
        for row in (
            await live.filter(first_response_at=None, created_at__lte=answer_due)
            .limit(limit)
            .values(*LIST_FIELDS)
        ):
            row["reason"] = "answer"
            row["due_at"] = row["created_at"] + timedelta(hours=board.response_target_hours)
            rows[row["id"]] = row
        undecided = live.filter(
            decided_at=None, created_at__lte=decide_due, first_response_at__not_isnull=True
        )
        for row in await undecided.limit(limit).values(*LIST_FIELDS):
            row.setdefault("reason", "decision")
            row["due_at"] = row["created_at"] + timedelta(days=board.decision_target_days)
            rows.setdefault(row["id"], row)
    items = await decorate(actor, list(rows.values()))
    for item in items:
        item["overdue"] = item["due_at"] <= at
    items.sort(key=lambda r: (-(r.get("weighted_demand") or r["vote_count"]), r["due_at"]))
    return items[:limit]


def _week(at: datetime) -> datetime:
    start = at - timedelta(days=at.weekday())
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


async def dashboard(actor: User | None) -> dict[str, Any]:
    permissions.require(actor, "staff.triage")
    at = now()
    since = _week(at) - timedelta(weeks=WEEKS - 1)
    weeks = [since + timedelta(weeks=i) for i in range(WEEKS)]
    live = Idea.filter(hidden_at=None, merged_into_id=None)
    answers = Counter(
        _week(t)
        for t in await live.filter(first_response_at__gte=since).values_list("first_response_at", flat=True)
    )
    decisions = Counter(
        _week(t) for t in await live.filter(decided_at__gte=since).values_list("decided_at", flat=True)
    )
    per_week = [{"week": w, "answers": answers.get(w, 0), "decisions": decisions.get(w, 0)} for w in weeks]
    durations = [
        (first - created).total_seconds()
        for created, first in await live.filter(first_response_at__gte=at - timedelta(days=90)).values_list(
            "created_at", "first_response_at"
        )
    ]
    distribution = []
    lower = 0
    for label, upper in BUCKETS:
        count = sum(1 for d in durations if d >= lower and (upper is None or d < upper))
        distribution.append((label, count))
        lower = upper or 0
    top = await decorate(
        actor,
        await live.filter(status__is_closed=False)
        .order_by("-vote_count", "-id")
        .limit(10)
        .values(*LIST_FIELDS),
    )
    by_board = await (
        live.filter(status__is_closed=False)
        .annotate(votes=Sum("vote_count"))
        .group_by("board__name")
        .order_by("-votes")
        .values_list("board__name", "votes")
    )
    tag_votes: dict[str, int] = defaultdict(int)
    for slug, votes in await IdeaTag.filter(
        idea__hidden_at=None, idea__merged_into_id=None, idea__status__is_closed=False
    ).values_list("tag__slug", "idea__vote_count"):
        tag_votes[slug] += votes
    by_tag = sorted(tag_votes.items(), key=lambda kv: -kv[1])[:10]
    return {
        "per_week": per_week,
        "distribution": distribution,
        "top": top,
        "by_board": [(name, votes or 0) for name, votes in by_board],
        "by_tag": by_tag,
        "answered_90d": len(durations),
    }
