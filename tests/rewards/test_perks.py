"""Perks through the service, one call after another, on both backends: the rules of every claim.

The same scenarios run concurrently over HTTP in test_perks_concurrency.py (PostgreSQL only).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from portal.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from portal.models import Notification
from rewards import perks
from rewards.models import Claim, DealCode, Perk, PointEntry
from tests.factories import make_user
from tests.rewards.helpers import assert_problem, make_cm, make_deal, make_program, points, reach, token_for

pytestmark = pytest.mark.usefixtures("app")


def _now() -> datetime:
    return datetime.now(UTC)


async def assert_codes_consistent(perk_id: int) -> None:
    """Every code held is held by exactly one live claim, which shows that very code."""
    claims = {c.id: c for c in await Claim.filter(perk_id=perk_id, status="claimed")}
    held = await DealCode.filter(perk_id=perk_id, claim_id__not_isnull=True)
    assert sorted(c.claim_id for c in held) == sorted(claims)  # type: ignore[type-var]
    for code in held:
        assert claims[code.claim_id].code == code.code  # type: ignore[index]


# --- the concurrency scenarios, sequentially ----------------------------------------------------


async def test_a_pool_of_25_codes_goes_to_the_first_25_claimants_each_code_once() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=[f"CODE-{n:03}" for n in range(25)], min_tier="contributor")
    assert (deal.quantity, deal.remaining) == (25, 25)
    members = [await make_user() for _ in range(32)]
    for m in members:
        await reach(cm, m, 50)
    given, refused = [], []
    for m in members:
        try:
            given.append((await perks.claim_perk(actor=m, perk_id=deal.id)).code)
        except Conflict as exc:
            refused.append(str(exc.detail).lower())
    assert len(given) == 25 and len(set(given)) == 25
    assert len(refused) == 7 and all("sold out" in r for r in refused)
    assert sorted(given) == [f"CODE-{n:03}" for n in range(25)]
    assert (await Perk.get(id=deal.id)).remaining == 0
    assert await Claim.filter(perk_id=deal.id).count() == 25
    await assert_codes_consistent(deal.id)


async def test_a_per_member_limit_of_one_gives_one_claim() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, quantity=10)
    member = await make_user()
    first = await perks.claim_perk(actor=member, perk_id=deal.id)
    for _ in range(3):
        with pytest.raises(Conflict):
            await perks.claim_perk(actor=member, perk_id=deal.id)
    assert await Claim.filter(perk_id=deal.id, user_id=member.id).count() == 1
    assert first.claim.seq == 1
    assert (await Perk.get(id=deal.id)).remaining == 9


async def test_a_per_member_limit_of_two_gives_two_different_codes() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["A", "B", "C"], per_member_limit=2)
    member = await make_user()
    codes = {(await perks.claim_perk(actor=member, perk_id=deal.id)).code for _ in range(2)}
    assert codes == {"A", "B"}
    with pytest.raises(Conflict):
        await perks.claim_perk(actor=member, perk_id=deal.id)
    assert (await Perk.get(id=deal.id)).remaining == 1


async def test_a_program_admits_up_to_capacity_then_waitlists_in_order_and_a_leaver_admits_the_first() -> (
    None
):
    cm = await make_cm()
    program = await make_program(cm, capacity=10)
    members = [await make_user() for _ in range(30)]
    results = [await perks.claim_perk(actor=m, perk_id=program.id) for m in members]
    assert [r.claim.status for r in results] == ["admitted"] * 10 + ["waitlisted"] * 20
    assert [r.position for r in results[10:]] == list(range(1, 21))
    assert all(r.position is None for r in results[:10])
    assert (await Perk.get(id=program.id)).remaining == 0

    waiting = await Claim.filter(perk_id=program.id, status="waitlisted").order_by("id")
    assert [await perks.waitlist_position(c) for c in waiting] == list(range(1, 21))

    left = await perks.leave_program(actor=members[4], perk_id=program.id)
    assert left.status == "left"
    first_waiting = members[10]
    claim = await Claim.get(perk_id=program.id, user_id=first_waiting.id)
    assert claim.status == "admitted"
    assert await Notification.filter(user_id=first_waiting.id, kind="program_admitted").count() == 1
    assert await Claim.filter(perk_id=program.id, status="admitted").count() == 10
    waiting = await Claim.filter(perk_id=program.id, status="waitlisted").order_by("id")
    assert [c.user_id for c in waiting] == [m.id for m in members[11:]]
    assert [await perks.waitlist_position(c) for c in waiting] == list(range(1, 20))
    assert (await Perk.get(id=program.id)).remaining == 0

    # Leaving the waitlist admits nobody; leaving with nobody waiting returns the place.
    await perks.leave_program(actor=members[29], perk_id=program.id)
    assert await Claim.filter(perk_id=program.id, status="admitted").count() == 10
    for m in members[11:29]:
        await perks.leave_program(actor=m, perk_id=program.id)
    assert await Claim.filter(perk_id=program.id, status="waitlisted").count() == 0
    await perks.leave_program(actor=members[0], perk_id=program.id)
    assert (await Perk.get(id=program.id)).remaining == 1
    with pytest.raises(NotFound):
        await perks.leave_program(actor=members[0], perk_id=program.id)


# --- the window, the tier, who may claim ------------------------------------------------------------


async def test_a_perk_is_claimable_only_between_its_start_and_its_end() -> None:
    cm = await make_cm()
    member = await make_user()
    later = await make_deal(cm, starts_at=_now() + timedelta(hours=1))
    over = await make_deal(cm, starts_at=_now() - timedelta(days=2), ends_at=_now() - timedelta(minutes=1))
    live = await make_deal(cm, starts_at=_now() - timedelta(minutes=1), ends_at=_now() + timedelta(hours=1))
    for perk in (later, over):
        with pytest.raises(Conflict) as caught:
            await perks.claim_perk(actor=member, perk_id=perk.id)
        assert caught.value.status == 409
    assert (await perks.claim_perk(actor=member, perk_id=live.id)).code == live.shared_code
    assert await Claim.filter(user_id=member.id).count() == 1
    listed = {p["perk"].id for p in await perks.perks_for(member)}
    assert live.id in listed and later.id not in listed and over.id not in listed


async def test_archived_perks_do_not_exist_for_members() -> None:
    cm = await make_cm()
    deal = await make_deal(cm)
    await Perk.filter(id=deal.id).update(archived_at=_now())
    with pytest.raises(NotFound):
        await perks.claim_perk(actor=await make_user(), perk_id=deal.id)


async def test_visitors_and_unverified_members_cannot_claim() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, quantity=3)
    with pytest.raises(Unauthorized):
        await perks.claim_perk(actor=None, perk_id=deal.id)
    with pytest.raises(Forbidden):
        await perks.claim_perk(actor=await make_user(verified=False), perk_id=deal.id)
    with pytest.raises(Forbidden):
        await perks.claim_perk(actor=await make_user(banned=True), perk_id=deal.id)
    assert (await Perk.get(id=deal.id)).remaining == 3


# --- points ---------------------------------------------------------------------------------------


async def test_the_cost_is_charged_once_and_refused_when_the_balance_is_too_low() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, cost=30, per_member_limit=3, quantity=10)
    member = await make_user()
    await reach(cm, member, 70)
    first = await perks.claim_perk(actor=member, perk_id=deal.id)
    assert first.claim.points_spent == 30
    assert await points(member) == (40, 70)
    await perks.claim_perk(actor=member, perk_id=deal.id)
    assert await points(member) == (10, 70)
    with pytest.raises(Conflict) as caught:
        await perks.claim_perk(actor=member, perk_id=deal.id)
    assert "30 points" in str(caught.value.detail)
    assert await points(member) == (10, 70)
    assert await Claim.filter(perk_id=deal.id).count() == 2
    assert (await Perk.get(id=deal.id)).remaining == 8
    spends = await PointEntry.filter(user_id=member.id, kind="spend").values_list("delta", "source_id")
    assert sorted(spends) == sorted([(-30, first.claim.id), (-30, first.claim.id + 1)])


async def test_a_member_without_points_cannot_claim_a_costly_perk() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, cost=1, quantity=10)
    member = await make_user()
    with pytest.raises(Conflict):
        await perks.claim_perk(actor=member, perk_id=deal.id)
    assert await points(member) == (0, 0)
    assert (await Perk.get(id=deal.id)).remaining == 10


# --- revoking claims ------------------------------------------------------------------------------


async def test_revoking_returns_the_code_to_the_pool_and_refunds_the_points() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["ONLY"], cost=25)
    member, next_member = await make_user(), await make_user()
    await reach(cm, member, 25)
    await reach(cm, next_member, 25)
    claim = (await perks.claim_perk(actor=member, perk_id=deal.id)).claim
    with pytest.raises(Conflict):
        await perks.claim_perk(actor=next_member, perk_id=deal.id)  # sold out
    with pytest.raises(Invalid):
        await perks.revoke_claim(actor=cm, claim_id=claim.id, return_code=True, reason=" ")
    with pytest.raises(Forbidden):
        await perks.revoke_claim(actor=member, claim_id=claim.id, return_code=True, reason="mine")

    revoked = await perks.revoke_claim(actor=cm, claim_id=claim.id, return_code=True, reason="Sent twice")
    assert revoked.status == "revoked"
    assert await points(member) == (25, 25)
    refund = await PointEntry.get(user_id=member.id, kind="refund")
    assert (refund.delta, refund.source_id) == (25, claim.id)
    code = await DealCode.get(perk_id=deal.id)
    assert (code.claim_id, code.burnt) == (None, False)
    assert (await Perk.get(id=deal.id)).remaining == 1

    again = await perks.claim_perk(actor=next_member, perk_id=deal.id)
    assert again.code == "ONLY"
    await assert_codes_consistent(deal.id)
    with pytest.raises(NotFound):
        await perks.revoke_claim(actor=cm, claim_id=claim.id, return_code=True, reason="twice")
    assert await PointEntry.filter(user_id=member.id, kind="refund").count() == 1


async def test_revoking_can_burn_the_code_instead() -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["LEAKED", "SPARE"], cost=5)
    member, other, late = await make_user(), await make_user(), await make_user()
    for m in (member, other, late):
        await reach(cm, m, 5)
    claim = (await perks.claim_perk(actor=member, perk_id=deal.id)).claim
    assert claim.code == "LEAKED"
    await perks.revoke_claim(actor=cm, claim_id=claim.id, return_code=False, reason="Posted online")
    assert await points(member) == (5, 5)
    leaked = await DealCode.get(perk_id=deal.id, code="LEAKED")
    assert leaked.burnt and leaked.claim_id == claim.id
    assert (await Perk.get(id=deal.id)).remaining == 1  # the burnt unit is gone
    assert (await perks.claim_perk(actor=other, perk_id=deal.id)).code == "SPARE"
    with pytest.raises(Conflict, match="Sold out"):
        await perks.claim_perk(actor=late, perk_id=deal.id)


async def test_revoking_a_program_place_admits_the_first_waiting() -> None:
    cm = await make_cm()
    program = await make_program(cm, capacity=1)
    inside, waiting = await make_user(), await make_user()
    claim = (await perks.claim_perk(actor=inside, perk_id=program.id)).claim
    assert (await perks.claim_perk(actor=waiting, perk_id=program.id)).position == 1
    await perks.revoke_claim(actor=cm, claim_id=claim.id, return_code=False, reason="Left the company")
    assert (await Claim.get(perk_id=program.id, user_id=waiting.id)).status == "admitted"
    assert (await Perk.get(id=program.id)).remaining == 0


# --- applications ---------------------------------------------------------------------------------


async def test_decide_application_admits_then_waitlists_then_declines() -> None:
    cm = await make_cm()
    program = await make_program(cm, capacity=1, approval_required=True)
    a, b, c = await make_user(), await make_user(), await make_user()
    applied = [await perks.claim_perk(actor=m, perk_id=program.id) for m in (a, b, c)]
    assert [r.claim.status for r in applied] == ["pending"] * 3
    assert [r.position for r in applied] == [1, 2, 3]
    assert (await Perk.get(id=program.id)).remaining == 1  # applying takes no place

    with pytest.raises(Forbidden):
        await perks.decide_application(actor=a, claim_id=applied[0].claim.id, approve=True)
    first = await perks.decide_application(actor=cm, claim_id=applied[0].claim.id, approve=True)
    second = await perks.decide_application(actor=cm, claim_id=applied[1].claim.id, approve=True)
    third = await perks.decide_application(actor=cm, claim_id=applied[2].claim.id, approve=False)
    assert (first.status, second.status, third.status) == ("admitted", "waitlisted", "declined")
    assert (await Perk.get(id=program.id)).remaining == 0
    assert await Notification.filter(user_id=a.id, kind="program_admitted").count() == 1
    assert not await Notification.filter(user_id=b.id, kind="program_admitted").exists()
    with pytest.raises(NotFound):
        await perks.decide_application(actor=cm, claim_id=applied[0].claim.id, approve=False)

    # The admitted member leaves: the approved one waiting moves in; the declined one stays out.
    await perks.leave_program(actor=a, perk_id=program.id)
    assert (await Claim.get(id=applied[1].claim.id)).status == "admitted"
    assert (await Claim.get(id=applied[2].claim.id)).status == "declined"
    # A declined member may apply again.
    assert (await perks.claim_perk(actor=c, perk_id=program.id)).claim.status == "pending"


# --- setting perks up -----------------------------------------------------------------------------


async def test_creating_perks_checks_the_codes_and_the_window() -> None:
    cm = await make_cm()
    at = _now()
    bad = [
        {"kind": "deal", "title": "Both", "codes": ["A"], "shared_code": "B"},
        {"kind": "deal", "title": "Neither"},
        {"kind": "deal", "title": "Dupes", "codes": ["A", "A"]},
        {"kind": "deal", "title": "Count", "codes": ["A", "B"], "quantity": 3},
        {
            "kind": "deal",
            "title": "Window",
            "shared_code": "X",
            "starts_at": at,
            "ends_at": at - timedelta(hours=1),
        },
        {"kind": "deal", "title": "Tier", "shared_code": "X", "min_tier": "legend"},
        {"kind": "early_access", "title": "No capacity"},
    ]
    for data in bad:
        with pytest.raises(Invalid):
            await perks.create_perk(actor=cm, data=data)
    with pytest.raises(Forbidden):
        await perks.create_perk(actor=await make_user(role="staff"), data={"kind": "deal", "title": "Mine"})
    assert await Perk.all().count() == 0
    csv_deal = await perks.create_perk(
        actor=cm, data={"kind": "deal", "title": "From CSV", "codes": "code\nAAA\nBBB\n"}
    )
    assert (csv_deal.quantity, csv_deal.remaining) == (2, 2)
    assert await perks.add_codes(actor=cm, perk_id=csv_deal.id, codes=["CCC"]) == 1
    assert ((p := await Perk.get(id=csv_deal.id)).quantity, p.remaining) == (3, 3)
    with pytest.raises(Invalid):
        await perks.add_codes(actor=cm, perk_id=csv_deal.id, codes=["AAA"])


async def test_the_api_answers_409_outside_the_window_and_on_a_short_balance(app: Starlette) -> None:
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 10)
    later = await make_deal(cm, starts_at=_now() + timedelta(days=1))
    over = await make_deal(cm, ends_at=_now() - timedelta(seconds=1), starts_at=_now() - timedelta(days=1))
    costly = await make_deal(cm, cost=11)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=await token_for(member)
    ) as api:
        for perk in (later, over, costly):
            assert_problem(await api.post(f"/api/v1/perks/{perk.id}/claim"), 409)
        await reach(cm, member, 1)
        paid = await api.post(f"/api/v1/perks/{costly.id}/claim")
        assert paid.status_code == 201, paid.text
        assert_problem(await api.post(f"/api/v1/perks/{costly.id}/claim"), 409)  # once per member
    assert await points(member) == (0, 11)
    assert await Claim.filter(user_id=member.id).count() == 1
