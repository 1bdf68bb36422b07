"""How rewards learns of the world: the portal's events, handled inside their transactions.

Every handler is idempotent (awards carry a unique key per cause), so a replayed event pays
nothing twice, and a reversal negates exactly what the original entry paid.
"""

from __future__ import annotations

from typing import Any

from ideas.events import (
    CommentMarkedHelpful,
    ContentHidden,
    IdeaMerged,
    IdeaStatusChanged,
)
from ideas.models import Idea
from portal import api, audit, events
from portal.models import User
from rewards import ledger, outcomes
from rewards.models import MemberPoints
from rewards.service import install_gating
from voting.events import VoteCast, VoteRemoved

TRIAGED_FROM = ("open",)


async def on_status_changed(event: IdeaStatusChanged) -> None:
    idea = await Idea.get_or_none(id=event.idea_id)
    if idea is None or idea.hidden_at is not None:
        return
    # The posting award waits for triage, so spam (declined at once, or hidden) never pays.
    if event.from_status in TRIAGED_FROM and event.to_status != "declined":
        await ledger.award(
            user_id=idea.author_id, rule_key="idea_posted", source_kind="idea", source_id=idea.id,
            reason=f"Idea accepted for review: “{idea.title}”",
        )  # fmt: skip
    if event.to_status == "planned":
        await ledger.award(
            user_id=idea.author_id, rule_key="idea_planned", source_kind="idea", source_id=idea.id,
            reason=f"Your idea is planned: “{idea.title}”",
        )  # fmt: skip
    if event.to_status == "shipped":
        await outcomes.pay_ship_awards(idea)


async def on_vote_cast(event: VoteCast) -> None:
    if event.voter_id == event.author_id:
        return  # no points for acting on your own content
    verified = event.voter_verified
    if verified is None:  # the event did not say: ask
        voter = await User.get_or_none(id=event.voter_id)
        verified = voter is not None and voter.email_verified_at is not None
    if not verified:
        return  # only distinct, verified members' votes pay
    await ledger.award(
        user_id=event.author_id,
        rule_key="vote_received",
        source_kind="idea",
        source_id=event.idea_id,
        reason="Vote received on your idea",
        dedupe_suffix=f":voter:{event.voter_id}",
    )


async def on_vote_removed(event: VoteRemoved) -> None:
    if event.voter_id == event.author_id:
        return  # your own vote paid nothing
    key = f"vote_received:idea:{event.idea_id}:{event.author_id}:voter:{event.voter_id}"
    await ledger.reverse_earning(key, reason="A vote on your idea was removed")


async def on_helpful(event: CommentMarkedHelpful) -> None:
    if event.author_id == event.actor_id:
        return
    await ledger.award(
        user_id=event.author_id,
        rule_key="comment_helpful",
        source_kind="comment",
        source_id=event.comment_id,
        reason="Your comment was marked helpful",
    )


async def on_hidden(event: ContentHidden) -> None:
    """Hidden content gives back what it earned its author."""
    await ledger.reverse_where(
        reason=f"Your {event.kind} was hidden by a moderator",
        user_id=event.author_id,
        source_kind=event.kind,
        source_id=event.object_id,
    )


async def on_merged(event: IdeaMerged) -> None:
    await outcomes.pay_duplicate_reporters(event)


async def me_fields(user: User) -> dict[str, Any]:
    """What `/api/v1/me` adds for rewards: the member's balance and tier (read only, no row made)."""
    row = await MemberPoints.filter(user_id=user.id).values("balance", "tier")
    return {"points": row[0]["balance"], "tier": row[0]["tier"]} if row else {"points": 0, "tier": "member"}


def install() -> None:
    from ideas import extensions

    extensions.add_template(extensions.page_slots, "rewards/_report_duplicate.html")
    if me_fields not in api.me_extenders:
        api.me_extenders.append(me_fields)
    events.listen(IdeaStatusChanged)(on_status_changed)
    events.listen(VoteCast)(on_vote_cast)
    events.listen(VoteRemoved)(on_vote_removed)
    events.listen(CommentMarkedHelpful)(on_helpful)
    events.listen(ContentHidden)(on_hidden)
    events.listen(IdeaMerged)(on_merged)
    install_gating()
    audit.readable_by("community_manager", "perk.", "rewards.")
