"""Kept pages of idea cards (ideas/card_pages.py): drawn once per version and reader, never stale."""

from __future__ import annotations

import re

import pytest

from ideas import boards, card_pages, moderation, queries, service
from ideas.card_pages import kept_pages
from ideas.models import Board, Idea
from portal import sql
from portal.models import User
from tests.browser import Client
from tests.factories import make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import rows_read
from voting import service as voting


async def _page(client: Client, url: str = "/ideas") -> str:
    response = await client.get(url)
    assert response.status_code == 200
    return response.text


def _card(html: str, idea_id: int) -> str:
    found = re.search(rf'<article class="idea-card" id="idea-{idea_id}">.*?</article>', html, re.S)
    assert found is not None, f"no card for idea {idea_id}"
    return found.group(0)


async def test_an_unchanged_page_is_neither_read_nor_drawn_again(
    anon: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(4):
        await make_idea(title=f"Idea number {n}")
    first = await _page(anon)
    drawn = kept_pages.drawn

    read = rows_read(monkeypatch, "FROM ideas i JOIN users u")
    assert await _page(anon) == first
    assert kept_pages.drawn == drawn
    assert read == ([1] if sql.is_postgres() else [4])  # PostgreSQL sends the digest alone


async def test_every_change_a_reader_could_see_shows_at_once(anon: Client) -> None:
    staff = await make_user(role="staff")
    author = await make_user(name="Ada Original")
    idea = await make_idea(author=author, title="A title to watch")
    assert "Ada Original" in _card(await _page(anon), idea.id)

    await User.filter(id=author.id).update(name="Ada Renamed")  # another table
    assert "Ada Renamed" in _card(await _page(anon), idea.id)

    await service.edit_idea(actor=staff, idea_id=idea.id, title="A new title", body="Body.", tags="alpha")
    card = _card(await _page(anon), idea.id)
    assert "A new title" in card and "#alpha" in card

    await voting.cast_vote(actor=await make_user(), idea_id=idea.id)
    assert '<span class="vote-count">1</span>' in _card(await _page(anon), idea.id)

    await make_comment(idea=idea)
    assert "1 comment<" in _card(await _page(anon), idea.id)

    # The catalogue: a board's name and a status's colour are not in the idea's row.
    admin = await make_user(role="admin")
    board = await Board.get(id=idea.board_id)
    await boards.update_board(
        actor=admin, board_id=board.id, slug=board.slug, name="Renamed board", visibility=board.visibility
    )
    assert "Renamed board" in _card(await _page(anon), idea.id)
    status = (await Idea.get(id=idea.id).prefetch_related("status")).status
    await boards.save_status(
        actor=admin, key=status.key, name=status.name, color="#123456", is_closed=status.is_closed
    )
    assert "--status: #123456" in _card(await _page(anon), idea.id)

    await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="Spam")
    assert f'id="idea-{idea.id}"' not in await _page(anon)


async def test_each_member_sees_their_own_votes_and_staff_see_demand(browser: SignedIn) -> None:
    idea = await make_idea()
    voter_client, voter = await browser()
    other_client, _ = await browser()
    staff_client, _ = await browser("staff")
    for _ in range(2):
        assert 'aria-pressed="false"' in _card(await _page(voter_client), idea.id)
    await voting.cast_vote(actor=voter, idea_id=idea.id, priority="must")
    for _ in range(2):
        assert 'aria-pressed="true"' in _card(await _page(voter_client), idea.id)
        assert 'aria-pressed="false"' in _card(await _page(other_client), idea.id)

    drawn = kept_pages.drawn
    assert "⚖ 3" in _card(await _page(staff_client), idea.id)  # a must counts three times
    await voting.cast_vote(actor=voter, idea_id=idea.id, priority="important")  # the count stays 1
    assert "⚖ 2" in _card(await _page(staff_client), idea.id)
    assert kept_pages.drawn == drawn  # staff's cards are drawn afresh, never kept


async def test_load_more_and_empty_lists_are_served_from_kept_pages(anon: Client) -> None:
    for n in range(3):
        await make_idea(title=f"Paged idea {n}")
    for _ in range(2):
        html = await _page(anon, "/ideas?limit=2&sort=new")
        assert html.count('class="idea-card"') == 2 and "Load more ideas" in html
        more = re.search(r'href="[^"]*(/ideas\?[^"]*cursor=[^"]+)"', html)
        assert more is not None
        rest = await _page(anon, more.group(1).replace("&amp;", "&"))
        assert rest.count('class="idea-card"') == 1 and "Load more ideas" not in rest
    for _ in range(2):
        assert "No ideas match yet." in await _page(anon, "/ideas?tag=nothing-here")


async def test_search_results_follow_new_matches_and_their_ranking(anon: Client) -> None:
    await make_idea(title="Export to spreadsheet", body="Export everything.")
    url = "/ideas?q=spreadsheet"
    for _ in range(2):
        assert (await _page(anon, url)).count('class="idea-card"') == 1
    newer = await make_idea(title="Spreadsheet spreadsheet import", body="A spreadsheet again.")
    await queries.forget_searches()
    html = await _page(anon, url)
    assert html.count('class="idea-card"') == 2 and f'id="idea-{newer.id}"' in html


async def test_a_search_is_kept_from_its_second_asking(anon: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most searches are typed once: keeping each would push the pages asked for again out."""
    monkeypatch.setattr(card_pages, "_searched", {})
    kept_pages.clear()  # no page of an earlier test's search
    await make_idea(title="Calendar sync", body="Sync my calendar.")
    drawn = kept_pages.drawn
    first = await _page(anon, "/ideas?q=calendar")
    assert first.count('class="idea-card"') == 1 and kept_pages.drawn == drawn, "asked once: not kept"
    assert await _page(anon, "/ideas?q=calendar") == first
    assert kept_pages.drawn == drawn + 1, "asked again: kept"
    read = rows_read(monkeypatch, "FROM ideas i JOIN users u")
    assert await _page(anon, "/ideas?q=calendar") == first
    assert kept_pages.drawn == drawn + 1 and len(read) == 1, "kept: checked by one statement, not drawn"
    # The memory of searches is bounded: the oldest is forgotten first.
    monkeypatch.setattr(card_pages, "SEARCHES_REMEMBERED", 2)
    for word in ("alpha", "beta", "gamma"):
        await _page(anon, f"/ideas?q={word}")
    remembered = [k[0] for k in card_pages._searched]
    assert len(remembered) == 2 and not any("alpha" in f for f in remembered), remembered


async def test_the_home_pages_trending_cards_are_kept_and_fresh(anon: Client) -> None:
    for _ in range(2):
        assert "No ideas yet." in await _page(anon, "/")
    idea = await make_idea(title="Trending on the home page")
    for _ in range(2):
        assert '<span class="vote-count">0</span>' in _card(await _page(anon, "/"), idea.id)
    drawn = kept_pages.drawn
    await voting.cast_vote(actor=await make_user(), idea_id=idea.id)
    assert '<span class="vote-count">1</span>' in _card(await _page(anon, "/"), idea.id)
    assert kept_pages.drawn == drawn + 1
