"""The voting pages: vote buttons (forms and htmx), the idea page panel, voters, CSV, budgets, bans."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from starlette.applications import Starlette

from ideas import service as ideas
from ideas.card_pages import kept_pages
from ideas.models import Idea
from portal.models import User
from tests.browser import Client
from tests.factories import make_user
from tests.voting.helpers import make_admin, make_board, make_idea, vote_count, voter_ids
from voting import service
from voting.models import BoardVoteBudget, Vote

Browser = Callable[[User], Awaitable[Client]]


@pytest.fixture
async def browser(app: Starlette) -> AsyncIterator[Browser]:
    """`client = await browser(user)`: a new browser signed in as `user`."""
    opened: list[Client] = []

    async def open_as(user: User) -> Client:
        client = Client(app)
        opened.append(client)
        await client.sign_in_as(user)
        return client

    yield open_as
    for client in opened:
        await client.http.aclose()


async def idea_page(client: Client, idea: Idea) -> str:
    response = await client.get(ideas.idea_url(idea))
    assert response.status_code == 200, response.text
    return response.text


def vote_box(html: str, idea_id: int) -> str:
    """The `<div class="vote" id="vote-N">` block of a page."""
    found = re.search(rf'<div class="vote" id="vote-{idea_id}">.*?\n</div>', html, re.S)
    assert found, f"no vote box for idea {idea_id}"
    return found.group(0)


def vote_form(idea_id: int) -> str:
    """The vote button, posting through the page's `csrf-form` (with and without htmx)."""
    return f'form="csrf-form" formaction="/ideas/{idea_id}/vote" hx-post="/ideas/{idea_id}/vote"'


def unvote_form(idea_id: int) -> str:
    return f'form="csrf-form" formaction="/ideas/{idea_id}/unvote" hx-post="/ideas/{idea_id}/unvote"'


# --- the button -----------------------------------------------------------------------------------


async def test_a_form_vote_redirects_back_without_htmx(browser: Browser) -> None:
    idea = await make_idea()
    member = await make_user()
    client = await browser(member)
    await idea_page(client, idea)
    response = await client.post_form(f"/ideas/{idea.id}/vote")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}"
    assert await voter_ids(idea.id) == {member.id}
    # Back to the page the form was on (same site only).
    response = await client.post_form(
        f"/ideas/{idea.id}/unvote", headers={"Referer": "http://testserver/ideas?sort=top"}
    )
    assert (response.status_code, response.headers["location"]) == (303, "/ideas?sort=top")
    assert await voter_ids(idea.id) == set()
    response = await client.post_form(f"/ideas/{idea.id}/vote", headers={"Referer": "https://evil.example/x"})
    assert response.headers["location"] == f"/ideas/{idea.id}"
    assert await vote_count(idea.id) == 1
    # This site's address with a path that browsers read as another site's.
    for referer in ("http://testserver//evil.example/x", "http://testserver/\\evil.example/x"):
        response = await client.post_form(f"/ideas/{idea.id}/unvote", headers={"Referer": referer})
        assert response.headers["location"] == f"/ideas/{idea.id}", referer


async def test_an_htmx_vote_answers_the_button_fragment(browser: Browser) -> None:
    idea = await make_idea()
    await service.cast_vote(actor=await make_user(), idea_id=idea.id)
    client = await browser(await make_user())
    htmx = {"HX-Request": "true"}
    response = await client.post_form(f"/ideas/{idea.id}/vote", headers=htmx)
    assert response.status_code == 200
    fragment = response.text
    assert "<html" not in fragment and "<body" not in fragment
    assert f'id="vote-{idea.id}"' in fragment
    assert '<span class="vote-count">2</span>' in fragment
    assert unvote_form(idea.id) in fragment and 'aria-pressed="true"' in fragment
    assert "csrf_token" not in fragment  # the button posts through the page's form, which holds it

    response = await client.post_form(f"/ideas/{idea.id}/unvote", headers=htmx)
    assert response.status_code == 200
    assert '<span class="vote-count">1</span>' in response.text
    assert vote_form(idea.id) in response.text and 'aria-pressed="false"' in response.text
    assert 'aria-label="Vote for this idea, 1 vote"' in response.text
    assert await vote_count(idea.id) == 1


