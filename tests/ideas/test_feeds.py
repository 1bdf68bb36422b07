"""Atom feeds, checked with a real feed parser: the changelog and each idea's status history."""

from __future__ import annotations

from datetime import UTC, datetime

import feedparser
import httpx

from ideas import changelog, service
from ideas.models import ChangelogEntry
from tests.browser import Client
from tests.factories import make_board, make_idea, make_user
from tests.ideas.conftest import SignedIn

BASE = "http://testserver"


def parse_atom(response: httpx.Response) -> feedparser.FeedParserDict:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated
    for entry in feed.entries:
        assert entry.id and entry.title and entry.link and entry.updated
    assert len({e.id for e in feed.entries}) == len(feed.entries)
    return feed


async def test_changelog_feed_is_valid_atom_with_only_public_entries(anon: Client) -> None:
    empty = parse_atom(await anon.get("/changelog.atom"))
    assert empty.entries == []
    assert empty.feed.link == f"{BASE}/changelog"

    public = await make_board(slug="public")
    private = await make_board(slug="private", visibility="private")
    shown = await make_idea(board=public, title="Public calendar sync")
    secret = await make_idea(board=private, title="Secret acquisition integration")
    staff = await make_user(role="staff")
    older = await changelog.create_entry(actor=staff, title="Faster search", body="Twice as fast.")
    await ChangelogEntry.filter(id=older.id).update(published_at=datetime(2026, 3, 1, 9, tzinfo=UTC))
    newer = await changelog.create_entry(
        actor=staff,
        title="Calendar sync <is> here",
        body="It *works*.",
        idea_ids=f"{shown.id}, {secret.id}",
    )
    await changelog.create_entry(actor=staff, title="Insider preview", body="Soon.", min_tier="insider")
    await changelog.create_entry(actor=staff, title="Draft notes", body="", publish=False)

    response = await anon.get("/changelog.atom")
    feed = parse_atom(response)
    assert [e.title for e in feed.entries] == ["Calendar sync <is> here", "Faster search"]
    first, second = feed.entries
    assert first.id == first.link == f"{BASE}/changelog/{newer.id}"
    assert second.id == f"{BASE}/changelog/{older.id}"
    assert second.updated_parsed[:4] == (2026, 3, 1, 9)
    assert feed.feed.updated_parsed[:3] == first.updated_parsed[:3]
    content = first.content[0].value
    assert "<em>works</em>" in content
    assert f'href="{BASE}/ideas/{shown.id}-public-calendar-sync"' in content
    assert "Secret acquisition" not in response.text and f"/ideas/{secret.id}" not in response.text
    assert "Insider preview" not in response.text and "Draft notes" not in response.text


async def test_idea_feed_lists_each_status_change_with_its_message(anon: Client, browser: SignedIn) -> None:
    board = await make_board(slug="app")
    idea = await make_idea(board=board, title="Offline mode")
    url = f"{BASE}/ideas/{idea.id}-offline-mode"

    quiet = parse_atom(await anon.get(f"/ideas/{idea.id}.atom"))
    assert quiet.entries == []
    assert quiet.feed.title == "Offline mode — status history"

    staff_client, staff = await browser(role="staff", name="Pat Product")
    await service.change_status(
        actor=staff, idea_id=idea.id, status="under_review", message="Looking *closely*."
    )
    await service.change_status(
        actor=staff, idea_id=idea.id, status="planned", message="For the spring.", promise="2027-Q2"
    )
    await service.change_status(actor=staff, idea_id=idea.id, status="shipped")

    feed = parse_atom(await anon.get(f"/ideas/{idea.id}.atom"))
    assert feed.feed.id == f"{BASE}/ideas/{idea.id}"
    assert feed.feed.link == url
    titles = [e.title for e in feed.entries]
    assert titles == ["Planned → Shipped", "Under review → Planned", "Open → Under review"]
    for entry in feed.entries:
        assert entry.link == url
        assert entry.author == "Pat Product"
    contents = [e.content[0].value for e in feed.entries]
    assert "No message." in contents[0]
    assert "For the spring." in contents[1]
    assert "<em>closely</em>" in contents[2]

    # The staff-only and insider boards, hidden ideas and unknown numbers have no feed for anyone.
    private = await make_board(slug="private", visibility="private")
    insiders = await make_board(slug="insiders", visibility="insiders")
    closed = [
        await make_idea(board=private, title="Private plan"),
        await make_idea(board=insiders, title="Insider plan"),
        await make_idea(board=board, title="Hidden plan", hidden_at=datetime.now(UTC)),
    ]
    for other in closed:
        await service.change_status(actor=staff, idea_id=other.id, status="planned", message="Secret.")
        for reader in (anon, staff_client):
            response = await reader.get(f"/ideas/{other.id}.atom")
            assert response.status_code == 404, other.title
            assert "Secret." not in response.text
    assert (await anon.get("/ideas/999999.atom")).status_code == 404
