"""Recomputes denormalised counters from their source rows and reports the drift it fixed.

Safe on a live site. Every vote or comment changes its row and the idea's counters in one
transaction, so a quick scan without locks may see a change half-way (the row committed, the
counter not yet read, or the reverse) and suspect drift that is not there; writing the scan's numbers
would then lose that change. Each suspect idea is therefore checked again, and fixed, with its row
locked: a change in flight either committed already (and is counted) or applies its own +1/-1 after
the fix.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from math import isclose
from typing import Any

from tortoise.transactions import in_transaction

from ideas import ranking
from ideas.models import Comment, Idea
from voting.models import Vote


@dataclass
class Drift:
    vote_count: dict[int, tuple[int, int]] = field(default_factory=dict)
    comment_count: dict[int, tuple[int, int]] = field(default_factory=dict)
    trending_score: dict[int, tuple[float, float]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.vote_count) + len(self.comment_count) + len(self.trending_score)


@dataclass
class _Expected:
    votes: int = 0
    comments: int = 0
    score: float = 0.0


def _score_differs(stored: float, expected: float) -> bool:
    return not isclose(stored, expected, rel_tol=1e-6, abs_tol=1e-9)


def _compare(row: dict[str, Any], expected: _Expected, drift: Drift) -> dict[str, Any]:
    """Records what differs between `row` and `expected` in `drift`; returns the updates to make."""
    idea_id = row["id"]
    updates: dict[str, Any] = {}
    if row["vote_count"] != expected.votes:
        drift.vote_count[idea_id] = (row["vote_count"], expected.votes)
        updates["vote_count"] = expected.votes
    if row["comment_count"] != expected.comments:
        drift.comment_count[idea_id] = (row["comment_count"], expected.comments)
        updates["comment_count"] = expected.comments
    if _score_differs(row["trending_score"], expected.score):
        drift.trending_score[idea_id] = (row["trending_score"], expected.score)
        updates["trending_score"] = expected.score
    return updates


def _expected_from(idea_created: datetime, votes: list[datetime], comments: list[datetime]) -> _Expected:
    score = ranking.weight("idea", idea_created)
    score += sum(ranking.weight("vote", at) for at in votes)
    score += sum(ranking.weight("comment", at) for at in comments)
    return _Expected(len(votes), len(comments), score)


async def _suspects() -> list[int]:
    """Ideas whose counters do not match their rows in a scan without locks (maybe falsely)."""
    ideas = await Idea.all().values("id", "vote_count", "comment_count", "trending_score", "created_at")
    votes: dict[int, list[datetime]] = defaultdict(list)
    for idea_id, at in await Vote.all().values_list("idea_id", "created_at"):
        votes[idea_id].append(at)
    comments: dict[int, list[datetime]] = defaultdict(list)
    for idea_id, at in await Comment.filter(internal=False, hidden_at=None).values_list(
        "idea_id", "created_at"
    ):
        comments[idea_id].append(at)
    scratch = Drift()
    return [
        row["id"]
        for row in ideas
        if _compare(row, _expected_from(row["created_at"], votes[row["id"]], comments[row["id"]]), scratch)
    ]


async def repair_counters(*, dry_run: bool = False) -> Drift:
    drift = Drift()
    for idea_id in await _suspects():
        async with in_transaction():
            locked = await Idea.filter(id=idea_id).select_for_update().first()
            if locked is None:
                continue  # deleted meanwhile
            row = {
                "id": locked.id,
                "vote_count": locked.vote_count,
                "comment_count": locked.comment_count,
                "trending_score": locked.trending_score,
            }
            expected = _expected_from(
                locked.created_at,
                list(await Vote.filter(idea_id=idea_id).values_list("created_at", flat=True)),
                list(
                    await Comment.filter(idea_id=idea_id, internal=False, hidden_at=None).values_list(
                        "created_at", flat=True
                    )
                ),
            )
            updates = _compare(row, expected, drift)
            if updates and not dry_run:
                await Idea.filter(id=idea_id).update(**updates)
    return drift
