"""The staff pages of the insider program: who may open them, and each form end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portal.models import AuditEntry
from rewards import ledger, perks
from rewards.models import Claim, DealCode, EarningRule, MemberPoints, Perk, PointEntry, Tier
from tests.browser import Client
from tests.factories import make_user
from tests.rewards.conftest import SignedIn
from tests.rewards.helpers import balance, make_cm, make_deal, make_program, reach, tier

PAGES = (
    "/admin/rewards",
    "/admin/rewards/rules",
    "/admin/rewards/tiers",
    "/admin/rewards/perks",
    "/admin/rewards/grants",
    "/admin/rewards/report",
)


async def test_visitors_are_sent_to_sign_in(anon: Client) -> None:
    for url in PAGES:
        response = await anon.get(url)
        assert response.status_code == 303, url
        assert response.headers["location"].startswith("/auth/signin")


@pytest.mark.parametrize("role", ["member", "staff"])
async def test_members_and_staff_get_403(browser: SignedIn, role: str) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["A"])
    victim = await make_user()
    client, _ = await browser(role=role)
    for url in (*PAGES, f"/admin/rewards/perks/{deal.id}"):
        assert (await client.get(url)).status_code == 403, url
    writes = {
        "/admin/rewards/rules/vote_received/preview": {"points": "9", "daily_cap": "0", "enabled": "1"},
        "/admin/rewards/rules/vote_received": {"points": "9", "daily_cap": "0", "enabled": "1"},
        "/admin/rewards/tiers": {"threshold_member": "0", "threshold_contributor": "1"},
        "/admin/rewards/tiers/member": {"email": victim.email, "tier": "champion", "reason": "me"},
        "/admin/rewards/perks": {"kind": "deal", "title": "Mine", "shared_code": "X"},
        f"/admin/rewards/perks/{deal.id}/codes": {"codes": "B"},
        "/admin/rewards/grants": {"email": victim.email, "points": "500", "reason": "me"},
    }
    for url, data in writes.items():
        assert (await client.post_form(url, data)).status_code == 403, url
    assert (await EarningRule.get(key="vote_received")).points == 1
    assert (await Tier.get(key="contributor")).threshold == 50
    assert await Perk.all().count() == 1 and await DealCode.all().count() == 1
    assert await PointEntry.all().count() == 0


@pytest.mark.parametrize("role", ["community_manager", "admin"])
async def test_community_managers_and_admins_see_every_page(browser: SignedIn, role: str) -> None:
    client, cm = await browser(role=role)
    deal = await make_deal(cm, codes=["A"])
    for url in (*PAGES, f"/admin/rewards/perks/{deal.id}"):
        response = await client.get(url)
        assert response.status_code == 200, url
        assert 'aria-label="Insider program"' in response.text
    assert "Manage the program" in (await client.get("/insiders")).text


async def test_rule_preview_then_update(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    author, other = await make_user(name="Ada Author"), await make_user(name="Bo Other")
    for n in range(6):  # 6 votes received by one author, 2 by another: 8 entries of 1 point
        await ledger.award(user_id=author.id, rule_key="vote_received", source_kind="idea", source_id=n)
    for n in range(2):
        await ledger.award(user_id=other.id, rule_key="vote_received", source_kind="idea", source_id=10 + n)

    page = await client.get("/admin/rewards/rules")
    assert 'action="/admin/rewards/rules/vote_received/preview"' in page.text
    preview = await client.post_form(
        "/admin/rewards/rules/vote_received/preview", {"points": "3", "daily_cap": "10", "enabled": "1"}
    )
    assert preview.status_code == 200
    html = preview.text
    # Before: 8 points. After: 3 each, capped at 10 a day: 10 for the author, 6 for the other.
    assert "paid <strong>8</strong> points in 8 entries to 2 members" in html
    assert "would have paid <strong>16</strong> (+8)" in html
    assert "Ada Author" in html
    assert 'action="/admin/rewards/rules/vote_received"' in html
    assert (await EarningRule.get(key="vote_received")).points == 1  # a preview changes nothing

    saved = await client.post_form(
        "/admin/rewards/rules/vote_received", {"points": "3", "daily_cap": "10", "enabled": "1"}
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/rewards/rules"
    rule = await EarningRule.get(key="vote_received")
    assert (rule.points, rule.daily_cap, rule.enabled) == (3, 10, True)
    assert await PointEntry.filter(rule="vote_received").values_list("delta", flat=True) == [1] * 8
    assert "now pays 3 points" in (await client.get("/admin/rewards/rules")).text

    off = await client.post_form("/admin/rewards/rules/vote_received", {"points": "3", "daily_cap": "10"})
    assert off.status_code == 303
    assert (await EarningRule.get(key="vote_received")).enabled is False


async def test_a_bad_rule_value_comes_back_with_the_form(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    for url in ("/admin/rewards/rules/idea_posted/preview", "/admin/rewards/rules/idea_posted"):
        response = await client.post_form(url, {"points": "-4", "daily_cap": "lots", "enabled": "1"})
        assert response.status_code == 422
        assert 'value="-4"' in response.text and 'aria-invalid="true"' in response.text
    assert (await EarningRule.get(key="idea_posted")).points == 5
    assert (await client.post_form("/admin/rewards/rules/nope/preview", {"points": "1"})).status_code == 404


async def test_thresholds_move_members(browser: SignedIn) -> None:
    client, cm = await browser(role="community_manager")
    member = await make_user()
    await reach(cm, member, 120)
    assert await tier(member) == "contributor"
    response = await client.post_form(
        "/admin/rewards/tiers",
        {
            "threshold_member": "0",
            "threshold_contributor": "40",
            "threshold_insider": "100",
            "threshold_champion": "900",
        },
    )
    assert response.status_code == 303
    assert [t.threshold for t in await Tier.all().order_by("position")] == [0, 40, 100, 900]
    assert await tier(member) == "insider"
    assert "1 member changed tier" in (await client.get("/admin/rewards/tiers")).text

    again = await client.post_form("/admin/rewards/tiers", {"threshold_insider": "100"})
    assert again.status_code == 303
    assert "0 members changed tier" in (await client.get("/admin/rewards/tiers")).text

    bad = await client.post_form("/admin/rewards/tiers", {"threshold_contributor": "500"})
    assert bad.status_code == 422
    assert "each next tier needs more points" in bad.text
    assert (await Tier.get(key="contributor")).threshold == 40


async def test_a_member_tier_is_granted_locked_and_revoked_with_a_reason(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    member = await make_user(email="speaker@example.com")
    response = await client.post_form(
        "/admin/rewards/tiers/member",
        {"email": "Speaker@Example.com ", "tier": "champion", "lock": "1", "reason": "Keynote speaker"},
    )
    assert response.status_code == 303
    row = await MemberPoints.get(user_id=member.id)
    assert (row.tier, row.tier_locked) == ("champion", True)
    assert await AuditEntry.filter(action="rewards.tier", object_id=member.id).exists()
    assert "Keynote speaker" in (await client.get("/admin/rewards/tiers")).text

    response = await client.post_form(
        "/admin/rewards/tiers/member", {"email": member.email, "tier": "member", "reason": "Talk cancelled"}
    )
    assert response.status_code == 303
    row = await MemberPoints.get(user_id=member.id)
    assert (row.tier, row.tier_locked) == ("member", False)

    bad = await client.post_form(
        "/admin/rewards/tiers/member", {"email": "nobody@example.com", "tier": "legend", "reason": ""}
    )
    assert bad.status_code == 422
    assert "Nobody has the address nobody@example.com." in bad.text
    assert "Give a reason" in bad.text
    assert 'value="nobody@example.com"' in bad.text


async def test_grants_give_and_deduct_points(browser: SignedIn) -> None:
    client, cm = await browser(role="community_manager")
    member = await make_user(email="helper@example.com")
    response = await client.post_form(
        "/admin/rewards/grants", {"email": "helper@example.com", "points": "250", "reason": "Beta call"}
    )
    assert response.status_code == 303
    assert await balance(member) == 250 and await tier(member) == "insider"
    response = await client.post_form(
        "/admin/rewards/grants", {"email": "helper@example.com", "points": "-50", "reason": "Double count"}
    )
    assert response.status_code == 303
    assert await balance(member) == 200
    entries = await PointEntry.filter(user_id=member.id).order_by("id").values("delta", "kind", "actor_id")
    assert entries == [
        {"delta": 250, "kind": "grant", "actor_id": cm.id},
        {"delta": -50, "kind": "grant", "actor_id": cm.id},
    ]
    page = await client.get("/admin/rewards/grants")
    assert "Beta call" in page.text and "-50" in page.text

    bad = await client.post_form(
        "/admin/rewards/grants", {"email": "who@example.com", "points": "0", "reason": " "}
    )
    assert bad.status_code == 422
    for message in ("Nobody has the address", "other than 0", "Give a reason"):
        assert message in bad.text
    assert await PointEntry.all().count() == 2


async def test_create_a_deal_with_a_shared_code_and_a_program(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    insider = await make_user()
    await reach(await make_cm(), insider, 300)
    response = await client.post_form(
        "/admin/rewards/perks",
        {
            "kind": "deal",
            "title": "20% off",
            "description": "For **insiders**",
            "min_tier": "insider",
            "shared_code": "INSIDER20",
            "quantity": "100",
            "cost": "",
            "per_member_limit": "1",
            "ends_at": (datetime.now(UTC) + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 303
    deal = await Perk.get(title="20% off")
    assert response.headers["location"] == f"/admin/rewards/perks/{deal.id}"
    assert (deal.min_tier, deal.shared_code, deal.remaining, deal.ends_at is not None) == (
        "insider",
        "INSIDER20",
        100,
        True,
    )
    from portal.models import Notification

    assert await Notification.filter(user_id=insider.id, kind="perk_open").count() == 1

    response = await client.post_form(
        "/admin/rewards/perks",
        {
            "kind": "early_access",
            "title": "Beta lab",
            "capacity": "2",
            "approval_required": "1",
            "private_notes": "Build 7",
        },
    )
    assert response.status_code == 303
    program = await Perk.get(title="Beta lab")
    assert (program.kind, program.remaining, program.approval_required) == ("early_access", 2, True)
    listing = (await client.get("/admin/rewards/perks")).text
    assert "20% off" in listing and "Beta lab" in listing


async def test_create_a_deal_from_an_uploaded_csv_of_codes(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    csv = b"code\r\nAAA-1\r\nAAA-2\r\nAAA-3\r\n"
    response = await client.post_form(
        "/admin/rewards/perks",
        {"kind": "deal", "title": "Pool of codes"},
        files={"codes_file": ("codes.csv", csv, "text/csv")},
    )
    assert response.status_code == 303, response.text
    deal = await Perk.get(title="Pool of codes")
    assert (deal.quantity, deal.remaining) == (3, 3)
    assert await DealCode.filter(perk_id=deal.id).order_by("id").values_list("code", flat=True) == [
        "AAA-1",
        "AAA-2",
        "AAA-3",
    ]


async def test_a_bad_perk_comes_back_with_every_error(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    response = await client.post_form(
        "/admin/rewards/perks",
        {"kind": "deal", "title": "Both", "shared_code": "X", "codes": "A\nB", "description": "kept"},
    )
    assert response.status_code == 422
    assert "either a shared code or a pool" in response.text
    assert ">kept</textarea>" in response.text
    response = await client.post_form(
        "/admin/rewards/perks",
        {"kind": "deal", "title": "Bad file"},
        files={"codes_file": ("codes.csv", b"\xff\xfe\x00bad", "text/csv")},
    )
    assert response.status_code == 422
    assert "UTF-8" in response.text
    assert await Perk.all().count() == 0


async def test_codes_are_added_from_text_or_file(browser: SignedIn) -> None:
    client, cm = await browser(role="community_manager")
    deal = await make_deal(cm, codes=["A1"])
    response = await client.post_form(f"/admin/rewards/perks/{deal.id}/codes", {"codes": "A2\nA3"})
    assert response.status_code == 303
    response = await client.post_form(
        f"/admin/rewards/perks/{deal.id}/codes", {}, files={"codes_file": ("more.csv", b"A4\n", "text/csv")}
    )
    assert response.status_code == 303
    assert (await Perk.get(id=deal.id)).remaining == 4
    page = (await client.get(f"/admin/rewards/perks/{deal.id}")).text
    assert "4 in the pool, 0 given, 0 burnt" in page
    dup = await client.post_form(f"/admin/rewards/perks/{deal.id}/codes", {"codes": "A1"})
    assert dup.status_code == 422 and "in the pool already" in dup.text


async def test_revoking_a_claim_returns_or_burns_its_code_and_refunds(browser: SignedIn) -> None:
    client, cm = await browser(role="community_manager")
    deal = await make_deal(cm, codes=["R1", "R2"], cost=10)
    one, two = await make_user(), await make_user()
    for m in (one, two):
        await reach(cm, m, 10)
    first = await perks.claim_perk(actor=one, perk_id=deal.id)
    second = await perks.claim_perk(actor=two, perk_id=deal.id)
    page = (await client.get(f"/admin/rewards/perks/{deal.id}")).text
    assert "R1" in page and "R2" in page

    missing = await client.post_form(
        f"/admin/rewards/claims/{first.claim.id}/revoke", {"code": "return", "reason": ""}
    )
    assert missing.status_code == 422 and "Give a reason" in missing.text

    response = await client.post_form(
        f"/admin/rewards/claims/{first.claim.id}/revoke", {"code": "return", "reason": "Ordered twice"}
    )
    assert response.status_code == 303
    response = await client.post_form(
        f"/admin/rewards/claims/{second.claim.id}/revoke", {"code": "burn", "reason": "Code leaked"}
    )
    assert response.status_code == 303
    codes = {c.code: c for c in await DealCode.filter(perk_id=deal.id)}
    assert codes["R1"].claim_id is None and not codes["R1"].burnt
    assert codes["R2"].burnt
    assert (await Perk.get(id=deal.id)).remaining == 1  # R1 is back; R2 is gone
    assert await balance(one) == 10 and await balance(two) == 10  # refunded
    assert set(await Claim.filter(perk_id=deal.id).values_list("status", flat=True)) == {"revoked"}


async def test_applications_are_approved_or_declined(browser: SignedIn) -> None:
    client, cm = await browser(role="community_manager")
    program = await make_program(cm, 1, approval_required=True)
    applicants = [await make_user(name=f"Applicant {n}") for n in range(3)]
    claims = [(await perks.claim_perk(actor=m, perk_id=program.id)).claim for m in applicants]
    page = (await client.get(f"/admin/rewards/perks/{program.id}")).text
    assert page.count('value="approve"') == 3

    decide = "/admin/rewards/claims/{}/decide"
    assert (await client.post_form(decide.format(claims[0].id), {"decision": "approve"})).status_code == 303
    assert (await client.post_form(decide.format(claims[1].id), {"decision": "approve"})).status_code == 303
    assert (await client.post_form(decide.format(claims[2].id), {"decision": "decline"})).status_code == 303
    statuses = [(await Claim.get(id=c.id)).status for c in claims]
    assert statuses == ["admitted", "waitlisted", "declined"]  # one place: the second waits
    assert (await client.post_form(decide.format(claims[2].id), {"decision": "approve"})).status_code == 404
