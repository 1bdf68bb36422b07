"""Private, insider and hidden ideas never show where a member or visitor can look.

Each path is checked for a visitor and a member, and for staff as the control that proves the
ideas exist and would show if the path ignored visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from ideas import comments, service
from ideas.models import Board, Idea
from portal.models import User
from tests.browser import Client
from tests.factories import make_board, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import board_counts, card_ids, problem, recent_decisions, roadmap_column, trending


@dataclass
class World:
    public: Board
    private: Board
    insiders: Board
    shown: Idea
    hidden: Idea
    secret: Idea
    insider: Idea
    merged: Idea
    author: User

    @property
    def unseen(self) -> list[Idea]:
        return [self.hidden, self.secret, self.insider]


async def _world() -> World:
    """One idea of each kind, all alike: same tag, same words, same author, planned with a message."""
    public = await make_board(slug="public", name="Public board")
    private = await make_board(slug="private", name="Private board", visibility="private")
    insiders = await make_board(slug="insiders", name="Insiders board", visibility="insiders")
    author = await make_user(role="staff", name="Pat")
    staff = await make_user(role="staff")
    made = {}
    for key, board in (
        ("shown", public),
        ("hidden", public),
        ("secret", private),
        ("insider", insiders),
        ("merged", public),
    ):
        made[key] = await make_idea(
            board=board,
            author=author,
            title=f"Pineapple {key} idea",
            body="Pineapple pizza for everyone",
            tags=["fruit"],
            trending_score=1e12,  # ahead of anything else in trending
        )
        await comments.post_comment(actor=author, idea_id=made[key].id, body="Pineapple comment")
        await service.change_status(actor=staff, idea_id=made[key].id, status="planned", message="Soon")
    await Idea.filter(id=made["hidden"].id).update(hidden_at=datetime.now(UTC), hidden_reason="spam")
    await service.merge(actor=staff, idea_id=made["merged"].id, into=made["shown"].id)
    ideas = {k: await Idea.get(id=v.id) for k, v in made.items()}
    return World(public, private, insiders, author=author, **ideas)


@pytest.fixture
async def world(app) -> World:  # type: ignore[no-untyped-def]
    return await _world()


@pytest.fixture
async def readers(anon: Client, browser: SignedIn) -> dict[str, Client]:
    member, _ = await browser()
    staff, _ = await browser(role="staff")
    return {"visitor": anon, "member": member, "staff": staff}


def _titles(html: str, ideas: list[Idea]) -> set[str]:
    return {i.title for i in ideas if i.title in html}


async def test_ideas_list_page(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        html = (await readers[who].get("/ideas")).text
        assert card_ids(html) == [world.shown.id], who
        assert not _titles(html, world.unseen), who
        for url in ("/ideas?tag=fruit", "/ideas?status=planned", f"/ideas?author={world.author.id}"):
            assert card_ids((await readers[who].get(url)).text) == [world.shown.id], (who, url)
    staff_ids = card_ids((await readers["staff"].get("/ideas")).text)
    assert set(staff_ids) == {world.shown.id, world.secret.id, world.insider.id}  # hidden: not in lists


async def test_api_list(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        for query in ("", "?tag=fruit", "?status=planned", f"?author={world.author.id}", "?sort=new"):
            items = (await readers[who].get(f"/api/v1/ideas{query}")).json()["items"]
            assert [i["id"] for i in items] == [world.shown.id], (who, query)
    items = (await readers["staff"].get("/api/v1/ideas")).json()["items"]
    assert {i["id"] for i in items} == {world.shown.id, world.secret.id, world.insider.id}


async def test_search(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        for q in ("pineapple", "pizza", "fruit"):
            html = (await readers[who].get(f"/ideas?q={q}")).text
            assert card_ids(html) == [world.shown.id], (who, q)
            items = (await readers[who].get(f"/api/v1/ideas?q={q}")).json()["items"]
            assert [i["id"] for i in items] == [world.shown.id], (who, q)
    html = (await readers["staff"].get("/ideas?q=pineapple")).text
    assert set(card_ids(html)) == {world.shown.id, world.secret.id, world.insider.id}


async def test_home_counts_trending_and_recent_decisions(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        html = (await readers[who].get("/")).text
        assert board_counts(html) == {"Public board": 1}, who  # hidden and merged are not counted
        assert card_ids(trending(html)) == [world.shown.id], who
        decisions = recent_decisions(html)
        assert world.shown.title in decisions, who
        assert not _titles(decisions, [*world.unseen, world.merged]), who
        assert not _titles(html, world.unseen), who
    html = (await readers["staff"].get("/")).text
    assert board_counts(html) == {"Public board": 1, "Private board": 1, "Insiders board": 1}
    assert _titles(recent_decisions(html), world.unseen) == {world.secret.title, world.insider.title}


async def test_roadmap(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        html = (await readers[who].get("/roadmap")).text
        planned = roadmap_column(html, "planned")
        assert world.shown.title in planned, who
        assert not _titles(html, [*world.unseen, world.merged]), who
    planned = roadmap_column((await readers["staff"].get("/roadmap")).text, "planned")
    assert _titles(planned, world.unseen) == {world.secret.title, world.insider.title}


async def test_single_idea_in_pages_and_api(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        for idea in world.unseen:
            response = await readers[who].get(f"/ideas/{idea.id}")
            assert response.status_code == 404, (who, idea.title)
            assert idea.title not in response.text
            problem(await readers[who].get(f"/api/v1/ideas/{idea.id}"), 404)
            problem(await readers[who].get(f"/api/v1/ideas/{idea.id}/comments"), 404)
        assert (await readers[who].get(f"/api/v1/ideas/{world.shown.id}")).status_code == 200
    for idea in world.unseen:
        assert (await readers["staff"].get(f"/api/v1/ideas/{idea.id}")).status_code == 200


async def test_similar_ideas(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        html = (await readers[who].get("/ideas/similar?title=pineapple+pizza")).text
        assert _titles(html, [world.shown]) == {world.shown.title}, who
        assert not _titles(html, [*world.unseen, world.merged]), who
    html = (await readers["staff"].get("/ideas/similar?title=pineapple+pizza")).text
    assert _titles(html, world.unseen) == {world.secret.title, world.insider.title}


async def test_board_filters_do_not_reveal_boards(world: World, readers: dict[str, Client]) -> None:
    for who in ("visitor", "member"):
        for slug in ("private", "insiders"):
            missing = problem(await readers[who].get("/api/v1/ideas?board=no-such-board"))
            assert problem(await readers[who].get(f"/api/v1/ideas?board={slug}")) == missing, (who, slug)
            response = await readers[who].get(f"/ideas?board={slug}")
            assert response.status_code == 422 and world.secret.title not in response.text
            assert (await readers[who].get(f"/roadmap?board={slug}")).status_code == 422
        html = (await readers[who].get("/ideas")).text
        assert 'value="private"' not in html and 'value="insiders"' not in html
    items = (await readers["staff"].get("/api/v1/ideas?board=private")).json()["items"]
    assert [i["id"] for i in items] == [world.secret.id]


async def test_merged_duplicates_list_shows_only_what_the_reader_may_see(
    world: World, readers: dict[str, Client]
) -> None:
    staff = await make_user(role="staff")
    # A hidden idea (spam) and a private one are merged into the public idea.
    await service.merge(actor=staff, idea_id=world.hidden.id, into=world.shown.id)
    await service.merge(actor=staff, idea_id=world.secret.id, into=world.shown.id)
    for who in ("visitor", "member"):
        html = (await readers[who].get(service.idea_url(world.shown))).text
        assert world.merged.title in html, who
        assert not _titles(html, [world.hidden, world.secret]), who
    html = (await readers["staff"].get(service.idea_url(world.shown))).text
    assert _titles(html, [world.hidden, world.secret, world.merged]) == {
        world.hidden.title,
        world.secret.title,
        world.merged.title,
    }
