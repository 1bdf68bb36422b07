"""How voting reacts to what happens to ideas and members, inside their transactions."""

from __future__ import annotations

from tortoise.expressions import Subquery

from ideas import extensions, ranking
from ideas.events import IdeaMerged, MemberBanned
from ideas.models import Comment, Idea
from portal import events, permissions
from voting.events import VoteRemoved
from voting.models import Vote


async def move_votes_on_merge(event: IdeaMerged) -> None:
    """Votes follow a merged duplicate to its target; a member who voted both counts once."""
    target_voters = Subquery(Vote.filter(idea_id=event.target_id).values("user_id"))
    # Members who voted both keep their vote on the target; the duplicate one is removed, and
    # said so, so that what it paid (rewards) is reversed like any removed vote.
    doubles = await Vote.filter(idea_id=event.source_id, user_id__in=target_voters).values(
        "id", "user_id", "idea__author_id"
    )
    await (
        Vote.filter(idea_id=event.source_id)
        .exclude(user_id__in=target_voters)
        .update(idea_id=event.target_id)
    )
    await Vote.filter(idea_id=event.source_id).delete()
    await recount([event.source_id, event.target_id])
    for v in doubles:
        await events.emit(
            VoteRemoved(
                vote_id=v["id"],
                idea_id=event.source_id,
                voter_id=v["user_id"],
                author_id=v["idea__author_id"],
            )
        )


async def drop_votes_of_banned(event: MemberBanned) -> None:
    """A banned member's votes no longer count."""
    votes = await Vote.filter(user_id=event.user_id).values("id", "idea_id", "idea__author_id")
    if not votes:
        return
    await Vote.filter(user_id=event.user_id).delete()
    await recount(sorted({v["idea_id"] for v in votes}))
    for v in votes:
        await events.emit(
            VoteRemoved(
                vote_id=v["id"], idea_id=v["idea_id"], voter_id=event.user_id, author_id=v["idea__author_id"]
            )
        )


async def recount(idea_ids: list[int]) -> None:
    """Sets vote counts and trending scores of a few ideas from their rows (after bulk moves)."""
    for idea_id in idea_ids:
        await Idea.filter(id=idea_id).update(vote_count=await Vote.filter(idea_id=idea_id).count())
        await _rescore(idea_id)


async def _rescore(idea_id: int) -> None:
    idea = await Idea.get(id=idea_id)
    score = ranking.weight("idea", idea.created_at)
    for at in await Vote.filter(idea_id=idea_id).values_list("created_at", flat=True):
        score += ranking.weight("vote", at)
    for at in await Comment.filter(idea_id=idea_id, internal=False, hidden_at=None).values_list(
        "created_at", flat=True
    ):
        score += ranking.weight("comment", at)
    await Idea.filter(id=idea_id).update(trending_score=score)


async def decorate(user, idea_ids: list[int]) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    """Adds `voted` and `priority` for the reader (lists read them as `VOTED_COLUMNS` instead)."""
    from voting import service

    return await service.voted_by(user, idea_ids)


# Probes of the (user_id, idea_id) index: a LEFT JOIN made PostgreSQL read all the member's votes.
VOTED_COLUMNS = extensions.ReaderColumns(
    columns={
        "voted": "EXISTS (SELECT 1 FROM votes rv WHERE rv.idea_id = i.id AND rv.user_id = {reader})",
        "priority": "(SELECT rv.priority FROM votes rv WHERE rv.idea_id = i.id AND rv.user_id = {reader})",
    },
    booleans=("voted",),
)


def sees_demand(user) -> bool:  # type: ignore[no-untyped-def]
    return permissions.can(user, "vote.see_voters")


async def add_demand(user, idea_ids: list[int]) -> dict[int, dict]:  # type: ignore[no-untyped-def]
    """Staff also see each idea's weighted demand."""
    from voting import service

    if not sees_demand(user):
        return {}
    return await service.demand(idea_ids)


async def voters_of(idea_ids: list[int]) -> list[int]:
    return list(await Vote.filter(idea_id__in=idea_ids).values_list("user_id", flat=True))


def install() -> None:
    events.listen(IdeaMerged)(move_votes_on_merge)
    events.listen(MemberBanned)(drop_votes_of_banned)
    extensions.add_decorator(decorate, columns=VOTED_COLUMNS)
    extensions.add_decorator(add_demand, applies=sees_demand)
    if voters_of not in extensions.audience_providers:
        extensions.audience_providers.append(voters_of)
    extensions.add_template(extensions.card_slots, "voting/_vote_slot.html")
    extensions.add_card_action("vote.cast")
    extensions.add_template(extensions.page_slots, "voting/_idea_panel.html")
