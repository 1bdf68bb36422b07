"""Script injection: every known vector, in every place a member or staff can write text."""

from __future__ import annotations

import pytest
from markupsafe import escape

from ideas import comments, service
from ideas.models import Comment, Idea, StatusChange
from portal import markup
from tests.browser import Client
from tests.factories import make_board, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.safety import assert_safe, own_script_count, problems, tags_of
from tests.ideas.xss_vectors import VECTORS


def _title(vector: str) -> str:
    """The vector as a title, normalised as the service does (5 to 140 characters, single spaces)."""
    title = " ".join(vector.split())[:140].strip()
    return title if len(title) >= 5 else f"{title} pad!"


def _tag(vector: str) -> str:
    return vector[:20] + " tag"


# --- portal/markup.py, directly --------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS)
def test_render_markdown_neutralises_vector(vector: str) -> None:
    html = markup.render_markdown(vector)
    assert_safe(html, allow_htmx_attributes=False)
    assert "<script" not in html.lower()
    for tag, attrs in tags_of(html):
        assert tag in markup.ALLOWED_TAGS, (vector, tag)
        for name, value in attrs:
            assert name in markup.ALLOWED_ATTRIBUTES.get(tag, []), (vector, tag, name)
            if tag == "img" and name == "src":
                assert (value or "").startswith("/media/"), (vector, value)
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if not (href.startswith("/") and not href.startswith("//")):
                assert dict(attrs).get("rel") == "nofollow ugc noopener", (vector, attrs)


@pytest.mark.parametrize("vector", VECTORS)
def test_sanitiser_cleans_vector_given_as_raw_html(vector: str) -> None:
    """Defence in depth: were raw HTML ever let through Markdown, bleach alone must still hold."""
    html = markup._cleaner.clean(vector)
    assert_safe(html, allow_htmx_attributes=False)
    for _tag_name, attrs in tags_of(html):
        assert not any(name.startswith(("hx-", "data-hx-")) for name, _ in attrs)


def test_html_in_markdown_is_shown_as_text() -> None:
    html = markup.render_markdown("Press <b>here</b> & <script>alert('x')</script>")
    assert html == "<p>Press &lt;b&gt;here&lt;/b&gt; &amp; &lt;script&gt;alert('x')&lt;/script&gt;</p>\n"


def test_raw_htmx_attributes_are_stripped() -> None:
    html = markup._cleaner.clean(
        '<a href="https://example.com" hx-get="/api/v1/me" data-hx-post="/x" hx-trigger="load">x</a>'
    )
    assert "hx-" not in html
    assert 'href="https://example.com"' in html


@pytest.mark.parametrize(
    "source",
    [
        "[docs](https://example.com/docs)",
        "see https://example.com/docs",
        "see www.example.com",
        "[mail](mailto:someone@example.com)",
        '<a href="https://example.com" rel="follow">raw</a>',
    ],
)
def test_external_links_get_nofollow_ugc_noopener(source: str) -> None:
    html = markup.render_markdown(source) if not source.startswith("<") else markup._cleaner.clean(source)
    links = [dict(attrs) for tag, attrs in tags_of(html) if tag == "a"]
    assert links, html
    for attrs in links:
        assert attrs["rel"] == "nofollow ugc noopener"


def test_local_links_stay_followed_and_remote_images_are_dropped() -> None:
    html = markup.render_markdown("[idea](/ideas/3) ![a](https://tracker.example/p.gif) ![b](/media/b.png)")
    tags = tags_of(html)
    assert ("a", [("href", "/ideas/3")]) in tags
    images = [dict(attrs) for tag, attrs in tags if tag == "img"]
    assert [i.get("src") for i in images] == [None, "/media/b.png"]


# --- rendered pages ------------------------------------------------------------------------------


