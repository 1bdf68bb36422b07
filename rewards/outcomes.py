"""Outcome rewards: when an idea ships, the people who asked for it early share the credit.

The author receives the `idea_shipped` award. Every verified member who voted for the idea (the
author excepted), and the author of every duplicate merged into it, receives a share of the
`ship_voter_share` rule's points S that shrinks with how late they joined:

    share(i) = max(1, round(S * 0.5 ** (i / 10)))      i = 0 for the earliest supporter

so the first supporter receives S, the tenth about S/2, the twentieth about S/4. A duplicate's
author counts from the moment the duplicate was posted, so merged ideas keep their credit.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.expressions import Q

from ideas.events import IdeaMerged
from ideas.models import Idea
from portal.models import User
from rewards import ledger
from rewards.models import DuplicateReport, EarningRule
from voting.models import Vote

HALVING = 10


def share(points: int, position: int) -> int:
    return max(1, round(points * 0.5 ** (position / HALVING)))


async def supporters(idea: Idea) -> list[int]:
    """Member ids in the order they supported the idea: votes, and the posting of duplicates."""
    joined: dict[int, datetime] = {}
    for user_id, at in await Vote.filter(idea_id=idea.id).values_list("user_id", "created_at"):
        joined[user_id] = at
    for author_id, at in await Idea.filter(merged_into_id=idea.id).values_list("author_id", "created_at"):
        if author_id not in joined or at < joined[author_id]:
            joined[author_id] = at
    joined.pop(idea.author_id, None)
    verified = set(
        await User.filter(
            id__in=list(joined), email_verified_at__not_isnull=True, banned_at=None
        ).values_list("id", flat=True)
    )
    return [uid for uid, _ in sorted(joined.items(), key=lambda kv: (kv[1], kv[0])) if uid in verified]


async def pay_ship_awards(idea: Idea) -> None:
    await ledger.award(
        user_id=idea.author_id,
        rule_key="idea_shipped",
        source_kind="idea",
        source_id=idea.id,
        reason=f"Your idea shipped: “{idea.title}”",
    )
    rule = await EarningRule.get_or_none(key="ship_voter_share")
    if rule is None or not rule.enabled or rule.points <= 0:
        return
    for position, user_id in enumerate(await supporters(idea)):
        await ledger.award(
            user_id=user_id,
            rule_key="ship_voter_share",
            source_kind="idea",
            source_id=idea.id,
            points=share(rule.points, position),
            reason=f"An idea you supported shipped: “{idea.title}” (supporter #{position + 1})",
        )


async def pay_duplicate_reporters(event: IdeaMerged) -> None:
    """The first member who reported this pair is paid once staff accept it by merging.

    Staff choose which of the two ideas survives, so a report counts whichever way they merge.
    """
    report = await (
        DuplicateReport.filter(
            Q(idea_id=event.source_id, duplicate_of_id=event.target_id)
            | Q(idea_id=event.target_id, duplicate_of_id=event.source_id)
        )
        .order_by("created_at", "id")
        .first()
    )
    if report is None:
        return
    await ledger.award(
        user_id=report.reporter_id,
        rule_key="duplicate_accepted",
        source_kind="idea",
        source_id=event.source_id,
        reason="Your duplicate report was accepted",
    )