async def test_the_vote_button_shows_on_the_list_and_the_idea_page(browser: Browser, anon: Client) -> None:
    idea, other = await make_idea(), await make_idea()
    member = await make_user()
    await service.cast_vote(actor=member, idea_id=idea.id)
    client = await browser(member)
    for html in ((await client.get("/ideas")).text, await idea_page(client, idea)):
        box = vote_box(html, idea.id)
        assert unvote_form(idea.id) in box and '<span class="vote-count">1</span>' in box
    listed = (await client.get("/ideas")).text
    assert vote_form(other.id) in vote_box(listed, other.id)
    # Visitors get a link to sign in instead of a form.
    box = vote_box((await anon.get("/ideas")).text, idea.id)
    assert f'href="/auth/signin?next=/ideas/{idea.id}"' in box and "<button" not in box


async def test_a_member_who_has_not_confirmed_the_address_is_told_why_the_button_is_inert(
    browser: Browser, anon: Client
) -> None:
    idea = await make_idea()
    client = await browser(await make_user(verified=False, email="new@example.com"))
    html = (await client.get("/ideas")).text
    assert "<button" not in vote_box(html, idea.id)
    notice = re.search(r'<p class="flash flash-info" id="unverified-notice">(.*?)</p>', html, re.S)
    assert notice and "Confirm your e-mail address to vote" in notice[1] and "new@example.com" in notice[1]
    assert 'href="/account">Send a new link' in notice[1]
    assert 'id="unverified-notice"' not in (await client.get("/account")).text, "the account page has its own"
    verified = await browser(await make_user())
    assert 'id="unverified-notice"' not in (await verified.get("/ideas")).text
    assert 'id="unverified-notice"' not in (await anon.get("/ideas")).text


async def test_a_kept_page_of_cards_shows_each_reader_their_own_votes(browser: Browser, anon: Client) -> None:
    """Lists keep their page of cards whole per version of its rows and reader (ideas/card_pages.py);
    a member's rows carry their votes, so readers with different votes never share one."""
    idea, _ = await make_idea(), await make_idea()
    voter, other, unverified = await make_user(), await make_user(), await make_user(verified=False)
    await service.cast_vote(actor=voter, idea_id=idea.id)
    voter_client, other_client = await browser(voter), await browser(other)
    unverified_client = await browser(unverified)
    drawn = []
    for _ in range(2):  # the second round is served from kept pages
        assert unvote_form(idea.id) in vote_box((await voter_client.get("/ideas")).text, idea.id)
        assert vote_form(idea.id) in vote_box((await other_client.get("/ideas")).text, idea.id)
        assert "vote-closed" in vote_box((await unverified_client.get("/ideas")).text, idea.id)
        assert "/auth/signin" in vote_box((await anon.get("/ideas")).text, idea.id)
        drawn.append(kept_pages.drawn)
    assert drawn[1] == drawn[0]
    kept = [k for k in kept_pages.values() if k.value.markup.count('class="idea-card"') > 1]
    assert len(kept) >= 4  # a whole page for each reader


async def test_buttons_post_through_the_pages_own_form_with_the_members_token(
    browser: Browser, anon: Client
) -> None:
    idea = await make_idea()
    member, other = await make_user(), await make_user()
    client, other_client = await browser(member), await browser(other)
    html, theirs = (await client.get("/ideas")).text, (await other_client.get("/ideas")).text
    found = re.search(
        r'<form id="csrf-form" method="post" hidden><input type="hidden" name="csrf_token" value="([^"]+)">',
        html,
    )
    assert found is not None and found.group(1) == await client.csrf_token()
    # Both members get the same button markup (drawn once, kept), each their own token in the form.
    assert vote_form(idea.id) in vote_box(html, idea.id)
    assert vote_box(theirs, idea.id) == vote_box(html, idea.id)
    assert found.group(1) not in theirs and await other_client.csrf_token() in theirs
    assert 'id="csrf-form"' not in (await anon.get("/ideas")).text
    # What a browser without script sends for that button: the form's token, to the button's address.
    response = await client.http.post(f"/ideas/{idea.id}/vote", data={"csrf_token": found.group(1)})
    assert response.status_code == 303 and await voter_ids(idea.id) == {member.id}


