"""The points ledger: append-only entries, idempotent awards, exact reversals, and the rebuild."""

from __future__ import annotations

import asyncio
import os
import random
import sys

import pytest
from tortoise.transactions import in_transaction

from ideas import moderation
from ideas import service as ideas
from portal.errors import Conflict, NotFound
from rewards import ledger, rules
from rewards.models import MemberPoints, PointEntry
from rewards.rebuild import rebuild
from tests.conftest import TEST_SECRET
from tests.factories import make_user
from tests.rewards.helpers import balance, ledger_sum, make_board, make_cm, make_idea, points
from voting import service as voting

pytestmark = pytest.mark.usefixtures("app")


async def test_an_award_is_paid_once_per_rule_source_and_member() -> None:
    member = await make_user()
    first = await ledger.award(
        user_id=member.id, rule_key="comment_helpful", source_kind="comment", source_id=7
    )
    again = await ledger.award(
        user_id=member.id, rule_key="comment_helpful", source_kind="comment", source_id=7
    )
    other = await ledger.award(
        user_id=member.id, rule_key="comment_helpful", source_kind="comment", source_id=8
    )
    assert first is not None and first.delta == 5 and first.kind == "earn"
    assert again is None
    assert other is not None
    assert await points(member) == (10, 10)
    assert await PointEntry.filter(user_id=member.id).count() == 2


async def test_a_reversal_is_a_new_entry_negating_what_was_paid_at_most_once() -> None:
    cm = await make_cm()
    member = await make_user()
    entry = await ledger.award(user_id=member.id, rule_key="vote_received", source_kind="idea", source_id=1)
    assert entry is not None and entry.delta == 1
    # The rule changes afterwards: the reversal still negates what the entry paid, not today's value.
    await rules.update_rule(actor=cm, key="vote_received", points=7, daily_cap=0, enabled=True)
    reversal = await ledger.reverse(entry, reason="vote removed")
    assert reversal is not None
    assert (reversal.delta, reversal.kind, reversal.reverses_id) == (-1, "reversal", entry.id)
    assert await ledger.reverse(entry, reason="again") is None
    assert await ledger.reverse(reversal, reason="a reversal of a reversal") is None
    original = await PointEntry.get(id=entry.id)
    assert (original.delta, original.kind, original.reverses_id) == (1, "earn", None)  # never edited
    assert await points(member) == (0, 0)
    assert await PointEntry.filter(user_id=member.id).count() == 2


async def test_disabled_rules_and_banned_members_earn_nothing() -> None:
    cm = await make_cm()
    member = await make_user()
    banned = await make_user(banned=True)
    await rules.update_rule(actor=cm, key="comment_helpful", points=5, daily_cap=25, enabled=False)
    assert (
        await ledger.award(user_id=member.id, rule_key="comment_helpful", source_kind="c", source_id=1)
        is None
    )
    assert (
        await ledger.award(user_id=banned.id, rule_key="vote_received", source_kind="i", source_id=1) is None
    )
    assert (
        await ledger.award(user_id=member.id, rule_key="no_such_rule", source_kind="i", source_id=1) is None
    )
    assert await PointEntry.all().count() == 0


async def test_spending_and_refunds_move_the_balance_only_grants_move_lifetime() -> None:
    cm = await make_cm()
    member = await make_user()
    await ledger.grant(actor=cm, user_id=member.id, points=100, reason="welcome")
    async with in_transaction():
        await ledger.account(member.id, lock=True)
        await ledger.spend(user_id=member.id, points=30, reason="a perk", claim_id=1)
    assert await points(member) == (70, 100)
    await ledger.refund(user_id=member.id, points=30, reason="refund", claim_id=1)
    await ledger.refund(user_id=member.id, points=30, reason="refund twice", claim_id=1)  # idempotent
    assert await points(member) == (100, 100)
    await ledger.grant(actor=cm, user_id=member.id, points=-40, reason="correction")
    assert await points(member) == (60, 60)
    assert await ledger_sum(member) == 60
    kinds = await PointEntry.filter(user_id=member.id).order_by("id").values_list("kind", flat=True)
    assert kinds == ["grant", "spend", "refund", "grant"]


async def test_history_lists_the_members_entries_newest_first() -> None:
    cm = await make_cm()
    member, other = await make_user(), await make_user()
    for n in (1, 2, 3):
        await ledger.grant(actor=cm, user_id=member.id, points=n, reason=f"grant {n}")
    await ledger.grant(actor=cm, user_id=other.id, points=9, reason="someone else")
    rows = await ledger.history(member.id)
    assert [r["delta"] for r in rows] == [3, 2, 1]


