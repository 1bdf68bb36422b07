"""voting.service and its listeners, called directly: idempotency, events, refusals, budgets, merge, ban."""

from __future__ import annotations

from math import isclose

import pytest
from starlette.applications import Starlette

from ideas import moderation, ranking
from ideas import service as ideas
from ideas.models import Idea
from portal import events
from portal.errors import Conflict, Forbidden, Invalid, Unauthorized
from portal.models import User
from tests.factories import make_user
from tests.voting.helpers import make_admin, make_board, make_idea, vote_count, voter_ids
from voting import service
from voting.events import VoteCast, VoteRemoved
from voting.models import Vote
from voting.repair import repair_counters

pytestmark = pytest.mark.usefixtures("app")


def kinds(seen: list[events.Event]) -> list[str]:
    return [type(e).__name__ for e in seen if isinstance(e, VoteCast | VoteRemoved)]


async def test_voting_twice_is_one_vote_and_one_event(app: Starlette) -> None:
    idea = await make_idea()
    member = await make_user()
    with events.record() as seen:
        first = await service.cast_vote(actor=member, idea_id=idea.id)
        second = await service.cast_vote(actor=member, idea_id=idea.id)
    assert first == service.VoteState(True, 1, None)
    assert second == service.VoteState(True, 1, None)
    assert await Vote.filter(idea_id=idea.id).count() == 1
    assert await vote_count(idea.id) == 1
    cast = [e for e in seen if isinstance(e, VoteCast)]
    assert cast == [
        VoteCast(vote_id=cast[0].vote_id, idea_id=idea.id, voter_id=member.id, author_id=idea.author_id)
    ]
    assert kinds(seen) == ["VoteCast"]


async def test_removing_is_idempotent_and_raises_one_event(app: Starlette) -> None:
    idea = await make_idea()
    member = await make_user()
    with events.record() as seen:
        assert await service.remove_vote(actor=member, idea_id=idea.id) == service.VoteState(False, 0)
    assert kinds(seen) == []  # nothing to remove: no event
    await service.cast_vote(actor=member, idea_id=idea.id)
    vote_id = (await Vote.get(idea_id=idea.id, user_id=member.id)).id
    with events.record() as seen:
        assert await service.remove_vote(actor=member, idea_id=idea.id) == service.VoteState(False, 0)
        assert await service.remove_vote(actor=member, idea_id=idea.id) == service.VoteState(False, 0)
    assert seen == [
        VoteRemoved(vote_id=vote_id, idea_id=idea.id, voter_id=member.id, author_id=idea.author_id)
    ]
    assert await Vote.filter(idea_id=idea.id).count() == 0
    assert await vote_count(idea.id) == 0


async def test_counts_follow_many_voters_and_trending_score_moves_with_them(app: Starlette) -> None:
    idea = await make_idea()
    members = [await make_user() for _ in range(3)]
    before = (await Idea.get(id=idea.id)).trending_score
    for m in members:
        await service.cast_vote(actor=m, idea_id=idea.id)
    after = (await Idea.get(id=idea.id)).trending_score
    assert await vote_count(idea.id) == 3
    votes = await Vote.filter(idea_id=idea.id).values_list("created_at", flat=True)
    assert isclose(after - before, sum(ranking.weight("vote", at) for at in votes), rel_tol=1e-6)
    await service.remove_vote(actor=members[0], idea_id=idea.id)
    assert await vote_count(idea.id) == 2
    assert await voter_ids(idea.id) == {members[1].id, members[2].id}
    assert (await repair_counters(dry_run=True)).total == 0


async def test_priority_is_stored_changed_by_a_second_vote_and_checked(app: Starlette) -> None:
    idea = await make_idea()
    member = await make_user()
    state = await service.cast_vote(actor=member, idea_id=idea.id, priority="must")
    assert state == service.VoteState(True, 1, "must")
    assert (await Vote.get(idea_id=idea.id, user_id=member.id)).priority == "must"
    with events.record() as seen:
        state = await service.cast_vote(actor=member, idea_id=idea.id, priority="nice")
        # A repeat without a priority keeps the one chosen.
        again = await service.cast_vote(actor=member, idea_id=idea.id)
    assert kinds(seen) == []
    assert state == service.VoteState(True, 1, "nice")
    assert again == service.VoteState(True, 1, "nice")
    other = await make_user()
    with pytest.raises(Invalid) as caught:
        await service.cast_vote(actor=other, idea_id=idea.id, priority="urgent")
    assert "priority" in caught.value.errors
    assert await voter_ids(idea.id) == {member.id}
    assert await vote_count(idea.id) == 1


