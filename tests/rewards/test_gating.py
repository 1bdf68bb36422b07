"""Insider boards: closed below their tier everywhere one can look, open at the tier and to participants.

Each reader is checked on every path (home counts, HTML search, API search, the idea page, the idea
in the API, the board list), with a public idea beside the secret one as the control that proves the
path works and would show the secret idea if it ignored the gate.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.applications import Starlette

from ideas import service as ideas
from ideas.models import Board, Idea
from portal.errors import Forbidden, Invalid, NotFound
from portal.models import Notification, User
from rewards import manage, perks
from rewards.models import Perk
from tests.browser import Client
from tests.factories import make_user
from tests.ideas.pages import board_counts, card_ids
from tests.rewards.helpers import (
    assert_problem,
    fresh,
    make_admin,
    make_board,
    make_cm,
    make_deal,
    make_idea,
    make_program,
    reach,
    token_for,
)

pytestmark = pytest.mark.usefixtures("app")


@dataclass
class World:
    public: Board
    lounge: Board
    shown: Idea
    secret: Idea
    program: Perk
    cm: User
    staff: User


async def _world() -> World:
    admin = await make_admin()
    staff = await make_user(role="staff")
    cm = await make_cm()
    public = await make_board(admin, slug="public", name="Public ideas")
    lounge = await make_board(
        admin, slug="lounge", name="Insiders lounge", visibility="insiders", min_tier="insider"
    )
    shown = await make_idea(public, author=staff, title="Zeppelin public idea")
    secret = await make_idea(lounge, author=staff, title="Zeppelin secret idea")
    program = await make_program(cm, capacity=5, board_id=lounge.id)
    return World(public, lounge, shown, secret, program, cm, staff)


@pytest.fixture
async def world() -> World:
    return await _world()


@pytest.fixture
async def open_client(app: Starlette) -> AsyncIterator:  # type: ignore[type-arg]
    opened: list[Client] = []

    async def open_as(user: User) -> tuple[Client, httpx.AsyncClient]:
        browser = Client(app)
        await browser.sign_in_as(user)
        api = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://testserver",
            headers=await token_for(user),
        )
        opened.append(browser)
        opened.append(api)  # type: ignore[arg-type]
        return browser, api

    yield open_as
    for c in opened:
        await (c.http.aclose() if isinstance(c, Client) else c.aclose())  # type: ignore[union-attr]


async def assert_sees(browser: Client, api: httpx.AsyncClient, w: World, *, secret: bool) -> None:
    """Every path shows the public idea, and shows the secret one exactly when `secret`."""
    counts = board_counts((await browser.get("/")).text)
    assert counts.get("Public ideas") == 1
    assert counts.get("Insiders lounge") == (1 if secret else None), counts

    html = await browser.get("/ideas?q=zeppelin")
    assert html.status_code == 200
    hits = card_ids(html.text)
    assert w.shown.id in hits
    assert (w.secret.id in hits) is secret, hits

    found = await api.get("/api/v1/ideas", params={"q": "zeppelin"})
    assert found.status_code == 200, found.text
    ids = [i["id"] for i in found.json()["items"]]
    assert w.shown.id in ids
    assert (w.secret.id in ids) is secret, ids

    listed = await api.get("/api/v1/ideas")
    assert (w.secret.id in [i["id"] for i in listed.json()["items"]]) is secret

    by_board = await api.get("/api/v1/ideas", params={"board": "lounge"})
    assert by_board.status_code == (200 if secret else 422), by_board.text

    page = await browser.get(ideas.idea_url(w.secret))
    assert page.status_code == (200 if secret else 404)
    if secret:
        assert "Zeppelin secret idea" in page.text
    else:
        assert "Zeppelin secret idea" not in page.text
    assert (await browser.get(f"/ideas/{w.secret.id}")).status_code == (301 if secret else 404)

    one = await api.get(f"/api/v1/ideas/{w.secret.id}")
    if secret:
        assert one.status_code == 200 and one.json()["title"] == "Zeppelin secret idea"
    else:
        assert_problem(one, 404)
        assert "Zeppelin" not in one.text
    assert (await api.get(f"/api/v1/ideas/{w.shown.id}")).status_code == 200

    slugs = [b["slug"] for b in (await api.get("/api/v1/boards")).json()]
    assert "public" in slugs
    assert ("lounge" in slugs) is secret


async def test_below_the_tier_the_board_and_its_ideas_are_nowhere(world: World, open_client) -> None:  # type: ignore[no-untyped-def]
    member = await make_user()
    await reach(world.cm, member, 199)  # Contributor, one point short of Insider
    await assert_sees(*await open_client(member), world, secret=False)


async def test_at_the_tier_the_board_opens_everywhere(world: World, open_client) -> None:  # type: ignore[no-untyped-def]
    member = await make_user()
    await reach(world.cm, member, 200)
    await assert_sees(*await open_client(member), world, secret=True)
    champion = await make_user()
    await reach(world.cm, champion, 1000)
    await assert_sees(*await open_client(champion), world, secret=True)


async def test_staff_see_it_and_a_visitor_does_not(world: World, open_client, app: Starlette) -> None:  # type: ignore[no-untyped-def]
    await assert_sees(*await open_client(world.staff), world, secret=True)
    async with Client(app) as visitor:
        assert "Insiders lounge" not in board_counts((await visitor.get("/")).text)
        assert world.secret.id not in card_ids((await visitor.get("/ideas?q=zeppelin")).text)
        assert (await visitor.get(f"/ideas/{world.secret.id}")).status_code == 404
        assert (await visitor.http.get(f"/api/v1/ideas/{world.secret.id}")).status_code == 404


async def test_a_program_participant_sees_the_board_while_in_the_program(world: World, open_client) -> None:  # type: ignore[no-untyped-def]
    member = await make_user()  # tier Member
    result = await perks.claim_perk(actor=member, perk_id=world.program.id)
    assert result.claim.status == "admitted"
    await assert_sees(*await open_client(member), world, secret=True)
    assert (await ideas.visible_idea(await fresh(member), world.secret.id)).id == world.secret.id

    await perks.leave_program(actor=member, perk_id=world.program.id)
    await assert_sees(*await open_client(member), world, secret=False)
    with pytest.raises(NotFound):
        await ideas.visible_idea(await fresh(member), world.secret.id)


async def test_a_waitlisted_member_is_not_a_participant(world: World, open_client) -> None:  # type: ignore[no-untyped-def]
    await Perk.filter(id=world.program.id).update(remaining=0)
    member = await make_user()
    result = await perks.claim_perk(actor=member, perk_id=world.program.id)
    assert result.claim.status == "waitlisted"
    await assert_sees(*await open_client(member), world, secret=False)


async def test_a_board_made_without_a_tier_opens_from_insider(world: World) -> None:
    """Boards made before tiers were checked may name their tier ("Insider") rather than key it."""
    default = await make_board(visibility="insiders", name="Default insiders")
    idea = await make_idea(default, author=world.staff, title="Default gated idea")
    below, at = await make_user(), await make_user()
    await reach(world.cm, below, 100)
    await reach(world.cm, at, 200)
    with pytest.raises(NotFound):
        await ideas.visible_idea(await fresh(below), idea.id)
    assert (await ideas.visible_idea(await fresh(at), idea.id)).id == idea.id


async def test_members_below_the_tier_cannot_post_or_vote_on_the_board(world: World) -> None:
    member = await make_user()
    await reach(world.cm, member, 100)
    with pytest.raises((Forbidden, NotFound, Invalid)):
        await ideas.post_idea(actor=await fresh(member), board=world.lounge.id, title="Let me in", body="")
    from voting import service as voting

    with pytest.raises(NotFound):
        await voting.cast_vote(actor=await fresh(member), idea_id=world.secret.id)
    await reach(world.cm, member, 100)
    posted = await ideas.post_idea(
        actor=await fresh(member), board=world.lounge.id, title="Now inside", body=""
    )
    assert posted.board_id == world.lounge.id


async def test_tier_gated_perks_cannot_be_claimed_below_the_tier(world: World) -> None:
    deal = await make_deal(world.cm, min_tier="insider", quantity=5)
    below, at = await make_user(), await make_user()
    await reach(world.cm, below, 199)
    await reach(world.cm, at, 200)
    with pytest.raises(Forbidden):
        await perks.claim_perk(actor=await fresh(below), perk_id=deal.id)
    result = await perks.claim_perk(actor=await fresh(at), perk_id=deal.id)
    assert result.code == deal.shared_code
    assert (await Perk.get(id=deal.id)).remaining == 4


async def test_the_api_answers_403_to_a_claim_below_the_tier(world: World, open_client) -> None:  # type: ignore[no-untyped-def]
    deal = await make_deal(world.cm, min_tier="insider", quantity=5)
    below, at = await make_user(), await make_user()
    await reach(world.cm, below, 199)
    await reach(world.cm, at, 200)
    _, below_api = await open_client(below)
    _, at_api = await open_client(at)
    refused = await below_api.post(f"/api/v1/perks/{deal.id}/claim")
    assert_problem(refused, 403)
    assert deal.id not in [p["id"] for p in (await below_api.get("/api/v1/perks")).json()]
    claimed = await at_api.post(f"/api/v1/perks/{deal.id}/claim")
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["code"] == deal.shared_code
    assert (await Perk.get(id=deal.id)).remaining == 4


async def test_a_follower_who_drops_below_the_tier_hears_no_more_of_its_ideas(app) -> None:  # type: ignore[no-untyped-def]
    admin, cm, staff = await make_admin(), await make_cm(), await make_user(role="staff")
    lounge = await make_board(admin, slug="lounge", name="Lounge", visibility="insiders", min_tier="insider")
    member = await make_user()
    await manage.set_tier(actor=cm, email=member.email, tier="insider", lock=True, reason="beta")
    idea = await make_idea(lounge, author=staff, title="Secret roadmap item Zephyr")
    await ideas.follow(actor=await fresh(member), idea_id=idea.id)
    await ideas.change_status(actor=staff, idea_id=idea.id, status="under_review", message="Looking")
    await manage.set_tier(actor=cm, email=member.email, tier="member", lock=True, reason="left")
    await ideas.change_status(actor=staff, idea_id=idea.id, status="planned", message="Zephyr lands in May")
    told = await Notification.filter(user_id=member.id, kind="status_changed").values_list("body", flat=True)
    assert told == ["Looking"], "told while an insider, not after"