# --- hearken rewards rebuild ---------------------------------------------------------------------


async def _random_run(seed: int) -> list[int]:
    """Random votes, unvotes, status changes and hides over a few ideas; returns the members."""
    rng = random.Random(seed)
    admin = await make_user(role="admin")
    staff = await make_user(role="staff")
    board = await make_board(admin)
    members = [await make_user() for _ in range(8)]
    ideas_ = [await make_idea(board, author=rng.choice(members)) for _ in range(6)]
    walk = {
        "open": ["under_review", "planned", "declined"],
        "under_review": ["planned", "declined"],
        "planned": ["in_progress", "shipped"],
        "in_progress": ["shipped", "planned"],
        "shipped": ["in_progress"],
        "declined": ["open"],
    }
    for _ in range(120):
        idea = rng.choice(ideas_)
        current = await ideas.get_idea(idea.id)
        if current.hidden_at is not None:
            continue
        action = rng.random()
        member = rng.choice(members)
        try:
            if action < 0.5:
                await voting.cast_vote(actor=member, idea_id=idea.id)
            elif action < 0.7:
                await voting.remove_vote(actor=member, idea_id=idea.id)
            elif action < 0.97:
                target = rng.choice(walk[current.status_id])
                await ideas.change_status(actor=staff, idea_id=idea.id, status=target, message="Because.")
            else:
                await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="spam")
        except (Conflict, NotFound):
            pass  # a closed idea takes no votes: part of the game
    return [m.id for m in members]


async def test_rebuild_reports_no_drift_after_a_random_run_and_fixes_a_corrupted_balance() -> None:
    members = await _random_run(seed=20240601)
    paid = await PointEntry.all().count()
    assert paid > 20  # the run did pay and reverse things
    assert await PointEntry.filter(kind="reversal").count() > 0
    for user_id in members:
        cached = await MemberPoints.get_or_none(user_id=user_id)
        assert (cached.balance if cached else 0) == await ledger_sum(user_id)

    clean = await rebuild(dry_run=True)
    assert clean.total == 0
    assert (await rebuild()).total == 0

    earners = await MemberPoints.filter(user_id__in=members, lifetime__gt=0).order_by("user_id")
    assert len(earners) >= 2
    victim, other = earners[0].user_id, earners[1].user_id
    good = await points(victim)
    good_other = await points(other)
    await MemberPoints.filter(user_id=victim).update(balance=good[0] + 999)
    await MemberPoints.filter(user_id=other).update(lifetime=good_other[1] - 3)

    found = await rebuild(dry_run=True)
    assert found.total == 2
    assert found.balance == {victim: (good[0] + 999, good[0])}
    assert found.lifetime == {other: (good_other[1] - 3, good_other[1])}
    assert await balance(victim) == good[0] + 999  # a dry run changes nothing

    fixed = await rebuild()
    assert fixed.total == 2
    assert await points(victim) == good
    assert await points(other) == good_other
    assert (await rebuild(dry_run=True)).total == 0
    assert await PointEntry.all().count() == paid  # the ledger itself is never touched


async def test_rebuild_creates_missing_totals() -> None:
    cm = await make_cm()
    member = await make_user()
    await ledger.grant(actor=cm, user_id=member.id, points=12, reason="thanks")
    await MemberPoints.filter(user_id=member.id).delete()
    drift = await rebuild()
    assert drift.balance == {member.id: (0, 12)}
    assert await points(member) == (12, 12)


async def _hearken(database_url: str, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARKEN_")}
    env |= {"HEARKEN_DATABASE_URL": database_url, "HEARKEN_SECRET_KEY": TEST_SECRET}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import sys; from portal.cli import main; sys.exit(main(sys.argv[1:]))", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_the_rebuild_command_reports_then_fixes_drift(database_url: str) -> None:
    cm = await make_cm()
    member = await make_user()
    await ledger.grant(actor=cm, user_id=member.id, points=40, reason="thanks")
    await MemberPoints.filter(user_id=member.id).update(balance=7)

    report = await _hearken(database_url, "rewards", "rebuild", "--dry-run")
    assert f"member {member.id}: balance 7 -> 40" in report
    assert await balance(member) == 7

    assert "drift fixed: 1" in await _hearken(database_url, "rewards", "rebuild")
    assert await points(member) == (40, 40)
    assert (await rebuild(dry_run=True)).total == 0