async def test_weighted_demand_counts_priorities(app: Starlette) -> None:
    idea = await make_idea()
    for priority in ("must", "must", "important", "nice", None):
        await service.cast_vote(actor=await make_user(), idea_id=idea.id, priority=priority)
    demand = await service.demand([idea.id])
    assert demand[idea.id]["by_priority"] == {"must": 2, "important": 1, "nice": 1, "none": 1}
    assert demand[idea.id]["weighted_demand"] == 3 + 3 + 2 + 1 + 1


# --- refusals -------------------------------------------------------------------------------------


async def _refused(idea_id: int, actor: User | None, error: type[Exception], *words: str) -> None:
    with events.record() as seen, pytest.raises(error) as caught:
        await service.cast_vote(actor=actor, idea_id=idea_id)
    for word in words:
        assert word in str(caught.value).lower()
    assert kinds(seen) == []
    assert await Vote.filter(idea_id=idea_id).count() == 0
    assert await vote_count(idea_id) == 0


@pytest.mark.parametrize(("status", "word"), [("shipped", "shipped"), ("declined", "declined")])
async def test_closed_ideas_take_no_votes(app: Starlette, status: str, word: str) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff")
    await ideas.change_status(actor=staff, idea_id=idea.id, status=status, message="Decided.")
    await _refused(idea.id, await make_user(), Conflict, word)


async def test_merged_and_locked_ideas_take_no_votes(app: Starlette) -> None:
    staff = await make_user(role="staff")
    source, target, locked = await make_idea(), await make_idea(), await make_idea()
    await ideas.merge(actor=staff, idea_id=source.id, into=target.id)
    await _refused(source.id, await make_user(), Conflict, "merged", f"#{target.id}")
    await moderation.set_comments_locked(actor=staff, idea_id=locked.id, locked=True)
    await _refused(locked.id, await make_user(), Conflict, "locked")


async def test_only_verified_active_members_vote(app: Starlette) -> None:
    idea = await make_idea()
    await _refused(idea.id, await make_user(verified=False), Forbidden, "confirm your e-mail")
    await _refused(idea.id, None, Unauthorized)
    await _refused(idea.id, await make_user(banned=True), Forbidden)
    with pytest.raises(Unauthorized):
        await service.remove_vote(actor=None, idea_id=idea.id)


# --- budgets --------------------------------------------------------------------------------------


async def test_budget_limits_open_votes_per_board_and_closing_gives_one_back(app: Starlette) -> None:
    admin = await make_admin()
    board, other_board = await make_board(admin), await make_board(admin)
    a, b, c = [await make_idea(board) for _ in range(3)]
    elsewhere = await make_idea(other_board)
    assert await service.set_budget(actor=admin, board_id=board.id, votes_per_member="2") == 2
    member = await make_user()
    assert await service.votes_left(member, board.id) == 2
    assert await service.votes_left(member, other_board.id) is None
    await service.cast_vote(actor=member, idea_id=a.id)
    await service.cast_vote(actor=member, idea_id=b.id)
    assert await service.votes_left(member, board.id) == 0
    # Voting again for an idea already voted for (e.g. to set a priority) spends nothing.
    assert (await service.cast_vote(actor=member, idea_id=b.id, priority="must")).priority == "must"
    with pytest.raises(Conflict, match="used all your votes"):
        await service.cast_vote(actor=member, idea_id=c.id)
    assert await vote_count(c.id) == 0
    await service.cast_vote(actor=member, idea_id=elsewhere.id)  # another board: no budget there
    # Shipping one of the voted ideas gives that vote back.
    await ideas.change_status(actor=await make_user(role="staff"), idea_id=a.id, status="shipped")
    assert await service.votes_left(member, board.id) == 1
    await service.cast_vote(actor=member, idea_id=c.id)
    assert await vote_count(c.id) == 1
    # Removing a vote frees it too; no budget (0) lifts the limit.
    await service.remove_vote(actor=member, idea_id=b.id)
    assert await service.votes_left(member, board.id) == 1
    assert await service.set_budget(actor=admin, board_id=board.id, votes_per_member="0") is None
    assert await service.votes_left(member, board.id) is None


