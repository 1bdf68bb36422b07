"""The JSON API for perks, and the points and tier on /api/v1/me (the twins of test_routes.py)."""

from __future__ import annotations

from tests.browser import Client
from tests.factories import make_user
from tests.rewards.conftest import SignedIn
from tests.rewards.helpers import assert_problem, make_cm, make_deal, make_program, reach, token_for


async def test_perks_need_a_signed_in_member(anon: Client) -> None:
    assert_problem(await anon.api("GET", "/api/v1/perks"), 401)


async def test_perks_lists_what_is_open_to_the_member(browser: SignedIn) -> None:
    cm = await make_cm()
    open_deal = await make_deal(cm, title="For everyone", shared_code="ALL", cost=5, quantity=3)
    gated = await make_deal(cm, title="For insiders", min_tier="insider")
    program = await make_program(cm, 2, title="Beta")
    client, member = await browser()

    response = await client.api("GET", "/api/v1/perks")
    assert response.status_code == 200
    listed = {p["id"]: p for p in response.json()}
    assert set(listed) == {open_deal.id, program.id}
    assert listed[open_deal.id] == {
        "id": open_deal.id,
        "kind": "deal",
        "title": "For everyone",
        "description_html": "",
        "min_tier": None,
        "cost": 5,
        "remaining": 3,
        "ends_at": None,
        "claimed": False,
    }
    assert listed[program.id]["kind"] == "early_access" and listed[program.id]["remaining"] == 2

    await reach(cm, member, 200)  # now an insider
    assert (await client.api("POST", f"/api/v1/perks/{program.id}/claim")).status_code == 201
    listed = {p["id"]: p for p in (await client.api("GET", "/api/v1/perks")).json()}
    assert set(listed) == {open_deal.id, gated.id, program.id}
    assert listed[program.id]["claimed"] is True and listed[gated.id]["claimed"] is False


async def test_community_managers_create_perks_and_add_codes(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    response = await client.api(
        "POST",
        "/api/v1/perks",
        json={
            "kind": "deal",
            "title": "Sticker pack",
            "description": "*Free* stickers",
            "codes": ["S1", "S2"],
        },
    )
    assert response.status_code == 201, response.text
    perk = response.json()
    assert perk["kind"] == "deal" and perk["remaining"] == 2 and perk["min_tier"] is None
    assert "<em>Free</em>" in perk["description_html"]

    response = await client.api(
        "POST", f"/api/v1/perks/{perk['id']}/codes", json={"codes": ["S3", "S4", "S5"]}
    )
    assert response.status_code == 201
    assert response.json() == {"added": 3}

    program = await client.api(
        "POST",
        "/api/v1/perks",
        json={"kind": "early_access", "title": "Beta", "capacity": 5, "min_tier": "contributor"},
    )
    assert program.status_code == 201
    assert program.json()["remaining"] == 5 and program.json()["min_tier"] == "contributor"


async def test_creating_a_perk_reports_every_bad_field(browser: SignedIn) -> None:
    client, _ = await browser(role="community_manager")
    response = await client.api(
        "POST", "/api/v1/perks", json={"kind": "deal", "title": "X", "min_tier": "legend", "cost": -1}
    )
    body = assert_problem(response, 422)
    assert set(body["errors"]) >= {"title", "min_tier", "cost", "shared_code"}


async def test_members_and_staff_may_not_create_perks(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["A1"])
    for role in ("member", "staff"):
        client, _ = await browser(role=role)
        assert_problem(await client.api("POST", "/api/v1/perks", json={"kind": "deal", "title": "Mine"}), 403)
        assert_problem(await client.api("POST", f"/api/v1/perks/{deal.id}/codes", json={"codes": ["Z"]}), 403)


async def test_claiming_a_deal_gives_the_code_to_the_claimant_only(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, codes=["CODE-A", "CODE-B"])
    alice, _ = await browser()
    bob, _ = await browser()

    first = await alice.api("POST", f"/api/v1/perks/{deal.id}/claim")
    assert first.status_code == 201
    body = first.json()
    assert body["claim"]["status"] == "claimed" and "position" not in body["claim"]
    assert body["code"] == "CODE-A"
    # Nothing another member can read carries someone else's code.
    assert "CODE-A" not in (await bob.api("GET", "/api/v1/perks")).text
    second = await bob.api("POST", f"/api/v1/perks/{deal.id}/claim")
    assert second.json()["code"] == "CODE-B"


async def test_a_sold_out_deal_answers_409(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="ONE", quantity=1)
    first, _ = await browser()
    second, _ = await browser()
    assert (await first.api("POST", f"/api/v1/perks/{deal.id}/claim")).status_code == 201
    body = assert_problem(await second.api("POST", f"/api/v1/perks/{deal.id}/claim"), 409)
    assert "Sold out" in body["detail"]


async def test_a_perk_above_the_members_tier_answers_403(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, min_tier="champion")
    client, member = await browser()
    await reach(cm, member, 300)  # insider: one tier short
    assert_problem(await client.api("POST", f"/api/v1/perks/{deal.id}/claim"), 403)


async def test_claiming_past_the_limit_answers_409(browser: SignedIn) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="TWICE", per_member_limit=2)
    client, _ = await browser()
    for _ in range(2):
        response = await client.api("POST", f"/api/v1/perks/{deal.id}/claim")
        assert response.status_code == 201 and response.json()["code"] == "TWICE"
    assert_problem(await client.api("POST", f"/api/v1/perks/{deal.id}/claim"), 409)


