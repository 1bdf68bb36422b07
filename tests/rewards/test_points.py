"""Points from the portal's events: what an idea pays, to whom, what is reversed, caps and replays."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise.transactions import in_transaction

from ideas import moderation
from ideas import service as ideas
from portal import events
from portal.models import User
from rewards import outcomes, rules
from rewards.models import MemberPoints, PointEntry
from tests.factories import make_user
from tests.rewards.helpers import (
    IDEA_PLANNED,
    IDEA_POSTED,
    IDEA_SHIPPED,
    SHIP_VOTER_SHARE,
    VOTE_RECEIVED,
    ledger_sum,
    make_admin,
    make_board,
    make_cm,
    make_idea,
    points,
)
from voting import service as voting

pytestmark = pytest.mark.usefixtures("app")


async def _snapshot() -> tuple[dict[int, tuple[int, int]], int]:
    totals = {mp.user_id: (mp.balance, mp.lifetime) for mp in await MemberPoints.all()}
    return totals, await PointEntry.all().count()


async def test_an_idea_pays_its_author_and_early_voters_reverses_exactly_and_replays_to_nothing() -> None:
    admin = await make_admin()
    staff = await make_user(role="staff")
    board = await make_board(admin)
    author = await make_user(name="Ada")
    voters = [await make_user() for _ in range(3)]

    with events.record() as seen:
        idea = await make_idea(board, author=author)
        await voting.cast_vote(actor=voters[0], idea_id=idea.id)
        # Staff record a vote for a customer whose address is not confirmed: it pays nobody.
        await voting.vote_on_behalf(
            actor=staff, idea_id=idea.id, email="customer@example.com", note="ticket 12"
        )
        await voting.cast_vote(actor=voters[1], idea_id=idea.id)
        await voting.cast_vote(actor=author, idea_id=idea.id)  # your own vote pays nothing
        await voting.cast_vote(actor=voters[2], idea_id=idea.id)
        assert await points(author) == (3 * VOTE_RECEIVED, 3 * VOTE_RECEIVED)

        await ideas.change_status(actor=staff, idea_id=idea.id, status="planned", message="Next quarter.")
        assert await points(author) == ((want := IDEA_POSTED + IDEA_PLANNED + 3 * VOTE_RECEIVED), want)
        await ideas.change_status(actor=staff, idea_id=idea.id, status="shipped", message="Out now.")

        paid = IDEA_POSTED + IDEA_PLANNED + IDEA_SHIPPED + 3 * VOTE_RECEIVED
        assert await points(author) == (paid, paid)
        shares = [outcomes.share(SHIP_VOTER_SHARE, i) for i in range(3)]
        assert shares == [10, 9, 9]
        for voter, share in zip(voters, shares, strict=True):
            assert await points(voter) == (share, share)
        customer = await User.get(email="customer@example.com")
        assert customer.email_verified_at is None
        assert await points(customer) == (0, 0)
        assert not await PointEntry.filter(user_id=customer.id).exists()
        author_rules = await PointEntry.filter(user_id=author.id).values_list("rule", flat=True)
        assert sorted(author_rules) == sorted(
            ["idea_posted", "idea_planned", "idea_shipped"] + ["vote_received"] * 3
        )  # no vote_received for the author's own vote, no voter share for the author

        # Removing a vote gives back exactly what it paid, with a new entry.
        await voting.remove_vote(actor=voters[1], idea_id=idea.id)
        key = f"vote_received:idea:{idea.id}:{author.id}:voter:{voters[1].id}"
        original = await PointEntry.get(dedupe_key=key)
        reversal = await PointEntry.get(reverses_id=original.id)
        assert (reversal.delta, reversal.kind, reversal.user_id) == (-original.delta, "reversal", author.id)
        assert await points(author) == (paid - VOTE_RECEIVED, paid - VOTE_RECEIVED)
        await voting.remove_vote(actor=voters[1], idea_id=idea.id)  # nothing left to remove
        assert await PointEntry.filter(reverses_id=original.id).count() == 1

        # Hiding the idea reverses everything it earned its author, each entry once.
        await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="Spam after all")
        assert await points(author) == (0, 0)
        earned = await PointEntry.filter(user_id=author.id, kind="earn")
        for entry in earned:
            reversals = await PointEntry.filter(reverses_id=entry.id)
            assert [(r.delta, r.kind) for r in reversals] == [(-entry.delta, "reversal")]
        assert await ledger_sum(author) == 0

        # A second idea ships and stays up: its awards are there to be replayed.
        other = await make_idea(board, author=voters[0])
        await voting.cast_vote(actor=voters[2], idea_id=other.id)
        await voting.cast_vote(actor=author, idea_id=other.id)
        await ideas.change_status(actor=staff, idea_id=other.id, status="shipped", message="Done.")

    before = await _snapshot()
    assert sum(b for b, _ in before[0].values()) > 0
    kinds = {type(e).__name__ for e in seen}
    assert {"IdeaPosted", "VoteCast", "VoteRemoved", "IdeaStatusChanged", "ContentHidden"} <= kinds
    async with in_transaction():
        for event in seen:
            await events.emit(event)
    assert await _snapshot() == before
    for user in [author, *voters]:
        assert (await points(user))[0] == await ledger_sum(user)


async def test_the_posting_award_waits_for_triage_and_a_declined_idea_pays_nothing() -> None:
    staff = await make_user(role="staff")
    board = await make_board()
    author = await make_user()
    idea = await make_idea(board, author=author)
    assert await points(author) == (0, 0)
    declined = await make_idea(board, author=author)
    await ideas.change_status(actor=staff, idea_id=declined.id, status="declined", message="Out of scope.")
    assert await points(author) == (0, 0)
    await ideas.change_status(actor=staff, idea_id=idea.id, status="under_review")
    assert await points(author) == (IDEA_POSTED, IDEA_POSTED)
    # Back to open and out again: the posting award is paid once.
    await ideas.change_status(actor=staff, idea_id=idea.id, status="open")
    await ideas.change_status(actor=staff, idea_id=idea.id, status="under_review")
    assert await points(author) == (IDEA_POSTED, IDEA_POSTED)


async def test_daily_caps_hold_and_the_last_award_is_cut_to_the_cap() -> None:
    cm = await make_cm()
    staff = await make_user(role="staff")
    board = await make_board()
    author = await make_user()

    await rules.update_rule(actor=cm, key="vote_received", points=2, daily_cap=5, enabled=True)
    idea = await make_idea(board, author=author)
    for _ in range(4):
        await voting.cast_vote(actor=await make_user(), idea_id=idea.id)
    assert await points(author) == (5, 5)  # 2 + 2 + 1 (cut to the cap) + 0
    deltas = (
        await PointEntry.filter(user_id=author.id, rule="vote_received")
        .order_by("id")
        .values_list("delta", flat=True)
    )
    assert deltas == [2, 2, 1]

    # The default cap of the posting award: 5 points, at most 20 a day.
    others = await make_user()
    for _ in range(5):
        posted = await make_idea(board, author=others)
        await ideas.change_status(actor=staff, idea_id=posted.id, status="under_review")
    assert await points(others) == (20, 20)
    assert await PointEntry.filter(user_id=others.id, rule="idea_posted").count() == 4


async def test_ship_shares_follow_the_order_of_support_and_skip_unverified_and_banned() -> None:
    staff = await make_user(role="staff")
    board = await make_board()
    author = await make_user()
    idea = await make_idea(board, author=author)
    supporters = []
    for _ in range(12):
        member = await make_user()
        await voting.cast_vote(actor=member, idea_id=idea.id)
        supporters.append(member)
    banned = supporters[3]
    await User.filter(id=banned.id).update(banned_at=datetime.now(UTC))
    await ideas.change_status(actor=staff, idea_id=idea.id, status="shipped", message="Out now.")
    paying = [m for m in supporters if m.id != banned.id]
    for position, member in enumerate(paying):
        assert await points(member) == (outcomes.share(SHIP_VOTER_SHARE, position),) * 2
    assert await points(banned) == (0, 0)
    assert outcomes.share(SHIP_VOTER_SHARE, 10) == 5  # the tenth supporter after the first gets half
    assert outcomes.share(1, 50) == 1  # never less than one point
