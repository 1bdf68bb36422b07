"""Lists: filters, sorts, keyset paging, a constant number of queries; full-text search."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from ideas import queries, service
from ideas.models import StatusChange
from tests.browser import Client
from tests.conftest import QueryCounter
from tests.factories import make_board, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import card_ids

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


async def _walk(client: Client, **query: str) -> list[list[int]]:
    """Every page of `/api/v1/ideas?{query}`, following `next_cursor`, as lists of ids."""
    pages: list[list[int]] = []
    params = dict(query)
    while True:
        response = await client.get("/api/v1/ideas", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        if body["next_cursor"] is None:
            return pages
        params["cursor"] = body["next_cursor"]
        assert len(pages) < 50, "paging does not end"


async def test_filters_by_board_status_tag_and_author(anon: Client) -> None:
    web = await make_board(slug="web")
    mobile = await make_board(slug="mobile")
    ann = await make_user()
    a = await make_idea(board=web, author=ann, tags="export, csv")
    b = await make_idea(board=web, tags="export", status="planned")
    c = await make_idea(board=mobile, author=ann, status="planned")
    d = await make_idea(board=mobile, tags="csv")
    cases = {
        "board=web": {a.id, b.id},
        "board=mobile": {c.id, d.id},
        "status=planned": {b.id, c.id},
        "status=open": {a.id, d.id},
        "status=shipped": set(),
        "tag=export": {a.id, b.id},
        "tag=CSV": {a.id, d.id},
        "tag=nothing": set(),
        f"author={ann.id}": {a.id, c.id},
        "board=web&status=planned": {b.id},
        f"board=mobile&author={ann.id}&status=planned": {c.id},
        "tag=csv&board=mobile": {d.id},
    }
    for query, expected in cases.items():
        items = (await anon.get(f"/api/v1/ideas?{query}")).json()["items"]
        assert {i["id"] for i in items} == expected, query
        assert set(card_ids((await anon.get(f"/ideas?{query}")).text)) == expected, query


async def test_sorts(anon: Client) -> None:
    board = await make_board()
    # Each idea leads in exactly one sort.
    newest = await make_idea(board=board, created_at=T0 + timedelta(days=3), last_activity_at=T0)
    most_voted = await make_idea(board=board, vote_count=50, created_at=T0, last_activity_at=T0)
    hottest = await make_idea(board=board, trending_score=1e15, created_at=T0, last_activity_at=T0)
    busiest = await make_idea(board=board, created_at=T0, last_activity_at=T0 + timedelta(days=5))
    for sort, first in (("new", newest), ("top", most_voted), ("trending", hottest), ("active", busiest)):
        items = (await anon.get(f"/api/v1/ideas?sort={sort}")).json()["items"]
        assert items[0]["id"] == first.id, sort
        assert card_ids((await anon.get(f"/ideas?sort={sort}")).text)[0] == first.id, sort
    # The default is trending.
    assert card_ids((await anon.get("/ideas")).text)[0] == hottest.id


async def test_activity_moves_an_idea_up_in_active_and_trending(anon: Client, browser: SignedIn) -> None:
    board = await make_board()
    old = await make_idea(board=board)
    new = await make_idea(board=board)
    items = (await anon.get("/api/v1/ideas?sort=active")).json()["items"]
    assert [i["id"] for i in items] == [new.id, old.id]
    client, _ = await browser()
    await client.api("POST", f"/api/v1/ideas/{old.id}/comments", json={"body": "Bump"})
    items = (await anon.get("/api/v1/ideas?sort=active")).json()["items"]
    assert [i["id"] for i in items] == [old.id, new.id]
    items = (await anon.get("/api/v1/ideas?sort=trending")).json()["items"]
    assert [i["id"] for i in items] == [old.id, new.id]


@pytest.mark.parametrize("sort", ["new", "top", "trending", "active"])
async def test_keyset_paging_returns_every_idea_once(anon: Client, sort: str) -> None:
    board = await make_board()
    ideas = []
    for n in range(47):
        # Many ties (equal votes, scores and times, some with whole seconds): the id must break them.
        at = T0 + timedelta(hours=n // 5, microseconds=(n % 3) * 250_000 * (n % 2))
        ideas.append(
            await make_idea(
                board=board,
                vote_count=n // 4,
                trending_score=float(n // 6) + 0.1,
                created_at=at,
                last_activity_at=at,
            )
        )
    expected = {i.id for i in ideas}
    pages = await _walk(anon, sort=sort)
    assert [len(p) for p in pages] == [20, 20, 7]
    seen = [idea_id for page in pages for idea_id in page]
    assert len(seen) == len(set(seen)) == 47
    assert set(seen) == expected
    # The order across pages is the order of one long page.
    whole = [i["id"] for i in (await anon.get(f"/api/v1/ideas?sort={sort}&limit=100")).json()["items"]]
    assert seen == whole
    # Small pages too.
    assert [idea_id for page in await _walk(anon, sort=sort, limit="7") for idea_id in page] == whole


async def test_html_list_pages_with_a_load_more_link(anon: Client) -> None:
    board = await make_board()
    for n in range(25):
        await make_idea(board=board, created_at=T0 + timedelta(minutes=n))
    first = await anon.get("/ideas?sort=new")
    ids = card_ids(first.text)
    assert len(ids) == 20
    assert "Load more ideas" in first.text
    more = first.text.split('<div class="load-more">', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    more = more.replace("&amp;", "&")
    assert "sort=new" in more and "cursor=" in more
    # htmx asks for the next page: only the fragment comes back.
    second = await anon.get(more, headers={"HX-Request": "true"})
    assert "<html" not in second.text
    rest = card_ids(second.text)
    assert len(rest) == 5 and "Load more" not in second.text
    assert len(set(ids + rest)) == 25


def _cursor(payload: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def test_tampered_cursors_are_refused(anon: Client) -> None:
    await make_idea()
    for payload in (
        ["new", "yesterday", 1],
        ["top", 1, "x"],
        ["top", True, 1],
        ["top", 1],
        "top",
        ["q", -1, 0],
    ):
        sort = payload[0] if isinstance(payload, list) and payload[0] != "q" else "top"
        extra = "&q=x" if isinstance(payload, list) and payload[0] == "q" else ""
        response = await anon.get(f"/api/v1/ideas?sort={sort}&cursor={_cursor(payload)}{extra}")
        assert response.status_code == 422, payload
        assert set(response.json()["errors"]) == {"cursor"}, payload


async def test_merged_ideas_leave_the_lists(anon: Client) -> None:
    board = await make_board()
    target = await make_idea(board=board)
    duplicate = await make_idea(board=board)
    await service.merge(actor=await make_user(role="staff"), idea_id=duplicate.id, into=target.id)
    assert [i["id"] for i in (await anon.get("/api/v1/ideas")).json()["items"]] == [target.id]


async def _list_queries(client: Client, count_queries: QueryCounter, url: str) -> int:
    await client.get(url)  # warm up: first use of the app
    count_queries.queries.clear()
    response = await client.get(url)
    assert response.status_code == 200
    return count_queries.count


async def test_list_page_costs_the_same_queries_for_3_and_25_ideas(
    anon: Client, browser: SignedIn, count_queries: QueryCounter
) -> None:
    board = await make_board(slug="web")
    member, _ = await browser()
    for status in ("planned", "shipped", "open"):  # something in each list, so none is skipped as empty
        await make_idea(board=board, tags="a, b", status=status)
    counts_small = {}
    for name, client in (("visitor", anon), ("member", member)):
        for url in ("/ideas", "/ideas?board=web&tag=a&sort=new", "/api/v1/ideas", "/", "/roadmap"):
            counts_small[name, url] = await _list_queries(client, count_queries, url)
    assert len(card_ids((await anon.get("/ideas")).text)) == 3
    for n in range(22):
        await make_idea(board=board, tags="a, b", status=("planned", "shipped", "open")[n % 3])
    assert len(card_ids((await anon.get("/ideas")).text)) == 20
    for (name, url), small in counts_small.items():
        assert await _list_queries(member if name == "member" else anon, count_queries, url) == small, (
            name,
            url,
        )
    assert counts_small["visitor", "/ideas"] <= 5


async def test_a_members_access_is_read_only_when_an_insider_board_is_in_play(
    anon: Client, browser: SignedIn, count_queries: QueryCounter
) -> None:
    await make_idea(board=await make_board(slug="web"))
    member, _ = await browser()
    visitor_cost = await _list_queries(anon, count_queries, "/ideas")
    # The member costs their session's user, nothing more: their votes come with the cards' rows.
    assert await _list_queries(member, count_queries, "/ideas") == visitor_cost + 1
    await make_board(slug="inner", visibility="insiders")
    assert await _list_queries(member, count_queries, "/ideas") == visitor_cost + 2
    assert await _list_queries(anon, count_queries, "/ideas") == visitor_cost


async def test_idea_page_costs_the_same_queries_for_few_and_many_comments(
    anon: Client, count_queries: QueryCounter
) -> None:
    from tests.factories import make_comment

    idea = await make_idea()
    url = service.idea_url(idea)
    await make_comment(idea=idea)
    few = await _list_queries(anon, count_queries, url)
    for _ in range(15):
        await make_comment(idea=idea)
    assert await _list_queries(anon, count_queries, url) == few


async def test_idea_page_reads_duplicates_only_when_an_idea_was_merged_into_it(
    anon: Client, count_queries: QueryCounter
) -> None:
    board = await make_board()
    idea = await make_idea(board=board)
    url = service.idea_url(idea)
    # The idea with its author, follows, a "merged here?" flag and its history; its comments.
    assert await _list_queries(anon, count_queries, url) == 2
    duplicate = await make_idea(board=board, title="Same thing again")
    await service.merge(actor=await make_user(role="staff"), idea_id=duplicate.id, into=idea.id)
    assert await _list_queries(anon, count_queries, url) == 3
    assert "Same thing again" in (await anon.get(url)).text


async def test_the_idea_pages_history_is_what_status_history_reads(anon: Client) -> None:
    """The idea page reads the history as JSON with the idea: the same rows, types and order."""
    idea = await make_idea()
    assert (await queries.idea_view(None, idea.id)).history == []
    staff = await make_user(role="staff", name="Pat Product")
    await service.change_status(
        actor=staff, idea_id=idea.id, status="under_review", message="Looking *closely*."
    )
    await service.change_status(actor=staff, idea_id=idea.id, status="planned", promise="2027-Q2")
    await service.change_status(actor=staff, idea_id=idea.id, status="shipped", message="By the release job.")
    # An actor whose account is gone (the foreign key sets it to null).
    await StatusChange.filter(idea_id=idea.id, to_status="shipped").update(actor_id=None)
    history = (await queries.idea_view(None, idea.id)).history
    assert history == await queries.status_history(idea.id)
    assert [h["to_status"] for h in history] == ["under_review", "planned", "shipped"]
    assert [type(h["created_at"]) for h in history] == [datetime] * 3
    assert all(h["created_at"].utcoffset() == timedelta(0) for h in history)
    assert (history[0]["actor__name"], history[2]["actor_id"]) == ("Pat Product", None)
    page = (await anon.get(service.idea_url(idea))).text
    assert page.index("Under review") < page.index("Planned") < page.index("By the release job.")


# --- search ----------------------------------------------------------------------------------


async def test_search_finds_title_and_body_words_and_ranks_title_hits_first(anon: Client) -> None:
    board = await make_board()
    in_body = await make_idea(
        board=board, title="Faster exports", body="Please add a keyboard shortcut for it.", vote_count=99
    )
    in_title = await make_idea(board=board, title="Keyboard shortcuts everywhere", body="Power users.")
    other = await make_idea(board=board, title="Dark theme", body="At night.")
    for q, expected in (
        ("keyboard", [in_title.id, in_body.id]),  # title first, although the body hit has more votes
        ("shortcut", [in_title.id, in_body.id]),  # stemming: shortcuts ~ shortcut
        ("exports", [in_body.id]),
        ("night", [other.id]),
        ("theme dark", [other.id]),
        ("Keyboard Power", [in_title.id]),  # every word must match
        ("zebra", []),
    ):
        items = (await anon.get("/api/v1/ideas", params={"q": q})).json()["items"]
        assert [i["id"] for i in items] == expected, q
        assert card_ids((await anon.get("/ideas", params={"q": q})).text) == expected, q


async def test_search_survives_operators_and_punctuation(anon: Client) -> None:
    idea = await make_idea(title="Import from Excel files", body="xlsx and csv")
    for q in ('"excel', "excel OR", "excel*", "-excel", "excel)", "NEAR(excel)", "excel:", "'", "&|!"):
        response = await anon.get("/api/v1/ideas", params={"q": q})
        assert response.status_code == 200, q
    items = (await anon.get("/api/v1/ideas", params={"q": 'excel" OR "x'})).json()["items"]
    assert [i["id"] for i in items] in ([idea.id], [])


async def test_search_sees_edits_and_combines_with_filters(anon: Client) -> None:
    web = await make_board(slug="web")
    mobile = await make_board(slug="mobile")
    author = await make_user(role="staff")
    a = await make_idea(board=web, author=author, title="Calendar integration")
    b = await make_idea(board=mobile, title="Calendar widget")
    items = (await anon.get("/api/v1/ideas?q=calendar&board=mobile")).json()["items"]
    assert [i["id"] for i in items] == [b.id]
    await service.edit_idea(actor=author, idea_id=a.id, title="Agenda integration", body="")
    assert [i["id"] for i in (await anon.get("/api/v1/ideas?q=calendar")).json()["items"]] == [b.id]
    assert [i["id"] for i in (await anon.get("/api/v1/ideas?q=agenda")).json()["items"]] == [a.id]


async def test_search_pages_through_results(anon: Client) -> None:
    board = await make_board()
    ids = {(await make_idea(board=board, title=f"Widget number {n}")).id for n in range(25)}
    pages = await _walk(anon, q="widget")
    assert [len(p) for p in pages] == [20, 5]
    seen = [i for p in pages for i in p]
    assert len(seen) == len(set(seen)) and set(seen) == ids


async def test_similar_ideas_match_any_word(anon: Client) -> None:
    board = await make_board()
    offline = await make_idea(board=board, title="Offline mode", vote_count=3)
    sync = await make_idea(board=board, title="Sync over wifi only")
    await make_idea(board=board, title="Dark theme")
    rows = await queries.similar_ideas(None, "offline sync")
    assert {r["id"] for r in rows} == {offline.id, sync.id}
    assert await queries.similar_ideas(None, "of") == []  # too short to suggest anything
    html = (await anon.get("/ideas/similar?title=offl")).text  # a word being typed
    assert f'href="/ideas/{offline.id}"' in html and "Offline mode" in html
    assert "Sync over wifi" not in html and "Dark theme" not in html
    assert "(3 votes, open)" in html


async def test_search_with_filters_fills_the_first_page(anon: Client) -> None:
    """Filters apply before the page is cut: matches that pass them are not pushed to a later page."""
    board = await make_board()
    ann = await make_user()
    for n in range(25):
        await make_idea(board=board, title=f"Widget number {n}", vote_count=100 - n)
    few = [
        await make_idea(board=board, author=ann, title=f"Widget special {n}", status="planned", tags="rare")
        for n in range(3)
    ]
    expected = sorted(i.id for i in few)
    for query in (
        "status=planned",
        "tag=rare",
        f"author={ann.id}",
        f"status=planned&tag=rare&author={ann.id}",
    ):
        body = (await anon.get(f"/api/v1/ideas?q=widget&{query}")).json()
        assert sorted(i["id"] for i in body["items"]) == expected, query
        assert body["next_cursor"] is None, query
        assert sorted(card_ids((await anon.get(f"/ideas?q=widget&{query}")).text)) == expected, query
    body = (await anon.get("/api/v1/ideas?q=widget&status=shipped")).json()
    assert body == {"items": [], "next_cursor": None}
