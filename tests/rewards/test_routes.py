"""The member pages: /insiders, a perk's page, claims and programs, duplicate reports (HTML).

Their JSON twins are in test_api.py; the same behaviour is asserted on both sides.
"""

from __future__ import annotations

import pytest

from ideas import service as ideas_service
from portal.models import Notification
from rewards.models import Claim, DuplicateReport, PointEntry
from tests.browser import Client
from tests.factories import make_user
from tests.rewards.conftest import SignedIn
from tests.rewards.helpers import balance, make_board, make_cm, make_deal, make_idea, make_program, reach


async def test_visitors_learn_what_the_program_is_and_are_sent_to_sign_in_for_the_rest(anon: Client) -> None:
    page = await anon.get("/insiders")
    assert page.status_code == 200
    assert '<h1 id="about-h">The insider program</h1>' in page.text
    # The tiers (migration 0002) and how points are earned, and a way in that comes back here.
    assert '<strong>Insider</strong> <span class="muted">200+ points</span>' in page.text
    assert 'id="earn-h">How to earn points' in page.text
    assert (
        'href="/auth/signin?next=/insiders"' in page.text
        and 'href="/auth/signup?next=/insiders"' in page.text
    )
    response = await anon.get("/insiders/perks/1")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/signin")


async def test_insiders_page_shows_points_tier_progress_and_history(browser: SignedIn) -> None:
    cm = await make_cm()
    client, member = await browser()
    await reach(cm, member, 80)
    page = await client.get("/insiders")
    assert page.status_code == 200
    html = page.text
    assert "Contributor" in html  # 80 lifetime points: past 50
    assert "120 more lifetime points to reach <strong>Insider</strong>" in html  # 200 - 80
    assert 'aria-valuenow="20"' in html  # (80 - 50) / (200 - 50)
    assert "test grant" in html and "+80" in html
    # The ship award, with today's rule values (S = 10): 10 for the first, 5 for the tenth.
    assert "the first supporter gets <strong>10</strong> points, the tenth about 5" in html


async def test_deal_claim_shows_the_code_only_to_its_holder(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, title="Half price", codes=["CODE-A", "CODE-B"])
    alice, _ = await browser()
    bob, _ = await browser()
    assert "Half price" in (await alice.get("/insiders")).text

    response = await alice.post_form(f"/insiders/perks/{deal.id}/claim")
    assert response.status_code == 303
    assert response.headers["location"] == f"/insiders/perks/{deal.id}"
    page = await alice.get(f"/insiders/perks/{deal.id}")
    assert "CODE-A" in page.text
    assert "CODE-A" in (await alice.get("/insiders")).text

    for url in (f"/insiders/perks/{deal.id}", "/insiders"):
        assert "CODE-A" not in (await bob.get(url)).text


async def test_sold_out_deal_answers_409(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["ONLY-ONE"])
    first, _ = await browser()
    second, _ = await browser()
    assert (await first.post_form(f"/insiders/perks/{deal.id}/claim")).status_code == 303
    response = await second.post_form(f"/insiders/perks/{deal.id}/claim")
    assert response.status_code == 409
    assert "Sold out" in response.text
    assert "Sold out." in (await second.get(f"/insiders/perks/{deal.id}")).text


async def test_claiming_above_ones_tier_answers_403(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, min_tier="insider")
    client, member = await browser()
    page = await client.get(f"/insiders/perks/{deal.id}")
    assert "Opens at Insider." in page.text
    assert f'action="/insiders/perks/{deal.id}/claim"' not in page.text
    response = await client.post_form(f"/insiders/perks/{deal.id}/claim")
    assert response.status_code == 403
    assert not await Claim.exists(user_id=member.id)


async def test_claiming_past_the_limit_answers_409(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="SAVE10", per_member_limit=2)
    client, member = await browser()
    for _ in range(2):
        assert (await client.post_form(f"/insiders/perks/{deal.id}/claim")).status_code == 303
    response = await client.post_form(f"/insiders/perks/{deal.id}/claim")
    assert response.status_code == 409
    assert await Claim.filter(user_id=member.id).count() == 2


async def test_a_deal_that_costs_points_is_paid_from_the_balance(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="TICKET", cost=30)
    client, member = await browser()
    page = await client.get("/insiders")
    assert "Costs 30 points; you have 0." in page.text
    await reach(cm, member, 40)
    assert "Claim for 30 points" in (await client.get("/insiders")).text
    assert (await client.post_form(f"/insiders/perks/{deal.id}/claim")).status_code == 303
    assert await balance(member) == 10
    assert "-30" in (await client.get("/insiders")).text


