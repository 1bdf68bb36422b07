"""Tiers: promotion by lifetime points, no demotion by spending, careful demotion on new thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.errors import Forbidden, Invalid
from portal.models import Notification
from rewards import ledger, perks, tiers
from rewards.models import MemberPoints, TierChange
from tests.factories import make_user
from tests.rewards.helpers import make_cm, make_deal, points, reach, tier

pytestmark = pytest.mark.usefixtures("app")


async def _changes(user_id: int) -> list[tuple[str, str]]:
    rows = await TierChange.filter(user_id=user_id).order_by("id").values_list("from_tier", "to_tier")
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_lifetime_points_promote_through_the_tiers_with_a_change_and_a_notification_each() -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 49)
    assert await tier(member) == "member"
    await reach(cm, member, 1)  # 50
    assert await tier(member) == "contributor"
    await reach(cm, member, 149)  # 199
    assert await tier(member) == "contributor"
    await reach(cm, member, 1)  # 200
    assert await tier(member) == "insider"
    await reach(cm, member, 800)  # 1000
    assert await tier(member) == "champion"
    assert await _changes(member.id) == [
        ("member", "contributor"),
        ("contributor", "insider"),
        ("insider", "champion"),
    ]
    notes = await Notification.filter(user_id=member.id, kind="tier_reached").order_by("id")
    assert [n.title for n in notes] == [
        "You are now Contributor!",
        "You are now Insider!",
        "You are now Champion!",
    ]
    assert (await MemberPoints.get(user_id=member.id)).promoted_at is not None


async def test_a_jump_over_several_thresholds_is_one_change_to_the_highest() -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 250)
    assert await tier(member) == "insider"
    assert await _changes(member.id) == [("member", "insider")]


async def test_earned_points_promote_too() -> None:
    member = await make_user()
    for n in range(3):
        await ledger.award(user_id=member.id, rule_key="idea_planned", source_kind="idea", source_id=n)
    assert await points(member) == (60, 60)
    assert await tier(member) == "contributor"


async def test_spending_points_on_a_perk_never_lowers_the_tier() -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 210)
    assert await tier(member) == "insider"
    deal = await make_deal(cm, cost=200, min_tier="insider")
    await perks.claim_perk(actor=member, perk_id=deal.id)
    assert await points(member) == (10, 210)
    assert await tier(member) == "insider"
    assert await _changes(member.id) == [("member", "insider")]


async def test_a_deduction_or_reversal_does_not_demote() -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 60)
    await ledger.grant(actor=cm, user_id=member.id, points=-30, reason="correction")
    assert await points(member) == (30, 30)
    assert await tier(member) == "contributor"


async def test_raising_thresholds_demotes_only_below_the_margin_and_outside_the_grace_period() -> None:
    cm = await make_cm()
    long_ago = datetime.now(UTC) - timedelta(days=30)
    below = await make_user(name="Below")  # 250 < 90% of 300: demoted
    within = await make_user(name="Within")  # 280 >= 270: keeps Insider
    recent = await make_user(name="Recent")  # 250, but promoted 3 days ago: keeps Insider
    edge = await make_user(name="Edge")  # exactly 270: keeps Insider
    champion = await make_user(name="Champion")  # 1000 against a new 1100: 990 is 90%, keeps it
    for user, amount in ((below, 250), (within, 280), (recent, 250), (edge, 270), (champion, 1000)):
        await reach(cm, user, amount)
    await MemberPoints.filter(user_id__in=[below.id, within.id, edge.id, champion.id]).update(
        promoted_at=long_ago
    )
    await MemberPoints.filter(user_id=recent.id).update(promoted_at=datetime.now(UTC) - timedelta(days=3))
    before = await TierChange.all().count()

    await tiers.set_thresholds(actor=cm, thresholds={"insider": 300, "champion": 1100})

    assert await tier(below) == "contributor"
    assert await tier(within) == "insider"
    assert await tier(recent) == "insider"
    assert await tier(edge) == "insider"
    assert await tier(champion) == "champion"
    changes = await TierChange.filter(id__gt=before).values_list("user_id", "from_tier", "to_tier")
    assert [tuple(c) for c in changes] == [(below.id, "insider", "contributor")]
    assert not await Notification.filter(user_id=below.id, kind="tier_reached", title__contains="Contributor")

    # Fifteen days after the recent promotion, the same thresholds apply to that member too.
    await MemberPoints.filter(user_id=recent.id).update(promoted_at=datetime.now(UTC) - timedelta(days=15))
    await tiers.set_thresholds(actor=cm, thresholds={"insider": 300, "champion": 1100})
    assert await tier(recent) == "contributor"
    assert await TierChange.filter(user_id=recent.id, to_tier="contributor").count() == 1


async def test_lowering_thresholds_promotes_with_a_change_and_a_notification() -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 150)
    assert await tier(member) == "contributor"
    await tiers.set_thresholds(actor=cm, thresholds={"insider": 150})
    assert await tier(member) == "insider"
    assert await _changes(member.id) == [("member", "contributor"), ("contributor", "insider")]
    assert await Notification.filter(user_id=member.id, kind="tier_reached").count() == 2


async def test_thresholds_are_checked_and_only_community_managers_change_them() -> None:
    cm = await make_cm()
    with pytest.raises(Invalid):
        await tiers.set_thresholds(actor=cm, thresholds={"insider": 40})  # below Contributor's 50
    with pytest.raises(Invalid):
        await tiers.set_thresholds(actor=cm, thresholds={"member": 5})
    with pytest.raises(Forbidden):
        await tiers.set_thresholds(actor=await make_user(role="staff"), thresholds={"insider": 300})
    assert [t.threshold for t in await tiers.all_tiers()] == [0, 50, 200, 1000]


async def test_a_locked_manual_tier_holds_against_points_and_thresholds() -> None:
    cm = await make_cm()
    member = await make_user()
    promoted = await tiers.set_member_tier(
        actor=cm, user_id=member.id, tier="insider", lock=True, reason="Design partner"
    )
    assert (promoted.tier, promoted.tier_locked) == ("insider", True)
    assert await _changes(member.id) == [("member", "insider")]
    change = await TierChange.get(user_id=member.id)
    assert change.actor_id == cm.id and "Design partner" in change.cause
    assert await Notification.filter(user_id=member.id, kind="tier_reached").count() == 1

    await reach(cm, member, 1500)  # Champion by points, but the tier is locked
    assert await tier(member) == "insider"
    await tiers.set_thresholds(actor=cm, thresholds={"insider": 5000, "champion": 9000})
    assert await tier(member) == "insider"
    assert await _changes(member.id) == [("member", "insider")]

    # Unlocked, the member's points count again from the next change on.
    await tiers.set_member_tier(actor=cm, user_id=member.id, tier="insider", lock=False, reason="Unlock")
    await tiers.set_thresholds(actor=cm, thresholds={"insider": 200, "champion": 1000})
    assert await tier(member) == "champion"


async def test_a_manual_tier_needs_a_reason_and_a_known_tier() -> None:
    cm = await make_cm()
    member = await make_user()
    with pytest.raises(Invalid):
        await tiers.set_member_tier(actor=cm, user_id=member.id, tier="insider", lock=True, reason=" ")
    with pytest.raises(Invalid):
        await tiers.set_member_tier(actor=cm, user_id=member.id, tier="legend", lock=True, reason="Why not")
    with pytest.raises(Forbidden):
        await tiers.set_member_tier(actor=member, user_id=member.id, tier="champion", lock=True, reason="Me")
    assert await tier(member) == "member"