async def test_budget_is_set_by_admins_only_with_a_sane_number(app: Starlette) -> None:
    admin = await make_admin()
    board = await make_board(admin)
    for bad in ("-1", "many", "1001"):
        with pytest.raises(Invalid) as caught:
            await service.set_budget(actor=admin, board_id=board.id, votes_per_member=bad)
        assert "votes_per_member" in caught.value.errors
    for not_admin in (await make_user(), await make_user(role="staff")):
        with pytest.raises(Forbidden):
            await service.set_budget(actor=not_admin, board_id=board.id, votes_per_member=3)
    assert await service.votes_left(await make_user(), board.id) is None


# --- merge and ban --------------------------------------------------------------------------------


async def test_merge_gives_the_target_the_exact_union_of_voters(app: Starlette) -> None:
    staff = await make_user(role="staff")
    source, target = await make_idea(), await make_idea()
    only_source = [await make_user() for _ in range(2)]
    both = [await make_user() for _ in range(3)]
    only_target = [await make_user()]
    for m in only_source + both:
        await service.cast_vote(actor=m, idea_id=source.id, priority="must")
    for m in both + only_target:
        await service.cast_vote(actor=m, idea_id=target.id)
    await ideas.merge(actor=staff, idea_id=source.id, into=target.id)
    expected = {m.id for m in only_source + both + only_target}
    assert await voter_ids(target.id) == expected
    assert await vote_count(target.id) == len(expected) == 6
    assert await Vote.filter(idea_id=source.id).count() == 0
    assert await vote_count(source.id) == 0
    # The moved votes keep their priority; voters of both keep their vote on the target.
    assert set(await Vote.filter(idea_id=target.id, priority="must").values_list("user_id", flat=True)) == {
        m.id for m in only_source
    }
    assert (await repair_counters(dry_run=True)).total == 0


async def test_a_ban_removes_the_members_votes_from_counts(app: Starlette) -> None:
    staff = await make_user(role="staff")
    first, second = await make_idea(), await make_idea()
    banned, kept = await make_user(), await make_user()
    for idea in (first, second):
        await service.cast_vote(actor=banned, idea_id=idea.id)
    await service.cast_vote(actor=kept, idea_id=first.id)
    with events.record() as seen:
        await moderation.ban_member(actor=staff, user_id=banned.id, reason="Spam votes")
    assert sorted((e.idea_id, e.voter_id) for e in seen if isinstance(e, VoteRemoved)) == sorted(
        [(first.id, banned.id), (second.id, banned.id)]
    )
    assert await Vote.filter(user_id=banned.id).count() == 0
    assert await vote_count(first.id) == 1
    assert await vote_count(second.id) == 0
    assert (await repair_counters(dry_run=True)).total == 0


# --- votes on behalf ------------------------------------------------------------------------------


async def test_a_vote_on_behalf_creates_an_unverified_customer_and_counts_once(app: Starlette) -> None:
    staff = await make_user(role="staff", name="Pat Manager")
    idea = await make_idea()
    with events.record() as seen:
        state = await service.vote_on_behalf(
            actor=staff, idea_id=idea.id, email=" Buyer@ACME.example ", name="ACME Buyer",
            priority="important", note="Ticket #4521",
        )  # fmt: skip
        again = await service.vote_on_behalf(
            actor=staff, idea_id=idea.id, email="buyer@acme.example", note="Call with ACME"
        )
    assert state == service.VoteState(True, 1, "important")
    assert again.vote_count == 1
    assert kinds(seen) == ["VoteCast"]
    customer = await User.get(email="buyer@acme.example")
    assert customer.name == "ACME Buyer"
    assert customer.email_verified_at is None
    assert customer.role == "member"
    vote = await Vote.get(idea_id=idea.id)
    assert (vote.user_id, vote.on_behalf_by_id, vote.source_note, vote.priority) == (
        customer.id, staff.id, "Ticket #4521", "important",
    )  # fmt: skip
    rows = await service.voters(actor=staff, idea_id=idea.id)
    assert [(r["user__email"], r["on_behalf_by__name"], r["source_note"]) for r in rows] == [
        ("buyer@acme.example", "Pat Manager", "Ticket #4521")
    ]