async def test_no_vote_button_where_a_vote_would_be_refused(browser: Browser) -> None:
    staff = await make_user(role="staff")
    shipped, fine = await make_idea(), await make_idea()
    await ideas.change_status(actor=staff, idea_id=shipped.id, status="shipped")
    member = await browser(await make_user())
    box = vote_box(await idea_page(member, shipped), shipped.id)
    assert "<button" not in box and "Voting is closed" in box
    unverified = await browser(await make_user(verified=False))
    box = vote_box(await idea_page(unverified, fine), fine.id)
    assert "<button" not in box and "Confirm your e-mail" in box
    # And a forged post is refused all the same, with the HTML error page.
    response = await member.post_form(f"/ideas/{shipped.id}/vote", headers={"HX-Request": "true"})
    assert response.status_code == 409 and "shipped" in response.text
    assert await Vote.filter(idea_id=shipped.id).count() == 0


async def test_priority_from_the_idea_page(browser: Browser) -> None:
    idea = await make_idea()
    member = await make_user()
    client = await browser(member)
    await idea_page(client, idea)
    assert (await client.post_form(f"/ideas/{idea.id}/vote", {"priority": "must"})).status_code == 303
    assert (await Vote.get(idea_id=idea.id, user_id=member.id)).priority == "must"
    html = await idea_page(client, idea)
    assert '<option value="must" selected>' in html  # the voter's priority form shows their choice
    bad = await client.post_form(f"/ideas/{idea.id}/vote", {"priority": "asap"})
    assert bad.status_code == 422 and "priority" in bad.text.lower()
    assert (await Vote.get(idea_id=idea.id, user_id=member.id)).priority == "must"


async def test_staff_see_weighted_demand_and_members_do_not(browser: Browser) -> None:
    idea = await make_idea()
    member = await make_user()
    for priority in ("must", "important", None):
        await service.cast_vote(actor=await make_user(), idea_id=idea.id, priority=priority)
    staff_html = await idea_page(await browser(await make_user(role="staff")), idea)
    assert "weighted demand <strong>6</strong>" in staff_html
    assert "Must have: 1" in staff_html and "No priority: 1" in staff_html
    assert f'href="/ideas/{idea.id}/voters"' in staff_html
    assert "⚖ 6" in vote_box(staff_html, idea.id)
    member_html = await idea_page(await browser(member), idea)
    assert "weighted demand" not in member_html.lower() and "⚖" not in member_html
    assert f"/ideas/{idea.id}/voters" not in member_html
    assert "How much do you need it?" not in member_html  # not a voter: no priority form


# --- voters, CSV, votes on behalf -----------------------------------------------------------------


