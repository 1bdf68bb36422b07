"""Script injection, seen by a real browser: hostile titles, bodies, comments, tags, names and status
messages are shown as text; no dialog opens, no script error is raised, and no request leaves for a
URL that a payload named (another host, or one of our own endpoints that an htmx attribute aimed at).

The payloads are the ideas suite's corpus (tests/ideas/xss_vectors.py) plus ones that name URLs, so
that a payload which got through would show up as a request, not only as a dialog.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from ideas import comments, service
from ideas.models import Idea
from portal.models import User
from tests import factories
from tests.e2e.conftest import Pages, Server
from tests.e2e.helpers import sign_in
from tests.ideas.xss_vectors import VECTORS

pytestmark = pytest.mark.asyncio(loop_scope="session")

EVIL = "http://evil.example"
# Our own endpoints that payloads aim at; the browser must never request them on its own.
AIMED_AT = ("/api/v1/me", "/auth/signout", "/follow", "/unvote", "/api/v1/ideas")
NAMING_URLS: tuple[str, ...] = (
    f'<img src="{EVIL}/img.png">',
    f'<img src="/media/x.png" srcset="{EVIL}/srcset.png 1x">',
    f"![pixel]({EVIL}/pixel.png)",
    "![up](/media/../api/v1/me)",
    f'<script src="{EVIL}/script.js"></script>',
    f'<link rel="stylesheet" href="{EVIL}/style.css">',
    f"<style>@import url({EVIL}/import.css);</style>",
    f'<p style="background:url({EVIL}/bg.png)">styled</p>',
    f'<iframe src="{EVIL}/frame"></iframe>',
    f'<object data="{EVIL}/object"></object>',
    f'<embed src="{EVIL}/embed">',
    f'<video poster="{EVIL}/poster.png" src="{EVIL}/video.mp4"></video>',
    f'<svg><image href="{EVIL}/svg.png"/></svg>',
    f'<input type="image" src="{EVIL}/input.png">',
    f'<meta http-equiv="refresh" content="0;url={EVIL}/refresh">',
    f'<base href="{EVIL}/">',
    f'<div hx-get="{EVIL}/htmx" hx-trigger="load">htmx</div>',
    '<div hx-get="/api/v1/me" hx-trigger="load" hx-target="body">htmx</div>',
    '<form hx-post="/auth/signout" hx-trigger="load"><button>x</button></form>',
    '<div data-hx-post="/api/v1/ideas" data-hx-trigger="load">htmx</div>',
    '<div hx-on:htmx:load="alert(1)" hx-on::load="alert(2)">hx-on</div>',
    '<div hx-trigger="load" hx-get="/ideas/1/unvote" hx-vals=\'{"x": 1}\'>htmx</div>',
    f'<a href="{EVIL}/link" hx-boost="true">a link is fine, if nobody clicks it</a>',
)
PAYLOADS = VECTORS + NAMING_URLS


def title_for(payload: str, n: int) -> str:
    """A title of 5 to 140 characters that carries the payload."""
    return (payload.replace("\n", " ") + f" #{n}").strip()[-140:].rjust(5, "x")


async def assert_inert(page: Page, pages: Pages, where: str) -> None:
    """Nothing in the page's main part is live markup from a payload, and nothing ran or left."""
    live = await page.evaluate(
        """() => {
            const USER_CONTENT = '.prose, .idea-title, .idea-page-title, .roadmap-title, .comment-head, '
                + '.tags, .similar li, .notification > p:first-child, .timeline, .breadcrumb';
            const main = document.querySelector('main');
            const bad = [];
            const LIVE = 'script, iframe, object, embed, base, meta, link, style, video, '
                + 'input[type=image], svg image';
            for (const el of main.querySelectorAll(LIVE)) {
                bad.push(el.outerHTML.slice(0, 120));
            }
            for (const el of main.querySelectorAll('*')) {
                for (const a of el.attributes) {
                    const user = el.closest(USER_CONTENT);
                    if (/^on/i.test(a.name) || (user && /^(data-)?hx-/i.test(a.name))
                        || (user && /^\\s*(javascript|vbscript|data):/i.test(a.value))) {
                        bad.push(el.outerHTML.slice(0, 120));
                    }
                }
            }
            return bad;
        }"""
    )
    assert not live, f"{where}: live markup from a payload: {live}"
    assert not pages.dialogs, f"{where}: dialogs opened: {pages.dialogs}"
    assert not pages.errors, f"{where}: script errors: {pages.errors}"
    assert not pages.foreign_requests, f"{where}: requests left for {pages.foreign_requests}"
    aimed = [r for r in pages.requests if any(r.split(" ", 1)[1].endswith(path) for path in AIMED_AT)]
    assert not aimed, f"{where}: requests a payload aimed at: {aimed}"


