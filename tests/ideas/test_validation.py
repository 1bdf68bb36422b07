"""Bad input: refused with 422, the field named (on the page and in the problem document), nothing written."""

from __future__ import annotations

import pytest

from ideas.models import Comment, Follow, Idea, IdeaTag, StatusChange, Tag
from portal.models import AuditEntry, Notification, OutboxMessage
from tests.browser import Client
from tests.factories import make_board, make_idea
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import problem

GOOD = {"board": "b", "title": "A perfectly fine idea", "body": "Details.", "tags": "one, two"}
SIX_TAGS = "a, b, c, d, e, f"

# (what is wrong, the changed fields, the field the answer must name)
BAD_IDEAS = [
    ("empty title", {"title": ""}, "title"),
    ("blank title", {"title": "   \n  "}, "title"),
    ("short title", {"title": "abcd"}, "title"),
    ("200-char title", {"title": "x" * 200}, "title"),
    ("141-char title", {"title": "y" * 141}, "title"),
    ("no board", {"board": ""}, "board"),
    ("unknown board", {"board": "no-such-board"}, "board"),
    ("unknown board id", {"board": "999999"}, "board"),
    ("huge body", {"body": "z" * 20_001}, "body"),
    ("too many tags", {"tags": SIX_TAGS}, "tags"),
    ("over-long tag", {"tags": "t" * 31}, "tags"),
    ("punctuation tag", {"tags": "!!!"}, "tags"),
]


async def _rows() -> dict[str, int]:
    models = (Idea, IdeaTag, Tag, Follow, Comment, StatusChange, Notification, OutboxMessage, AuditEntry)
    return {m.__name__: await m.all().count() for m in models}


@pytest.fixture
async def member(app, browser: SignedIn) -> Client:  # type: ignore[no-untyped-def]
    await make_board(slug="b")
    client, _ = await browser()
    return client


async def test_bad_ideas_in_the_form(member: Client) -> None:
    before = await _rows()
    for case, changes, field in BAD_IDEAS:
        response = await member.post_form("/ideas/new", GOOD | changes)
        assert response.status_code == 422, case
        # The message sits under the named field, alone, and what was typed is kept.
        assert response.text.count('class="field-note error"') == 1, case
        field_html = response.text.split(f'id="f-{field}"', 1)[1].split("</div>", 1)[0]
        assert 'class="field-note error"' in field_html, case
        if field != "title":
            assert 'value="A perfectly fine idea"' in response.text, case
    assert await _rows() == before


async def test_bad_ideas_in_the_api(member: Client) -> None:
    before = await _rows()
    for case, changes, field in BAD_IDEAS:
        body = problem(await member.api("POST", "/api/v1/ideas", json=GOOD | changes))
        assert set(body["errors"]) == {field}, case
        assert body["title"] == "Invalid input", case
    assert await _rows() == before


async def test_every_bad_field_is_named_at_once(member: Client) -> None:
    bad = {"board": "nope", "title": "", "body": "z" * 20_001, "tags": SIX_TAGS}
    body = problem(await member.api("POST", "/api/v1/ideas", json=bad))
    assert set(body["errors"]) == {"board", "title", "body", "tags"}
    response = await member.post_form("/ideas/new", bad)
    assert response.status_code == 422
    assert response.text.count('class="field-note error"') == 4


async def test_api_tag_shapes(member: Client) -> None:
    body = problem(await member.api("POST", "/api/v1/ideas", json=GOOD | {"tags": ["a", 3]}))
    assert set(body["errors"]) == {"tags"}
    body = problem(await member.api("POST", "/api/v1/ideas", json=GOOD | {"tags": list("abcdef")}))
    assert set(body["errors"]) == {"tags"}
    response = await member.api("POST", "/api/v1/ideas", json=GOOD | {"tags": ["a", "A", " a ", "b"]})
    assert response.status_code == 201
    assert response.json()["tags"] == ["a", "b"]  # duplicates fold into one


async def test_boundaries_are_accepted(member: Client) -> None:
    response = await member.api(
        "POST", "/api/v1/ideas", json=GOOD | {"title": "t" * 140, "body": "b" * 20_000, "tags": "1,2,3,4,5"}
    )
    assert response.status_code == 201, response.text
    response = await member.api("POST", "/api/v1/ideas", json=GOOD | {"title": "Five!", "body": ""})
    assert response.status_code == 201, response.text


BAD_LISTS = [
    ("bad cursor", {"cursor": "not-a-cursor"}, "cursor"),
    ("cursor of another sort", {"cursor": "WyJ0b3AiLDEsMV0", "sort": "new"}, "cursor"),  # ["top",1,1]
    ("cursor with a bad value", {"cursor": "WyJuZXciLDEsMV0"}, "cursor"),  # ["new",1,1] under trending
    ("bad sort", {"sort": "random"}, "sort"),
    ("unknown status", {"status": "maybe"}, "status"),
    ("unknown board", {"board": "nope"}, "board"),
    ("bad limit", {"limit": "1000"}, "limit"),
    ("non-numeric limit", {"limit": "ten"}, "limit"),
    ("bad author", {"author": "me"}, "author"),
    ("long search", {"q": "q" * 201}, "q"),
]


async def test_bad_list_parameters(anon: Client) -> None:
    await make_idea()
    for case, params, field in BAD_LISTS:
        response = await anon.get("/ideas", params=params)
        assert response.status_code == 422, case
        assert f"<strong>{field}</strong>:" in response.text, case
        body = problem(await anon.get("/api/v1/ideas", params=params))
        assert set(body["errors"]) == {field}, case


async def test_bad_comments_in_the_form(browser: SignedIn) -> None:
    idea = await make_idea()
    client, _ = await browser()
    before = await _rows()
    for body, message in (
        ("   ", "Write a comment first."),
        ("x" * 10_001, "Use at most 10,000 characters."),
    ):
        response = await client.post_form(f"/ideas/{idea.id}/comments", {"body": body})
        assert response.status_code == 422
        assert f"<strong>body</strong>: {message}" in response.text
    assert await _rows() == before
    assert (await Idea.get(id=idea.id)).comment_count == 0


async def test_bad_status_messages(browser: SignedIn) -> None:
    idea = await make_idea()
    staff, _ = await browser(role="staff")
    before = await _rows()
    body = problem(
        await staff.api(
            "POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "planned", "message": "m" * 5_001}
        )
    )
    assert set(body["errors"]) == {"message"}
    response = await staff.post_form(
        f"/ideas/{idea.id}/status", {"status": "planned", "message": "m" * 5_001}
    )
    assert response.status_code == 422 and "<strong>message</strong>" in response.text
    assert await _rows() == before