async def _everything_written(vectors: tuple[str, ...] = VECTORS) -> tuple[list[Idea], list[Comment]]:
    """Each vector as an idea's title, body and tag, a comment, a staff answer and two status messages."""
    board = await make_board(slug="xss", name="XSS")
    member = await make_user(name="Mallory")
    staff = await make_user(role="staff", name="Steph")
    ideas: list[Idea] = []
    written: list[Comment] = []
    for i, vector in enumerate(vectors):
        idea = await service.post_idea(
            actor=member, board=board.id, title=_title(vector), body=vector, tags=[_tag(vector)]
        )
        written.append(await comments.post_comment(actor=member, idea_id=idea.id, body=vector))
        answer = await comments.post_comment(actor=staff, idea_id=idea.id, body=f"Answer: {vector}")
        await comments.mark_official(actor=staff, comment_id=answer.id)
        written.append(answer)
        await service.change_status(actor=staff, idea_id=idea.id, status="planned", message=vector)
        if i % 2:
            await service.change_status(actor=staff, idea_id=idea.id, status="shipped", message=vector)
        ideas.append(await Idea.get(id=idea.id))
    return ideas, written


def _check_page(html: str, context: str) -> None:
    found = problems(html)
    assert not found, f"{context}: " + "; ".join(found)
    assert own_script_count(html) == 1, context


async def test_vectors_everywhere_render_safely(anon: Client, browser: SignedIn) -> None:
    ideas, written = await _everything_written()
    staff_client, _ = await browser(role="staff")
    by_idea: dict[int, list[Comment]] = {}
    for c in written:
        by_idea.setdefault(c.idea_id, []).append(c)
    messages: dict[int, list[str]] = {}
    for change in await StatusChange.all():
        messages.setdefault(change.idea_id, []).append(change.message_html)
    assert sum(map(len, messages.values())) == len(VECTORS) + len(VECTORS) // 2
    for vector, idea in zip(VECTORS, ideas, strict=True):
        for who, client in (("visitor", anon), ("staff", staff_client)):
            response = await client.get(service.idea_url(idea))
            assert response.status_code == 200, vector
            html = response.text
            _check_page(html, f"{who}, idea page, vector {vector!r}")
            assert str(escape(idea.title)) in html, vector
            assert f"<title>{escape(idea.title)} · Hearken</title>" in html, vector
            assert idea.body_html in html, vector  # the body is on the page, sanitised
            for c in by_idea[idea.id]:
                assert c.body_html in html, vector  # so is each comment (and the official answer)
            for message in messages[idea.id]:
                assert message in html, vector  # and each status message

    # The same content in every list, on the home page, the roadmap, search and suggestions.
    pages = {
        "list": "/ideas?limit=100",
        "list by new": "/ideas?sort=new&limit=100",
        "home": "/",
        "roadmap": "/roadmap",
        "search": "/ideas?q=alert&limit=100",
        "similar": "/ideas/similar?title=alert+script+onerror",
        "tag": f"/ideas?tag={service.slugify(_tag(VECTORS[0]))}",
    }
    seen: dict[str, str] = {}
    for name, url in pages.items():
        response = await anon.get(url)
        assert response.status_code == 200, name
        found = problems(response.text)
        assert not found, f"{name}: " + "; ".join(found)
        seen[name] = response.text
    for idea in ideas:
        assert str(escape(idea.title)) in seen["list"], idea.title
        assert str(escape(idea.title)) in seen["roadmap"], idea.title
    assert sum(str(escape(i.title)) in seen["search"] for i in ideas) >= 10
    assert "Similar ideas" in seen["similar"]

    # And in the API: JSON carries the text as it was written, and HTML only as sanitised.
    listing = (await anon.get("/api/v1/ideas?limit=100")).json()
    assert {item["title"] for item in listing["items"]} == {i.title for i in ideas}
    for idea in ideas[::3]:
        doc = (await anon.get(f"/api/v1/ideas/{idea.id}")).json()
        assert doc["title"] == idea.title
        assert not problems(doc["body_html"], allow_htmx_attributes=False)
        for step in doc["status_history"]:
            assert not problems(step["message_html"], allow_htmx_attributes=False)
        for c in (await anon.get(f"/api/v1/ideas/{idea.id}/comments")).json():
            assert not problems(c["body_html"], allow_htmx_attributes=False)


