"""Voting: cast, remove, vote on behalf of a customer, voters, budgets. One function per use case.

The database keeps the rules that matter under concurrency: a unique index makes a second vote by
the same member impossible, and the counter moves with an atomic `UPDATE ... SET n = n + 1` in the
transaction that inserted or deleted the vote row, decided by whether that row was written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from ideas import ranking
from ideas.models import Board, Idea
from ideas.service import visible_idea
from portal import accounts, audit, events, permissions
from portal.errors import Conflict, Errors, Forbidden, Invalid, NotFound, Unauthorized
from portal.models import User
from voting.events import VoteCast, VoteRemoved
from voting.models import PRIORITIES, PRIORITY_WEIGHTS, BoardVoteBudget, Vote

NOTE_MAX = 300


@dataclass(frozen=True)
class VoteState:
    voted: bool
    vote_count: int
    priority: str | None = None


def now() -> datetime:
    return datetime.now(UTC)


def check_priority(priority: Any) -> str | None:
    if priority in (None, ""):
        return None
    if priority not in PRIORITIES:
        raise Invalid({"priority": f"Choose one of {', '.join(PRIORITIES)}, or none."})
    return str(priority)


async def _open_for_votes(idea: Idea) -> None:
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into #{idea.merged_into_id}; vote there.")
    if idea.status.is_closed:
        raise Conflict(f"This idea is {idea.status.name.lower()} and takes no new votes.")
    if idea.comments_locked:
        raise Conflict("This idea is locked and takes no new votes.")


async def _count(idea_id: int) -> int:
    return (await Idea.filter(id=idea_id).values_list("vote_count", flat=True))[0]


async def votes_left(user: User, board_id: int) -> int | None:
    """Votes a member may still cast on a board with a budget (None: no budget)."""
    budget = await BoardVoteBudget.get_or_none(board_id=board_id)
    if budget is None:
        return None
    # A vote comes back when its idea closes or is merged: only open ideas count.
    used = await Vote.filter(
        user_id=user.id,
        idea__board_id=board_id,
        idea__merged_into_id=None,
        idea__status__is_closed=False,
    ).count()
    return max(0, budget.votes_per_member - used)


async def cast_vote(
    *,
    actor: User | None,
    idea_id: int,
    priority: str | None = None,
    voter: User | None = None,
    note: str = "",
) -> VoteState:
    """Votes for an idea (idempotent: a second vote changes only the priority)."""
    idea = await visible_idea(actor, idea_id)
    priority = check_priority(priority)
    if voter is None:
        # Say why an unverified member may not vote (the policy alone would answer a bare 403).
        if permissions.is_active(actor) and actor.email_verified_at is None:  # type: ignore[union-attr]
            raise Forbidden("Confirm your e-mail address to vote.")
        permissions.require(actor, "vote.cast", idea)
        voter = actor
    assert voter is not None
    await _open_for_votes(idea)
    at = now()
    async with in_transaction():
        if await BoardVoteBudget.exists(board_id=idea.board_id):
            # Serialise this member's votes so two at once cannot both take the last one.
            await User.filter(id=voter.id).select_for_update().first()
            existing = await Vote.exists(idea_id=idea.id, user_id=voter.id)
            left = await votes_left(voter, idea.board_id)
            if not existing and left == 0:
                raise Conflict("You have used all your votes on this board; remove one to vote here.")
        try:
            async with in_transaction():  # savepoint: a duplicate must not abort the transaction
                vote = await Vote.create(
                    idea_id=idea.id,
                    user_id=voter.id,
                    priority=priority,
                    on_behalf_by_id=actor.id if actor is not None and voter.id != actor.id else None,
                    source_note=note,
                    created_at=at,
                )
        except IntegrityError:
            if priority is not None:
                await Vote.filter(idea_id=idea.id, user_id=voter.id).update(priority=priority)
        else:
            await Idea.filter(id=idea.id).update(
                vote_count=F("vote_count") + 1,
                trending_score=F("trending_score") + ranking.weight("vote", at),
            )
            await events.emit(
                VoteCast(vote_id=vote.id, idea_id=idea.id, voter_id=voter.id, author_id=idea.author_id)
            )
        current = await Vote.filter(idea_id=idea.id, user_id=voter.id).values_list("priority", flat=True)
        return VoteState(True, await _count(idea.id), current[0] if current else priority)


async def remove_vote(*, actor: User | None, idea_id: int) -> VoteState:
    """Takes a vote back (idempotent: removing a vote that is not there changes nothing)."""
    idea = await visible_idea(actor, idea_id)
    if actor is None:
        raise Unauthorized("Please sign in to do that.")
    async with in_transaction():
        await _delete_vote(idea_id=idea.id, user_id=actor.id, author_id=idea.author_id)
        return VoteState(False, await _count(idea.id))


async def _delete_vote(*, idea_id: int, user_id: int, author_id: int) -> bool:
    vote = await Vote.filter(idea_id=idea_id, user_id=user_id).select_for_update().first()
    if vote is None or not await Vote.filter(id=vote.id).delete():
        return False
    await Idea.filter(id=idea_id).update(
        vote_count=F("vote_count") - 1,
        trending_score=F("trending_score") - ranking.weight("vote", vote.created_at),
    )
    await events.emit(VoteRemoved(vote_id=vote.id, idea_id=idea_id, voter_id=user_id, author_id=author_id))
    return True


async def vote_on_behalf(
    *,
    actor: User | None,
    idea_id: int,
    email: str,
    name: str = "",
    priority: str | None = None,
    note: str = "",
) -> VoteState:
    """Staff record a customer's vote (from a ticket, a call); the customer's account is made if new."""
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "vote.on_behalf", idea)
    errors = Errors()
    email = accounts.check_email(email, errors)
    note = (note or "").strip()
    if not note:
        errors.add("note", "Say where the request came from, e.g. a ticket number.")
    elif len(note) > NOTE_MAX:
        errors.add("note", f"Use at most {NOTE_MAX} characters.")
    try:
        priority = check_priority(priority)
    except Invalid as exc:
        errors.add("priority", exc.errors["priority"])
    errors.raise_if_any()
    await _open_for_votes(idea)  # before making an account for a vote that cannot be cast
    customer = await User.get_or_none(email=email)
    if customer is not None and customer.banned_at is not None:
        raise Invalid({"email": "This member is banned."})
    async with in_transaction():  # a refused vote (e.g. the customer's budget is used) makes no account
        if customer is None:
            # Unconfirmed and without a password: the customer claims it by verifying the address.
            customer = await accounts.create_unverified(email=email, name=name)
        state = await cast_vote(actor=actor, idea_id=idea.id, priority=priority, voter=customer, note=note)
        await audit.record(
            actor, "vote.on_behalf", kind="idea", object_id=idea.id, customer=customer.email, note=note
        )
    return state


async def voters(*, actor: User | None, idea_id: int) -> list[dict[str, Any]]:
    idea = await visible_idea(actor, idea_id)
    permissions.require(actor, "vote.see_voters", idea)
    return await (
        Vote.filter(idea_id=idea.id)
        .order_by("created_at", "id")
        .values(
            "user_id",
            "user__name",
            "user__email",
            "user__email_verified_at",
            "priority",
            "on_behalf_by__name",
            "source_note",
            "created_at",
        )
    )


async def demand(idea_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per idea: votes by priority and the weighted demand (see PRIORITY_WEIGHTS)."""
    rows = await (
        Vote.filter(idea_id__in=idea_ids)
        .annotate(n=Count("id"))
        .group_by("idea_id", "priority")
        .values_list("idea_id", "priority", "n")
    )
    result: dict[int, dict[str, Any]] = {}
    for idea_id, priority, n in rows:
        entry = result.setdefault(idea_id, {"by_priority": {}, "weighted_demand": 0})
        entry["by_priority"][priority or "none"] = n
        entry["weighted_demand"] += PRIORITY_WEIGHTS.get(priority, 1) * n
    return result


async def voted_by(user: User | None, idea_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The reader's own votes among `idea_ids` (one query), for `voted` in lists and the API."""
    if user is None or not idea_ids:
        return {}
    rows = await Vote.filter(user_id=user.id, idea_id__in=idea_ids).values_list("idea_id", "priority")
    return {idea_id: {"voted": True, "priority": priority} for idea_id, priority in rows}


async def set_budget(*, actor: User | None, board_id: int, votes_per_member: int | str | None) -> int | None:
    permissions.require(actor, "vote.manage_budget")
    if not await Board.exists(id=board_id):
        raise NotFound("There is no such board.")
    value: int | None
    if votes_per_member in (None, "", 0, "0"):
        value = None
    else:
        try:
            value = int(votes_per_member)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = -1
        if not 1 <= value <= 1000:
            raise Invalid({"votes_per_member": "Give a number of votes from 1 to 1000, or 0 for no budget."})
    async with in_transaction():
        await BoardVoteBudget.filter(board_id=board_id).delete()
        if value is not None:
            await BoardVoteBudget.create(board_id=board_id, votes_per_member=value)
        await audit.record(actor, "board.vote_budget", kind="board", object_id=board_id, votes=value)
    return value