async def test_hostile_content_is_shown_as_text(server: Server, pages: Pages) -> None:
    board = await factories.make_board(slug="web", name="Web <b>app</b>")
    staff = await factories.make_user(role="staff", name="Staff <img src=x onerror=alert(1)>")
    hostile = await factories.make_user(name='"><script>alert("name")</script>')
    member = await factories.make_user(name="Reader")
    # Ideas whose titles, bodies and tags are payloads; the reader follows them all.
    ideas: list[Idea] = []
    for n, payload in enumerate(PAYLOADS):
        idea = await service.post_idea(
            actor=hostile,
            board=board.id,
            title=title_for(payload, n),
            body=payload,
            tags=["<svg onload=alert(1)>", 'x" onmouseover="alert(1)'] if n % 7 == 0 else None,
        )
        ideas.append(idea)
    target = ideas[0]
    for n, payload in enumerate(PAYLOADS):
        await comments.post_comment(actor=hostile if n % 2 else member, idea_id=target.id, body=payload)
    for idea in ideas[:4]:
        await service.follow(actor=member, idea_id=idea.id)
    await service.change_status(actor=staff, idea_id=target.id, status="planned", message=PAYLOADS[2])
    await service.change_status(
        actor=staff, idea_id=ideas[1].id, status="under_review", message=NAMING_URLS[-6]
    )
    await service.change_status(actor=staff, idea_id=ideas[2].id, status="shipped", message=NAMING_URLS[2])

    page = await pages.new()
    await sign_in(page, member.email)
    for path in ("/", "/ideas?sort=new", "/roadmap", "/notifications", f"/ideas/{target.id}"):
        await page.goto(path)
        await page.wait_for_load_state("networkidle")
        await assert_inert(page, pages, path)

    # Titles are text: the heading says exactly what was typed.
    await expect(page.get_by_role("heading", level=1)).to_have_text(target.title)
    await expect(page.locator("article.comment")).to_have_count(len(PAYLOADS))
    # Every payload was a comment above; as an idea's body (the same Markdown pipeline) and title,
    # the first few and every one that names a URL (the rest would only repeat the comments).
    for idea in ideas[1:5] + ideas[len(VECTORS) :]:
        await page.goto(f"/ideas/{idea.id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(idea.title)
    await page.wait_for_load_state("networkidle")
    await assert_inert(page, pages, "idea pages")

    # The similar-ideas fragment (swapped in by htmx) carries hostile titles too.
    await page.goto("/ideas/new")
    await page.get_by_label("Title").press_sequentially("script alert", delay=10)
    await expect(page.locator("#similar li").first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    await assert_inert(page, pages, "similar ideas")

    # Staff see the same content with their panels (triage, voters), still as text.
    desk = await pages.new()
    await sign_in(desk, staff.email)
    for path in ("/staff/triage", f"/ideas/{target.id}", f"/ideas/{target.id}/voters"):
        await desk.goto(path)
        await desk.wait_for_load_state("networkidle")
        await assert_inert(desk, pages, f"{path} (staff)")
    assert await User.filter(id=member.id).exists()