async def test_program_join_waitlist_and_leave(browser: SignedIn) -> None:
    cm = await make_cm()
    program = await make_program(cm, 1, title="Beta of the new editor", private_notes="Switch on Labs.")
    first, one = await browser()
    second, two = await browser()

    assert (await first.post_form(f"/insiders/perks/{program.id}/claim")).status_code == 303
    page = await first.get(f"/insiders/perks/{program.id}")
    assert "You're in" in page.text
    assert "Switch on Labs." in page.text  # private notes: admitted participants only

    assert (await second.post_form(f"/insiders/perks/{program.id}/claim")).status_code == 303
    page = await second.get(f"/insiders/perks/{program.id}")
    assert "Waitlist #1" in page.text
    assert "Switch on Labs." not in page.text
    assert "Waitlist #1" in (await second.get("/insiders")).text

    response = await first.post_form(f"/insiders/perks/{program.id}/leave")
    assert response.status_code == 303
    assert await Claim.get(user_id=one.id).values_list("status", flat=True) == "left"
    assert await Claim.get(user_id=two.id).values_list("status", flat=True) == "admitted"
    page = await second.get(f"/insiders/perks/{program.id}")
    assert "You're in" in page.text and "Switch on Labs." in page.text
    assert "You left" in (await first.get(f"/insiders/perks/{program.id}")).text


async def test_community_managers_read_private_notes(browser: SignedIn) -> None:
    cm_client, cm = await browser(role="community_manager")
    program = await make_program(cm, 5, private_notes="Beta build: 4.2-rc1")
    assert "Beta build: 4.2-rc1" in (await cm_client.get(f"/insiders/perks/{program.id}")).text


async def test_leaving_a_program_one_is_not_in_answers_404(browser: SignedIn) -> None:
    cm = await make_cm()
    program = await make_program(cm, 3)
    client, _ = await browser()
    assert (await client.post_form(f"/insiders/perks/{program.id}/leave")).status_code == 404


@pytest.mark.usefixtures("app")
async def test_a_new_perk_tells_the_members_whose_tier_opens_it() -> None:
    cm = await make_cm()
    member, contributor, insider, champion = [await make_user() for _ in range(4)]
    await reach(cm, contributor, 60)
    await reach(cm, insider, 250)
    await reach(cm, champion, 1500)

    gated = await make_deal(cm, min_tier="contributor")
    told = set(
        await Notification.filter(kind="perk_open", url=f"/insiders/perks/{gated.id}").values_list(
            "user_id", flat=True
        )
    )
    assert told == {contributor.id, insider.id, champion.id}

    # Open to every tier: announced from Insider up only, so that members are not spammed.
    everyone = await make_deal(cm)
    told = set(
        await Notification.filter(kind="perk_open", url=f"/insiders/perks/{everyone.id}").values_list(
            "user_id", flat=True
        )
    )
    assert told == {insider.id, champion.id}
    assert member.id not in told


async def test_report_duplicate_from_the_idea_page_is_paid_on_merge(browser: SignedIn) -> None:
    client, reporter = await browser()
    staff = await make_user(role="staff")
    board = await make_board()
    original = await make_idea(board)
    duplicate = await make_idea(board)

    page = await client.get(ideas_service.idea_url(duplicate))
    assert 'action="/insiders/duplicate-reports"' in page.text
    response = await client.post_form(
        "/insiders/duplicate-reports", {"idea_id": duplicate.id, "duplicate_of_id": original.id}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{duplicate.id}"
    assert await DuplicateReport.filter(reporter_id=reporter.id).count() == 1

    # Once per pair, whichever way round.
    again = await client.post_form(
        "/insiders/duplicate-reports", {"idea_id": original.id, "duplicate_of_id": duplicate.id}
    )
    assert again.status_code == 409

    await ideas_service.merge(actor=staff, idea_id=duplicate.id, into=original.id)
    paid = await PointEntry.filter(user_id=reporter.id, rule="duplicate_accepted").values_list(
        "delta", flat=True
    )
    assert paid == [5]


async def test_duplicate_report_needs_two_visible_ideas(browser: SignedIn) -> None:
    client, _ = await browser()
    admin = await make_user(role="admin")
    public = await make_idea(await make_board(admin))
    private = await make_idea(await make_board(admin, visibility="private"), author=admin)

    response = await client.post_form(
        "/insiders/duplicate-reports", {"idea_id": public.id, "duplicate_of_id": private.id}
    )
    assert response.status_code == 422
    assert f"There is no idea #{private.id}." in response.text
    assert private.title not in response.text
    response = await client.post_form(
        "/insiders/duplicate-reports", {"idea_id": public.id, "duplicate_of_id": public.id}
    )
    assert response.status_code == 422
    assert "cannot duplicate itself" in response.text
    assert not await DuplicateReport.exists()


async def test_visitors_see_no_report_form(anon: Client) -> None:
    idea = await make_idea(await make_board())
    page = await anon.get(ideas_service.idea_url(idea))
    assert page.status_code == 200
    assert "/insiders/duplicate-reports" not in page.text
    assert "Sign in" in page.text
