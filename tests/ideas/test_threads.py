"""Kept comment threads (ideas/threads.py): drawn once per version and kind of reader, never stale."""

from __future__ import annotations

import re

import pytest
from jinja2 import nodes
from starlette.applications import Starlette

from ideas import comments, moderation, queries, service
from ideas.threads import kept_threads
from portal import sql
from portal.models import User
from portal.templating import TEMPLATES_DIR, templates
from tests.browser import Client
from tests.factories import make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import rows_read


async def _page(client: Client, url: str) -> str:
    response = await client.get(url)
    assert response.status_code == 200
    return response.text


async def test_an_unchanged_thread_is_not_read_again(anon: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    idea = await make_idea()
    for n in range(5):
        await make_comment(idea=idea, body=f"Comment number {n}")
    url = service.idea_url(idea)
    first = await _page(anon, url)
    drawn = kept_threads.drawn

    read = rows_read(monkeypatch, "FROM comments c")
    assert await _page(anon, url) == first
    assert kept_threads.drawn == drawn
    if sql.is_postgres():
        assert read == [1]  # the digest alone, not the five comments
    else:
        assert read == [5]  # SQLite reads the comments to compare them


async def test_the_digest_is_the_same_for_the_same_comments_and_none_when_asked_unless(
    app: Starlette,
) -> None:
    idea = await make_idea()
    await make_comment(idea=idea, body="One")
    digest, found = await queries.comment_thread(None, idea.id)
    assert found == await queries.visible_comments(None, idea.id)
    again, none = await queries.comment_thread(None, idea.id, unless=digest)
    assert (again, none) == (digest, None)
    await make_comment(idea=idea, body="Two")
    changed, found = await queries.comment_thread(None, idea.id, unless=digest)
    assert changed != digest and found is not None and len(found) == 2


async def test_an_idea_without_comments_has_a_digest_too(anon: Client) -> None:
    idea = await make_idea()
    digest, found = await queries.comment_thread(None, idea.id)
    assert found == []
    assert await queries.comment_thread(None, idea.id, unless=digest) == (digest, None)
    assert "No comments yet." in await _page(anon, service.idea_url(idea))
    assert "No comments yet." in await _page(anon, service.idea_url(idea))


async def test_every_change_a_reader_could_see_shows_at_once(anon: Client) -> None:
    staff = await make_user(role="staff")
    author = await make_user(name="Ada Original")
    idea = await make_idea()
    first = await make_comment(idea=idea, author=author, body="First words")
    url = service.idea_url(idea)
    assert "Ada Original" in await _page(anon, url)

    await User.filter(id=author.id).update(name="Ada Renamed")  # another table, same thread
    assert "Ada Renamed" in await _page(anon, url)

    await comments.mark_helpful(actor=staff, comment_id=first.id)
    page = await _page(anon, url)
    assert re.search(rf'id="comment-{first.id}".*?<span class="badge">Helpful</span>', page, re.S)

    reply = await make_comment(idea=idea, body="A reply below", parent=first.id)
    page = await _page(anon, url)
    assert "A reply below" in page

    await moderation.hide_comment(actor=staff, comment_id=reply.id, reason="Spam")
    page = await _page(anon, url)
    assert "A reply below" not in page and "First words" in page

    await moderation.unhide_comment(actor=staff, comment_id=reply.id)
    assert "A reply below" in await _page(anon, url)


async def test_staff_notes_never_reach_a_members_kept_thread(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea()
    await make_comment(idea=idea, body="Public words")
    staff, staff_user = await browser("staff")
    await make_comment(idea=idea, author=staff_user, body="Internal staff note", internal=True)
    url = service.idea_url(idea)
    member, _ = await browser()

    for _ in range(2):  # each kind of reader, then again from what was kept
        assert "Internal staff note" in await _page(staff, url)
        for client in (member, anon):
            page = await _page(client, url)
            assert "Public words" in page and "Internal staff note" not in page


async def test_the_official_response_is_kept_apart_from_the_thread(anon: Client) -> None:
    staff = await make_user(role="staff")
    idea = await make_idea()
    answer = await make_comment(idea=idea, author=staff, body="The official word")
    await make_comment(idea=idea, body="A member's comment")
    url = service.idea_url(idea)
    assert 'id="official-h"' not in await _page(anon, url)
    await comments.mark_official(actor=staff, comment_id=answer.id)
    alone = await make_idea()
    only = await make_comment(idea=alone, author=staff, body="The only word")
    await comments.mark_official(actor=staff, comment_id=only.id)
    page = await _page(anon, service.idea_url(alone))
    assert "The only word" in page and "No other comments yet." in page
    page = await _page(anon, url)
    assert "The official word" in page[page.index('id="official-h"') : page.index('id="comments-h"')]
    assert "The official word" not in page[page.index('id="comments-h"') :]


def test_the_digest_covers_every_column_the_thread_draws() -> None:
    """The digest is taken over the statement's columns: whatever the thread reads of a comment must
    be one of them, or a change to it would leave a stale thread on the page."""
    tree = templates.env.parse((TEMPLATES_DIR / "ideas/_comments.html").read_text())
    read = {
        item.arg.value
        for item in tree.find_all(nodes.Getitem)
        if isinstance(item.node, nodes.Name) and item.node.name == "c" and isinstance(item.arg, nodes.Const)
    }
    columns = set(re.findall(r"(?:AS |c\.)(\w+)(?:,| FROM)", queries._COMMENT_HEAD))
    assert read, "the thread reads comments as c[...]"
    assert read - {"replies"} <= columns  # replies are arranged from parent_id, a column
    assert "parent_id" in columns


def test_the_thread_macro_reads_only_its_arguments() -> None:
    tree = templates.env.parse((TEMPLATES_DIR / "ideas/_comments.html").read_text())
    [macro] = list(tree.find_all(nodes.Macro))
    assert [a.name for a in macro.args] == [
        "comments",
        "may",
        "idea_id",
        "official_id",
        "reader_id",
        "csrf_token",
    ]
    from tests.portal.test_fragments import _macro_reads_beyond_its_arguments

    assert _macro_reads_beyond_its_arguments(macro) == []
