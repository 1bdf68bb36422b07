"""The votes API (/api/v1): idempotent PUT/DELETE, `voted` in idea documents, refusals, on behalf, voters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from ideas import moderation
from ideas import service as ideas
from portal import events
from portal.app import create_app
from portal.models import User
from tests.browser import Client
from tests.factories import make_user
from tests.voting.helpers import api_client, assert_problem, make_idea, token_for, vote_count, voter_ids
from voting.events import VoteCast, VoteRemoved
from voting.models import Vote

API = "/api/v1"


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


def vote_url(idea_id: int) -> str:
    return f"{API}/ideas/{idea_id}/vote"


async def test_put_twice_is_one_vote_and_delete_is_idempotent(http: httpx.AsyncClient) -> None:
    idea = await make_idea()
    member = await make_user()
    auth = await token_for(member)
    with events.record() as seen:
        first = await http.put(vote_url(idea.id), headers=auth)
        second = await http.put(vote_url(idea.id), headers=auth)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"voted": True, "vote_count": 1, "priority": None}
    assert await voter_ids(idea.id) == {member.id}
    assert await vote_count(idea.id) == 1
    assert [type(e) for e in seen if isinstance(e, VoteCast | VoteRemoved)] == [VoteCast]

    with events.record() as seen:
        removed = await http.delete(vote_url(idea.id), headers=auth)
        again = await http.delete(vote_url(idea.id), headers=auth)
    assert removed.status_code == again.status_code == 200
    assert removed.json() == again.json() == {"voted": False, "vote_count": 0, "priority": None}
    assert [type(e) for e in seen if isinstance(e, VoteCast | VoteRemoved)] == [VoteRemoved]
    assert await Vote.filter(idea_id=idea.id).count() == 0
    assert await vote_count(idea.id) == 0


async def test_delete_of_a_vote_never_cast_is_a_no_op(http: httpx.AsyncClient) -> None:
    idea = await make_idea()
    voter = await make_user()
    await http.put(vote_url(idea.id), headers=await token_for(voter))
    response = await http.delete(vote_url(idea.id), headers=await token_for(await make_user()))
    assert response.status_code == 200
    assert response.json() == {"voted": False, "vote_count": 1, "priority": None}
    assert await voter_ids(idea.id) == {voter.id}


async def test_idea_documents_say_whether_the_caller_voted(http: httpx.AsyncClient) -> None:
    voted, not_voted = await make_idea(), await make_idea()
    member = await make_user()
    auth = await token_for(member)
    await http.put(vote_url(voted.id), headers=await token_for(await make_user()))
    assert (await http.put(vote_url(voted.id), headers=auth)).status_code == 200

    one = (await http.get(f"{API}/ideas/{voted.id}", headers=auth)).json()
    assert (one["voted"], one["vote_count"]) == (True, 2)
    other = (await http.get(f"{API}/ideas/{not_voted.id}", headers=auth)).json()
    assert (other["voted"], other["vote_count"]) == (False, 0)
    listed = {i["id"]: i for i in (await http.get(f"{API}/ideas", headers=auth)).json()["items"]}
    assert (listed[voted.id]["voted"], listed[voted.id]["vote_count"]) == (True, 2)
    assert listed[not_voted.id]["voted"] is False
    # Someone else, or nobody, did not vote.
    for headers in (await token_for(await make_user()), {}):
        assert (await http.get(f"{API}/ideas/{voted.id}", headers=headers)).json()["voted"] is False
        items = (await http.get(f"{API}/ideas", headers=headers)).json()["items"]
        assert not any(i["voted"] for i in items)
    # After the vote is taken back, the caller sees it.
    await http.delete(vote_url(voted.id), headers=auth)
    one = (await http.get(f"{API}/ideas/{voted.id}", headers=auth)).json()
    assert (one["voted"], one["vote_count"]) == (False, 1)


async def test_priority_is_stored_and_a_bad_one_is_named(http: httpx.AsyncClient) -> None:
    idea = await make_idea()
    member = await make_user()
    auth = await token_for(member)
    response = await http.put(vote_url(idea.id), headers=auth, json={"priority": "must"})
    assert response.json() == {"voted": True, "vote_count": 1, "priority": "must"}
    assert (await Vote.get(idea_id=idea.id, user_id=member.id)).priority == "must"
    changed = await http.put(vote_url(idea.id), headers=auth, json={"priority": "important"})
    assert changed.json() == {"voted": True, "vote_count": 1, "priority": "important"}

    newcomer = await make_user()
    bad = await http.put(vote_url(idea.id), headers=await token_for(newcomer), json={"priority": "urgent"})
    body = assert_problem(bad, 422, "priority")
    assert set(body["errors"]) == {"priority"}
    not_json = await http.put(vote_url(idea.id), headers=await token_for(newcomer), content=b"must")
    assert "body" in assert_problem(not_json, 422)["errors"]
    assert await voter_ids(idea.id) == {member.id}
    assert (await Vote.get(idea_id=idea.id, user_id=member.id)).priority == "important"


async def test_merge_gives_the_target_the_union_of_voters(http: httpx.AsyncClient) -> None:
    source, target = await make_idea(), await make_idea()
    staff = await make_user(role="staff")
    source_only = [await make_user() for _ in range(3)]
    both = [await make_user() for _ in range(2)]
    target_only = [await make_user() for _ in range(4)]
    for voter in source_only + both:
        assert (await http.put(vote_url(source.id), headers=await token_for(voter))).status_code == 200
    for voter in both + target_only:
        assert (await http.put(vote_url(target.id), headers=await token_for(voter))).status_code == 200

    response = await http.post(
        f"{API}/ideas/{source.id}/merge", headers=await token_for(staff), json={"into": target.id}
    )
    assert response.status_code == 200, response.text
    assert response.json()["vote_count"] == 9
    union = {u.id for u in source_only + both + target_only}
    assert await voter_ids(target.id) == union
    assert await Vote.filter(idea_id=target.id).count() == await vote_count(target.id) == 9
    assert await Vote.filter(idea_id=source.id).count() == await vote_count(source.id) == 0
    # A voter of the source finds their vote on the target.
    mine = await http.get(f"{API}/ideas/{target.id}", headers=await token_for(source_only[0]))
    assert mine.json()["voted"] is True


# --- refusals: problem documents, nothing written -------------------------------------------------


async def _refused(
    http: httpx.AsyncClient, idea_id: int, headers: dict[str, str], status: int, *words: str
) -> None:
    with events.record() as seen:
        response = await http.put(vote_url(idea_id), headers=headers, json={"priority": "must"})
    assert_problem(response, status, *words)
    assert [e for e in seen if isinstance(e, VoteCast)] == []
    assert await Vote.filter(idea_id=idea_id).count() == 0
    assert await vote_count(idea_id) == 0


@pytest.mark.parametrize(("status", "message"), [("shipped", ""), ("declined", "Out of scope.")])
async def test_closed_ideas_refuse_votes(http: httpx.AsyncClient, status: str, message: str) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff")
    changed = await http.post(
        f"{API}/ideas/{idea.id}/status",
        headers=await token_for(staff),
        json={"status": status, "message": message},
    )
    assert changed.status_code == 200, changed.text
    await _refused(http, idea.id, await token_for(await make_user()), 409, status)


async def test_merged_and_locked_ideas_refuse_votes(http: httpx.AsyncClient) -> None:
    staff = await make_user(role="staff")
    source, target, locked = await make_idea(), await make_idea(), await make_idea()
    await ideas.merge(actor=staff, idea_id=source.id, into=target.id)
    await moderation.set_comments_locked(actor=staff, idea_id=locked.id, locked=True)
    member = await token_for(await make_user())
    await _refused(http, source.id, member, 409, "merged", f"#{target.id}")
    await _refused(http, locked.id, member, 409, "locked")


async def test_who_may_not_vote(http: httpx.AsyncClient, anon: Client) -> None:
    idea = await make_idea()
    await _refused(
        http, idea.id, await token_for(await make_user(verified=False)), 403, "confirm your e-mail"
    )
    banned = await make_user()
    token = await token_for(banned)
    await User.filter(id=banned.id).update(banned_at=banned.created_at)
    await _refused(http, idea.id, token, 401)
    assert_problem(await http.put(vote_url(999_999), headers=await token_for(await make_user())), 404)
    # An anonymous visitor (a browser session with its CSRF token, nobody signed in).
    for method in ("PUT", "DELETE"):
        assert_problem(await anon.api(method, vote_url(idea.id), json={}), 401, "sign in")
    # Without any cookie or token there is nothing to forge: the answer is 401, and nothing is written.
    await _refused(http, idea.id, {}, 401)
    assert await vote_count(idea.id) == 0


async def test_a_vote_limit_answers_429_with_retry_after(make_settings) -> None:  # type: ignore[no-untyped-def]
    EXECUTOR_CACHE.clear()
    app = create_app(make_settings(vote_limit="3/minute"), migrate=False)
    async with app.router.lifespan_context(app), api_client(app) as http:
        idea = await make_idea()
        member = await make_user()
        auth = await token_for(member)
        for method in ("PUT", "DELETE", "PUT"):
            assert (await http.request(method, vote_url(idea.id), headers=auth)).status_code == 200
        refused = await http.put(vote_url(idea.id), headers=auth)
        assert_problem(refused, 429)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert_problem(await http.delete(vote_url(idea.id), headers=auth), 429)
        assert await voter_ids(idea.id) == {member.id}  # the refused DELETE removed nothing
        # The limit is per member: someone else still votes.
        assert (
            await http.put(vote_url(idea.id), headers=await token_for(await make_user()))
        ).status_code == 200
        # ...and the HTML form is limited the same way.
        async with Client(app) as browser:
            await browser.sign_in_as(member)
            page = await browser.post_form(f"/ideas/{idea.id}/unvote")
            assert page.status_code == 429
            assert "Retry-After" in page.headers
        assert await vote_count(idea.id) == 2


async def test_a_per_address_limit_applies_to_everyone_behind_it(make_settings) -> None:  # type: ignore[no-untyped-def]
    EXECUTOR_CACHE.clear()
    app = create_app(make_settings(vote_limit_per_address="2/minute"), migrate=False)
    async with app.router.lifespan_context(app), api_client(app) as http:
        idea = await make_idea()
        for _ in range(2):
            assert (
                await http.put(vote_url(idea.id), headers=await token_for(await make_user()))
            ).status_code == 200
        refused = await http.put(vote_url(idea.id), headers=await token_for(await make_user()))
        assert_problem(refused, 429)
        assert "Retry-After" in refused.headers
        assert await vote_count(idea.id) == 2


# --- votes on behalf and voters (staff) -----------------------------------------------------------


async def test_staff_vote_on_behalf_of_a_new_customer(http: httpx.AsyncClient) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff", name="Sam Support")
    auth = await token_for(staff)
    body = {"email": "cfo@bigcorp.example", "name": "Big Corp CFO", "priority": "must", "note": "Ticket #77"}
    first = await http.post(f"{API}/ideas/{idea.id}/votes/on-behalf", headers=auth, json=body)
    assert first.status_code == 201, first.text
    assert first.json() == {"voted": True, "vote_count": 1, "priority": "must"}
    again = await http.post(f"{API}/ideas/{idea.id}/votes/on-behalf", headers=auth, json=body)
    assert again.json()["vote_count"] == 1
    customer = await User.get(email="cfo@bigcorp.example")
    assert (customer.name, customer.email_verified_at, customer.password_hash) == ("Big Corp CFO", None, None)
    vote = await Vote.get(idea_id=idea.id)
    assert (vote.user_id, vote.on_behalf_by_id, vote.source_note) == (customer.id, staff.id, "Ticket #77")
    assert await vote_count(idea.id) == 1

    voters = await http.get(f"{API}/ideas/{idea.id}/voters", headers=auth)
    assert voters.status_code == 200
    [row] = voters.json()
    assert row["user"] == {"id": customer.id, "name": "Big Corp CFO", "email": "cfo@bigcorp.example"}
    assert (row["priority"], row["on_behalf_by"], row["source_note"]) == ("must", "Sam Support", "Ticket #77")
    assert row["created_at"]


async def test_votes_on_behalf_and_voters_are_for_staff(http: httpx.AsyncClient) -> None:
    idea = await make_idea()
    member = await token_for(await make_user())
    body = {"email": "someone@example.com", "note": "Ticket 1"}
    assert_problem(await http.post(f"{API}/ideas/{idea.id}/votes/on-behalf", headers=member, json=body), 403)
    assert_problem(
        await http.post(f"{API}/ideas/{idea.id}/votes/on-behalf", json=body), 401
    )  # no credentials
    staff = await token_for(await make_user(role="staff"))
    missing = await http.post(
        f"{API}/ideas/{idea.id}/votes/on-behalf", headers=staff, json={"email": "someone@example.com"}
    )
    assert set(assert_problem(missing, 422, "note")["errors"]) == {"note"}
    assert not await User.exists(email="someone@example.com")
    assert await Vote.filter(idea_id=idea.id).count() == 0
    assert_problem(await http.get(f"{API}/ideas/{idea.id}/voters", headers=member), 403)
    assert_problem(await http.get(f"{API}/ideas/{idea.id}/voters"), 401)
    assert (await http.get(f"{API}/ideas/{idea.id}/voters", headers=staff)).json() == []
