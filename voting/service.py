"""Voting: cast, remove, vote on behalf of a customer, voters, budgets. One function per use case.

The database keeps the rules that matter under concurrency: a unique index makes a second vote by
the same member impossible, and the counter moves with an atomic `UPDATE ... SET n = n + 1` in the
transaction that inserted or deleted the vote row, decided by whether that row was written.

Casting and removing run a thousand times a second, so they speak plain SQL (`portal.sql`): the
vote is `INSERT ... ON CONFLICT DO NOTHING RETURNING id` (no savepoint, no exception), and the
counter's `UPDATE ... RETURNING vote_count` gives the answer without reading the idea again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from ideas import catalog, ranking
from ideas.models import Board, Idea, Status
from ideas.policy import prepare_access
from ideas.service import visible_idea
from ideas.visibility import idea_visible
from portal import accounts, audit, events, permissions, sql
from portal.cache import TTLCache
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


@dataclass(frozen=True)
class Target:
    """What a vote needs of its idea: one narrow row, with its board and status from the catalogue."""

    id: int
    board_id: int
    author_id: int
    hidden_at: Any
    merged_into_id: int | None
    comments_locked: bool
    board: Board
    status: Status


def now() -> datetime:
    return datetime.now(UTC)


def check_priority(priority: Any) -> str | None:
    if priority in (None, ""):
        return None
    if priority not in PRIORITIES:
        raise Invalid({"priority": f"Choose one of {', '.join(PRIORITIES)}, or none."})
    return str(priority)


async def _open_for_votes(idea: Idea | Target) -> None:
    if idea.merged_into_id is not None:
        raise Conflict(f"This idea was merged into #{idea.merged_into_id}; vote there.")
    if idea.status.is_closed:
        raise Conflict(f"This idea is {idea.status.name.lower()} and takes no new votes.")
    if idea.comments_locked:
        raise Conflict("This idea is locked and takes no new votes.")


_IDEA = (
    "SELECT id, board_id, status_id, author_id, hidden_at, merged_into_id, comments_locked"
    " FROM ideas WHERE id = $1"
)


async def target(actor: User | None, idea_id: int) -> Target:
    """The idea to vote on, if `actor` may see it (`ideas.visibility.idea_visible`); 404 otherwise."""
    rows = await sql.fetch(_IDEA, idea_id)
    if not rows:
        raise NotFound("There is no such idea.")
    row = rows[0]
    board = next((b for b in await catalog.boards() if b.id == row["board_id"]), None)
    status = next((s for s in await catalog.statuses() if s.key == row["status_id"]), None)
    if board is None or status is None:  # made after the catalogue was read: the models know
        idea = await visible_idea(actor, idea_id)
        board, status = idea.board, idea.status
    elif board.visibility != "public":
        await prepare_access(actor, [board])  # who sees a non-public board may depend on the member's tier
    found = Target(
        id=row["id"],
        board_id=row["board_id"],
        author_id=row["author_id"],
        hidden_at=row["hidden_at"],
        merged_into_id=row["merged_into_id"],
        comments_locked=bool(row["comments_locked"]),
        board=board,
        status=status,
    )
    if not idea_visible(actor, found, board):  # type: ignore[arg-type]
        raise NotFound("There is no such idea.")
    return found


# Budgets change a few times a year and every vote asks: board id -> votes per member, in memory,
# cleared in every process when one is set (a shared cache, see `portal.cache`).
_budgets = TTLCache(300, name="voting.budgets")


async def budgets() -> dict[int, int]:
    return await _budgets.get_or_compute("all", _load_budgets)  # type: ignore[no-any-return]


async def _load_budgets() -> dict[int, int]:
    return dict(await BoardVoteBudget.all().values_list("board_id", "votes_per_member"))


async def votes_left(user: User, board_id: int) -> int | None:
    """Votes a member may still cast on a board with a budget (None: no budget)."""
    budget = (await budgets()).get(board_id)
    if budget is None:
        return None
    # A vote comes back when its idea closes or is merged: only open ideas count.
    used = await Vote.filter(
        user_id=user.id,
        idea__board_id=board_id,
        idea__merged_into_id=None,
        idea__status__is_closed=False,
    ).count()
    return max(0, budget - used)


_INSERT_VOTE = (
    "INSERT INTO votes (idea_id, user_id, priority, on_behalf_by_id, source_note, created_at)"
    " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idea_id, user_id) DO NOTHING RETURNING id"
)
_COUNT_UP = (
    "UPDATE ideas SET vote_count = vote_count + 1, trending_score = trending_score + $2"
    " WHERE id = $1 RETURNING vote_count"
)
_COUNT_DOWN = (
    "UPDATE ideas SET vote_count = vote_count - 1, trending_score = trending_score - $2"
    " WHERE id = $1 RETURNING vote_count"
)
# PostgreSQL takes both in one round trip: the counter moves only when the vote row was written.
_INSERT_AND_COUNT_UP = (
    f"WITH v AS ({_INSERT_VOTE}) UPDATE ideas"  # noqa: S608 - constants only
    " SET vote_count = vote_count + 1, trending_score = trending_score + $7"
    " FROM v WHERE ideas.id = $1 RETURNING ideas.vote_count, v.id"
)
_SET_PRIORITY = "UPDATE votes SET priority = $3 WHERE idea_id = $1 AND user_id = $2"
_STATE = (
    "SELECT i.vote_count, v.id AS vote_id, v.priority FROM ideas i"
    " LEFT JOIN votes v ON v.idea_id = i.id AND v.user_id = $2 WHERE i.id = $1"
)
_DELETE_VOTE = "DELETE FROM votes WHERE idea_id = $1 AND user_id = $2 RETURNING id, created_at"
_COUNT = "SELECT vote_count FROM ideas WHERE id = $1"
_created_at = Vote._meta.fields_map["created_at"]


async def cast_vote(
    *,
    actor: User | None,
    idea_id: int,
    priority: str | None = None,
    voter: User | None = None,
    note: str = "",
) -> VoteState:
    """Votes for an idea (idempotent: a second vote changes only the priority)."""
    # One transaction from the first read: one connection taken from the pool, not two.
    async with in_transaction():
        idea = await target(actor, idea_id)
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
        if idea.board_id in await budgets():
            # Serialise this member's votes so two at once cannot both take the last one.
            await User.filter(id=voter.id).select_for_update().first()
            existing = await Vote.exists(idea_id=idea.id, user_id=voter.id)
            left = await votes_left(voter, idea.board_id)
            if not existing and left == 0:
                raise Conflict("You have used all your votes on this board; remove one to vote here.")
        on_behalf_by = actor.id if actor is not None and voter.id != actor.id else None
        cast = await _insert_vote(idea.id, voter.id, priority, on_behalf_by, note, at)
        if cast is not None:
            vote_id, vote_count = cast
            await events.emit(
                VoteCast(
                    vote_id=vote_id,
                    idea_id=idea.id,
                    voter_id=voter.id,
                    author_id=idea.author_id,
                    voter_verified=voter.email_verified_at is not None,
                )
            )
            return VoteState(True, vote_count, priority)
        # Voted already: only the priority may change.
        if priority is not None:
            await sql.fetch(_SET_PRIORITY, idea.id, voter.id, priority)
        [state] = await sql.fetch(_STATE, idea.id, voter.id)
        return VoteState(True, state["vote_count"], state["priority"] if state["vote_id"] else priority)


async def _insert_vote(
    idea_id: int, user_id: int, priority: str | None, on_behalf_by: int | None, note: str, at: datetime
) -> tuple[int, int] | None:
    """Writes the vote row and moves the counter: (vote id, new count), or None if voted already."""
    weight = ranking.weight("vote", at)
    if sql.is_postgres():
        values = (idea_id, user_id, priority, on_behalf_by, note, at, weight)
        rows = await sql.fetch(_INSERT_AND_COUNT_UP, *values)
        return (rows[0]["id"], rows[0]["vote_count"]) if rows else None
    inserted = await sql.fetch(_INSERT_VOTE, idea_id, user_id, priority, on_behalf_by, note, at)
    if not inserted:
        return None
    [row] = await sql.fetch(_COUNT_UP, idea_id, weight)
    return inserted[0]["id"], row["vote_count"]


async def remove_vote(*, actor: User | None, idea_id: int) -> VoteState:
    """Takes a vote back (idempotent: removing a vote that is not there changes nothing)."""
    async with in_transaction():
        idea = await target(actor, idea_id)
        if actor is None:
            raise Unauthorized("Please sign in to do that.")
        count = await _delete_vote(idea_id=idea.id, user_id=actor.id, author_id=idea.author_id)
        if count is None:
            count = (await sql.fetch(_COUNT, idea.id))[0]["vote_count"]
        return VoteState(False, count)


async def _delete_vote(*, idea_id: int, user_id: int, author_id: int) -> int | None:
    """Deletes the member's vote; the idea's new count, or None when there was no vote."""
    deleted = await sql.fetch(_DELETE_VOTE, idea_id, user_id)
    if not deleted:
        return None
    vote_id, created_at = deleted[0]["id"], _created_at.to_python_value(deleted[0]["created_at"])
    [row] = await sql.fetch(_COUNT_DOWN, idea_id, ranking.weight("vote", created_at))
    await events.emit(VoteRemoved(vote_id=vote_id, idea_id=idea_id, voter_id=user_id, author_id=author_id))
    return int(row["vote_count"])


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
    marks = ", ".join(f"${n}" for n in range(2, len(idea_ids) + 2))
    rows = await sql.fetch(
        f"SELECT idea_id, priority FROM votes WHERE user_id = $1 AND idea_id IN ({marks})",  # noqa: S608
        user.id,
        *idea_ids,
    )
    return {r["idea_id"]: {"voted": True, "priority": r["priority"]} for r in rows}


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
        await _budgets.invalidate()
        await audit.record(actor, "board.vote_budget", kind="board", object_id=board_id, votes=value)
    return value