async def test_a_vote_on_behalf_of_an_existing_member_uses_their_account(app: Starlette) -> None:
    staff = await make_user(role="staff")
    member = await make_user(email="known@example.com")
    idea = await make_idea()
    users_before = await User.all().count()
    await service.vote_on_behalf(actor=staff, idea_id=idea.id, email="KNOWN@example.com", note="Forum post")
    assert await User.all().count() == users_before
    assert await voter_ids(idea.id) == {member.id}


async def test_votes_on_behalf_are_checked(app: Starlette) -> None:
    staff, member = await make_user(role="staff"), await make_user()
    banned = await make_user(banned=True)
    idea = await make_idea()
    with pytest.raises(Forbidden):
        await service.vote_on_behalf(actor=member, idea_id=idea.id, email="x@example.com", note="n")
    with pytest.raises(Invalid) as caught:
        await service.vote_on_behalf(actor=staff, idea_id=idea.id, email="not-an-address", note=" ")
    assert set(caught.value.errors) == {"email", "note"}
    with pytest.raises(Invalid) as caught:
        await service.vote_on_behalf(actor=staff, idea_id=idea.id, email="a@example.com", note="x" * 301)
    assert set(caught.value.errors) == {"note"}
    with pytest.raises(Invalid) as caught:
        await service.vote_on_behalf(actor=staff, idea_id=idea.id, email=banned.email, note="Ticket 1")
    assert set(caught.value.errors) == {"email"}
    assert await Vote.filter(idea_id=idea.id).count() == 0
    assert not await User.exists(email="a@example.com")
    assert not await User.exists(email="x@example.com")


async def test_a_refused_vote_on_behalf_makes_no_account(app: Starlette) -> None:
    admin, staff = await make_admin(), await make_user(role="staff")
    board = await make_board(admin)
    shipped, first, second = [await make_idea(board) for _ in range(3)]
    await ideas.change_status(actor=staff, idea_id=shipped.id, status="shipped")
    with pytest.raises(Conflict, match="shipped"):
        await service.vote_on_behalf(actor=staff, idea_id=shipped.id, email="late@example.com", note="T-1")
    assert not await User.exists(email="late@example.com")
    # A budget counts votes on behalf too.
    await service.set_budget(actor=admin, board_id=board.id, votes_per_member=1)
    customer = await make_user(email="known@example.com")
    await service.vote_on_behalf(actor=staff, idea_id=first.id, email=customer.email, note="T-2")
    with pytest.raises(Conflict):
        await service.vote_on_behalf(actor=staff, idea_id=second.id, email=customer.email, note="T-3")
    assert await voter_ids(first.id) == {customer.id}
    assert await voter_ids(second.id) == set()
    with pytest.raises(Invalid) as caught:
        await service.vote_on_behalf(actor=staff, idea_id=first.id, email="", priority="high", note="")
    assert set(caught.value.errors) == {"email", "note", "priority"}


async def test_lists_read_the_readers_votes_in_their_own_statement_as_the_decorator_would() -> None:
    from ideas import queries

    board = await make_board()
    must, plain, untouched = [await make_idea(board=board) for _ in range(3)]
    member, other = await make_user(), await make_user()
    await service.cast_vote(actor=member, idea_id=must.id, priority="must")
    await service.cast_vote(actor=member, idea_id=plain.id)
    await service.cast_vote(actor=other, idea_id=untouched.id, priority="nice")

    page = await queries.list_ideas(member, queries.parse_filter({"board": board.slug}))
    listed = {r["id"]: (r["voted"], r["priority"]) for r in page.items}
    assert listed == {must.id: (True, "must"), plain.id: (True, None), untouched.id: (False, None)}
    # The same as the decorator gives the idea page and the API.
    from_decorator = await service.voted_by(member, [must.id, plain.id, untouched.id])
    assert {i: (True, e["priority"]) for i, e in from_decorator.items()} == {
        i: v for i, v in listed.items() if v[0]
    }
    anonymous = await queries.list_ideas(None, queries.parse_filter({"board": board.slug}))
    assert all("voted" not in r for r in anonymous.items)