async def test_vectors_posted_through_the_forms_render_safely(anon: Client, browser: SignedIn) -> None:
    await make_board(slug="forms", name="Forms")
    member, _ = await browser()
    staff, _ = await browser(role="staff")
    for vector in [v for v in VECTORS if len(v) <= 140][::4]:
        response = await member.post_form(
            "/ideas/new", {"board": "forms", "title": _title(vector), "body": vector, "tags": _tag(vector)}
        )
        assert response.status_code == 303, (vector, response.text)
        idea = await Idea.get(title=_title(vector))
        response = await member.post_form(f"/ideas/{idea.id}/comments", {"body": vector})
        assert response.status_code == 303, vector
        response = await staff.post_form(f"/ideas/{idea.id}/status", {"status": "planned", "message": vector})
        assert response.status_code == 303, vector
        page = (await anon.get(response.headers["location"])).text
        _check_page(page, vector)
        assert str(escape(_title(vector))) in page, vector
        stored = await Comment.get(idea_id=idea.id)
        assert stored.body_md == vector.strip(), vector
        assert stored.body_html in page, vector
    for url in ("/ideas", "/roadmap", "/"):
        _check_page((await anon.get(url)).text, url)


async def test_search_text_and_similar_title_are_escaped(anon: Client) -> None:
    for vector in [v for v in VECTORS if len(v) <= 200]:
        response = await anon.get("/ideas", params={"q": vector})
        assert response.status_code == 200, vector
        _check_page(response.text, vector)
        assert f"Search: “{escape(vector.strip())}”" in response.text, vector
        response = await anon.get("/ideas/similar", params={"title": vector})
        assert response.status_code == 200, vector
        assert not problems(response.text), vector


async def test_bad_parameters_are_not_reflected_unescaped(anon: Client) -> None:
    for params in (
        {"sort": VECTORS[0]},
        {"status": VECTORS[2]},
        {"board": VECTORS[3]},
        {"cursor": VECTORS[1]},
    ):
        response = await anon.get("/ideas", params=params)
        assert response.status_code == 422, params
        _check_page(response.text, str(params))


async def test_forms_sent_back_with_errors_echo_the_input_escaped(browser: SignedIn) -> None:
    """A refused form shows what was typed again: the reflected copy must be as inert as the stored one."""
    await make_board(slug="forms", name="Forms")
    member, author = await browser()
    idea = await service.post_idea(actor=author, board="forms", title="An honest idea", body="")
    for vector in [v for v in VECTORS if len(v) <= 140][::2]:
        # No board chosen: the whole form comes back, with the title, body and tags as typed.
        response = await member.post_form(
            "/ideas/new", {"board": "", "title": vector, "body": vector, "tags": vector[:20]}
        )
        assert response.status_code == 422, vector
        _check_page(response.text, f"new idea form, {vector!r}")
        assert f'value="{escape(vector)}"' in response.text, vector
        assert f">{escape(vector)}</textarea>" in response.text, vector
        # The edit form, refused for a too-short title, shows the body again.
        response = await member.post_form(f"/ideas/{idea.id}/edit", {"title": "x", "body": vector})
        assert response.status_code == 422, vector
        _check_page(response.text, f"edit form, {vector!r}")
        assert f">{escape(vector)}</textarea>" in response.text, vector
    assert await Idea.all().count() == 1


async def test_edit_page_and_merge_notice_show_stored_vectors_escaped(
    anon: Client, browser: SignedIn
) -> None:
    board = await make_board()
    staff, staff_user = await browser(role="staff")
    target = await service.post_idea(actor=staff_user, board=board.id, title="The target", body="")
    for vector in [v for v in VECTORS if len(v) <= 140][1::4]:
        duplicate = await service.post_idea(
            actor=staff_user, board=board.id, title=_title(vector), body=vector
        )
        page = (await staff.get(f"/ideas/{duplicate.id}/edit")).text
        _check_page(page, f"edit page, {vector!r}")
        assert f'value="{escape(_title(vector))}"' in page, vector
        await service.merge(actor=staff_user, idea_id=duplicate.id, into=target.id)
        # The flash names the duplicate; the target lists it among merged duplicates.
        page = (await anon.get(f"/ideas/{duplicate.id}", follow_redirects=True)).text
        _check_page(page, f"merge notice, {vector!r}")
        assert f"“{escape(_title(vector))}” was merged into this idea." in page, vector
        assert f"#{duplicate.id} {escape(_title(vector))}" in page, vector