async def test_voters_page_csv_and_json_are_for_staff(browser: Browser, anon: Client) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff", name="Robin Staff")
    tricky = await make_user(name='=HYPERLINK("http://evil.example")', email="=1+2@example.com")
    await service.cast_vote(actor=tricky, idea_id=idea.id, priority="important")
    await service.vote_on_behalf(
        actor=staff, idea_id=idea.id, email="buyer@acme.example", name="+Buyer", note="-ticket 12"
    )
    client = await browser(staff)
    page = await client.get(f"/ideas/{idea.id}/voters")
    assert page.status_code == 200
    assert "2 votes · weighted demand <strong>3</strong>" in page.text
    assert "buyer@acme.example" in page.text and "unconfirmed" in page.text
    assert "by Robin Staff: -ticket 12" in page.text
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in page.text  # escaped on the page

    response = await client.get(f"/ideas/{idea.id}/voters.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="idea-{idea.id}-voters.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == [
        "name",
        "email",
        "verified",
        "priority",
        "voted_at",
        "on_behalf_by",
        "source_note",
    ]
    assert [
        (r["name"], r["email"], r["verified"], r["priority"], r["on_behalf_by"], r["source_note"])
        for r in rows
    ] == [
        ('\'=HYPERLINK("http://evil.example")', "'=1+2@example.com", "yes", "important", "", ""),
        ("'+Buyer", "buyer@acme.example", "no", "", "Robin Staff", "'-ticket 12"),
    ]
    assert all(r["voted_at"] for r in rows)

    member = await browser(await make_user())
    for url in (f"/ideas/{idea.id}/voters", f"/ideas/{idea.id}/voters.csv"):
        assert (await member.get(url)).status_code == 403
        assert (await anon.get(url)).status_code == 303  # to sign in
    assert "=1+2@example.com" not in (await member.get(f"/ideas/{idea.id}/voters.csv")).text


async def test_vote_on_behalf_from_the_voters_page(browser: Browser) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff")
    client = await browser(staff)
    await client.get(f"/ideas/{idea.id}/voters")
    form = {
        "email": "New.Customer@Example.com",
        "name": "New Customer",
        "priority": "must",
        "note": "Ticket #9",
    }
    response = await client.post_form(f"/ideas/{idea.id}/vote-on-behalf", form)
    assert (response.status_code, response.headers["location"]) == (303, f"/ideas/{idea.id}/voters")
    page = (await client.get(f"/ideas/{idea.id}/voters")).text
    assert "Vote recorded for new.customer@example.com." in page
    customer = await User.get(email="new.customer@example.com")
    assert customer.email_verified_at is None
    vote = await Vote.get(idea_id=idea.id)
    assert (vote.user_id, vote.on_behalf_by_id, vote.source_note, vote.priority) == (
        customer.id, staff.id, "Ticket #9", "must",
    )  # fmt: skip
    await client.post_form(f"/ideas/{idea.id}/vote-on-behalf", form)
    await client.get(f"/ideas/{idea.id}/voters")  # the browser follows the redirect (shows the flash)
    assert await vote_count(idea.id) == 1  # counted once

    # No note: the form comes back with the reason, nothing is written.
    response = await client.post_form(f"/ideas/{idea.id}/vote-on-behalf", {"email": "other@example.com"})
    assert response.status_code == 303
    page = (await client.get(f"/ideas/{idea.id}/voters")).text
    assert "Vote not recorded" in page and "where the request came from" in page
    assert not await User.exists(email="other@example.com")
    member = await browser(await make_user())
    await member.get("/ideas")
    forbidden = await member.post_form(
        f"/ideas/{idea.id}/vote-on-behalf", {"email": "x@example.com", "note": "n"}
    )
    assert forbidden.status_code == 403
    assert not await User.exists(email="x@example.com")
    assert await vote_count(idea.id) == 1


# --- budgets and bans -----------------------------------------------------------------------------


async def test_a_vote_budget_set_by_an_admin(browser: Browser) -> None:
    admin = await make_admin()
    board = await make_board(admin)
    first, second, third = [await make_idea(board) for _ in range(3)]
    client = await browser(admin)
    await client.get("/ideas")
    response = await client.post_form(f"/admin/boards/{board.id}/vote-budget", {"votes_per_member": "2"})
    assert (response.status_code, response.headers["location"]) == (303, f"/admin/boards/{board.id}")
    assert (await BoardVoteBudget.get(board_id=board.id)).votes_per_member == 2

    member = await make_user()
    voter = await browser(member)
    await voter.get("/ideas")
    for idea in (first, second):
        assert (await voter.post_form(f"/ideas/{idea.id}/vote")).status_code == 303
    refused = await voter.api("PUT", f"/api/v1/ideas/{third.id}/vote")
    assert refused.status_code == 409 and "used all your votes" in refused.json()["detail"]
    assert await vote_count(third.id) == 0
    await ideas.change_status(actor=admin, idea_id=first.id, status="shipped")
    assert (await voter.api("PUT", f"/api/v1/ideas/{third.id}/vote")).status_code == 200
    assert await voter_ids(third.id) == {member.id}

    bad = await client.post_form(f"/admin/boards/{board.id}/vote-budget", {"votes_per_member": "lots"})
    assert bad.status_code == 422
    staff = await browser(await make_user(role="staff"))
    await staff.get("/ideas")
    denied = await staff.post_form(f"/admin/boards/{board.id}/vote-budget", {"votes_per_member": "9"})
    assert denied.status_code == 403
    assert (await BoardVoteBudget.get(board_id=board.id)).votes_per_member == 2
    await client.post_form(f"/admin/boards/{board.id}/vote-budget", {"votes_per_member": "0"})
    assert not await BoardVoteBudget.exists(board_id=board.id)


async def test_a_ban_removes_the_members_votes_from_counts(browser: Browser) -> None:
    idea, other = await make_idea(), await make_idea()
    spammer, honest = await make_user(), await make_user()
    for voter in (spammer, honest):
        await service.cast_vote(actor=voter, idea_id=idea.id, priority="must")
    await service.cast_vote(actor=spammer, idea_id=other.id)
    staff = await browser(await make_user(role="staff"))
    await staff.get("/ideas")
    response = await staff.post_form(f"/staff/members/{spammer.id}/ban", {"reason": "Vote spam"})
    assert response.status_code == 303
    assert await voter_ids(idea.id) == {honest.id}
    assert (await vote_count(idea.id), await vote_count(other.id)) == (1, 0)
    assert "weighted demand <strong>3</strong>" in await idea_page(staff, idea)