async def test_program_join_waitlist_and_leave(browser: SignedIn) -> None:
    cm = await make_cm()
    program = await make_program(cm, 1)
    url = f"/api/v1/perks/{program.id}/claim"
    one, _ = await browser()
    two, _ = await browser()
    three, _ = await browser()

    admitted = await one.api("POST", url)
    assert admitted.status_code == 201
    assert admitted.json()["claim"]["status"] == "admitted" and "code" not in admitted.json()
    waiting = [(await c.api("POST", url)).json()["claim"] for c in (two, three)]
    assert [(w["status"], w["position"]) for w in waiting] == [("waitlisted", 1), ("waitlisted", 2)]
    assert_problem(await two.api("POST", url), 409)  # one place per member

    left = await one.api("DELETE", url)
    assert left.status_code == 200
    assert left.json()["claim"] == {"id": admitted.json()["claim"]["id"], "status": "left"}
    listed = {p["id"]: p for p in (await two.api("GET", "/api/v1/perks")).json()}
    assert listed[program.id]["claimed"] is True
    assert "You're in" in (await two.get(f"/insiders/perks/{program.id}")).text
    assert "Waitlist #1" in (await three.get(f"/insiders/perks/{program.id}")).text

    assert_problem(await one.api("DELETE", url), 404)  # left already


async def test_programs_by_application_wait_for_a_decision(browser: SignedIn) -> None:
    cm = await make_cm()
    program = await make_program(cm, 3, approval_required=True)
    client, _ = await browser()
    response = await client.api("POST", f"/api/v1/perks/{program.id}/claim")
    assert response.status_code == 201
    assert response.json()["claim"]["status"] == "pending" and response.json()["claim"]["position"] == 1


async def test_a_personal_token_claims_without_csrf(anon: Client) -> None:
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="TOKEN")
    member = await make_user()
    headers = await token_for(member)
    response = await anon.api("POST", f"/api/v1/perks/{deal.id}/claim", csrf=False, headers=headers)
    assert response.status_code == 201 and response.json()["code"] == "TOKEN"


async def test_me_carries_points_and_tier(browser: SignedIn) -> None:
    cm = await make_cm()
    client, member = await browser()
    body = (await client.api("GET", "/api/v1/me")).json()
    assert (body["points"], body["tier"]) == (0, "member")
    await reach(cm, member, 60)
    body = (await client.api("GET", "/api/v1/me")).json()
    assert body["id"] == member.id
    assert (body["points"], body["tier"]) == (60, "contributor")
