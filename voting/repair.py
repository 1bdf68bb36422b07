"""Recomputes denormalised counters from their source rows and reports the drift it fixed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from math import isclose

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


async def repair_counters(*, dry_run: bool = False) -> Drift:
    drift = Drift()
    async with in_transaction():
        ideas = await Idea.all().values("id", "vote_count", "comment_count", "trending_score", "created_at")
        votes: dict[int, int] = defaultdict(int)
        score: dict[int, float] = defaultdict(float)
        for idea_id, at in await Vote.all().values_list("idea_id", "created_at"):
            votes[idea_id] += 1
            score[idea_id] += ranking.weight("vote", at)
        comments: dict[int, int] = defaultdict(int)
        for idea_id, at in await Comment.filter(internal=False, hidden_at=None).values_list(
            "idea_id", "created_at"
        ):
            comments[idea_id] += 1
            score[idea_id] += ranking.weight("comment", at)
        for row in ideas:
            idea_id = row["id"]
            expected_score = ranking.weight("idea", row["created_at"]) + score[idea_id]
            updates: dict = {}
            if row["vote_count"] != votes[idea_id]:
                drift.vote_count[idea_id] = (row["vote_count"], votes[idea_id])
                updates["vote_count"] = votes[idea_id]
            if row["comment_count"] != comments[idea_id]:
                drift.comment_count[idea_id] = (row["comment_count"], comments[idea_id])
                updates["comment_count"] = comments[idea_id]
            if not isclose(row["trending_score"], expected_score, rel_tol=1e-6, abs_tol=1e-9):
                drift.trending_score[idea_id] = (row["trending_score"], expected_score)
                updates["trending_score"] = expected_score
            if updates and not dry_run:
                await Idea.filter(id=idea_id).update(**updates)
    return drift
