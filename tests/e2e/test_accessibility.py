"""Accessibility in the browser: axe-core on every main page, and the keyboard alone.

axe-core (tests/e2e/vendor, from the npm package) runs the WCAG 2.x A/AA rules and its best
practices; any violation of impact serious or critical fails, with every node named. The keyboard
test votes and comments with Tab and Enter only, checking that focus is always visible and moves on.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from ideas.models import Idea
from tests.e2e import community
from tests.e2e.conftest import Pages, Server
from tests.e2e.helpers import axe_violations, describe, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def check_pages(page: Page, who: str, paths: list[str], found: dict[str, list]) -> None:  # type: ignore[type-arg]
    for path in paths:
        response = await page.goto(path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        violations = await axe_violations(page)
        if violations:
            found[f"{path} ({who})"] = violations


async def test_no_serious_or_critical_axe_violations_on_main_pages(server: Server, pages: Pages) -> None:
    people = await community.build()
    idea = f"/ideas/{people.long_idea.id}"
    found: dict[str, list] = {}  # type: ignore[type-arg]

    visitor = await pages.new()
    await check_pages(
        visitor,
        "visitor",
        [
            "/",
            "/ideas",
            idea,
            "/roadmap",
            "/changelog",
            "/auth/signin",
            "/auth/signup",
            "/ideas?q=nothing-matches",
        ],
        found,
    )
    member = await pages.new(width=390, height=844)  # the phone layout, signed in
    await sign_in(member, people.member.email)
    await check_pages(
        member, "member, phone", ["/", "/ideas", idea, "/ideas/new", "/insiders", "/notifications"], found
    )
    # The new-idea form with similar ideas suggested, and with errors shown.
    await member.goto("/ideas/new")
    await member.get_by_label("Title").press_sequentially("Export reports", delay=10)
    await expect(member.locator("#similar li").first).to_be_visible()
    if violations := await axe_violations(member):
        found["/ideas/new (similar ideas)"] = violations
    await member.get_by_role("button", name="Post idea").click()
    await expect(member.locator(".field-error").first).to_be_visible()
    if violations := await axe_violations(member):
        found["/ideas/new (errors)"] = violations

    newcomer = await pages.new()
    await sign_in(newcomer, people.newcomer.email)
    await check_pages(newcomer, "newcomer", ["/insiders"], found)
    staff = await pages.new()
    await sign_in(staff, people.staff.email)
    await check_pages(staff, "staff", ["/staff/triage", idea, "/staff/dashboard"], found)

    summary = {where: sorted({v["id"] for v in found[where]}) for where in found}
    assert not found, f"serious or critical axe violations: {summary}\n" + "\n".join(
        f"{path}: {describe(v)}" for path, v in found.items()
    )


async def focus_info(page: Page) -> dict:  # type: ignore[type-arg]
    """What has the focus, whether it shows (an outline of 2px or more), and the outline's colour."""
    return await page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName,
                text: (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 80),
                name: el.getAttribute('name'), id: el.id,
                card: el.closest('article.idea-card') ? el.closest('article.idea-card').id : null,
                visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
                outline: style.outlineColor,
                body: el === document.body,
            };
        }"""
    )


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored)."""

    def luminance(css: str) -> float:
        r, g, b = (int(float(v)) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def tab_to(page: Page, predicate, limit: int = 80) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Presses Tab until `predicate(focus_info)`; every stop on the way must show its focus."""
    seen: list[dict] = []  # type: ignore[type-arg]
    for _ in range(limit):
        await page.keyboard.press("Tab")
        info = await focus_info(page)
        seen.append(info)
        if not info["body"]:
            assert info["visible"], f"focus is not visible on {info}"
            # WCAG 1.4.11: the ring contrasts 3:1 with the lightest background it may sit on.
            assert contrast(info["outline"], "rgb(255, 255, 255)") >= 3, f"faint focus ring on {info}"
        if predicate(info):
            return seen
    raise AssertionError(f"never reached the control in {limit} tabs; went through {seen}")


async def test_keyboard_only_vote_and_comment(server: Server, pages: Pages) -> None:
    people = await community.build()
    page = await pages.new()
    await sign_in(page, people.newcomer.email)

    # Vote for an idea from the list: Tab to its button, Enter.
    dark = await Idea.get(title="Dark mode")
    await page.goto("/ideas?sort=new")
    await tab_to(page, lambda f: f["card"] == f"idea-{dark.id}" and f["tag"] == "BUTTON")
    assert (await focus_info(page))["text"] == "Vote for this idea, 0 votes"
    await page.keyboard.press("Enter")
    voted = page.locator(f"#idea-{dark.id}").get_by_role("button", name="Remove your vote, 1 vote")
    await expect(voted).to_be_visible()
    # htmx replaced the button: the focus stays on it, and Tab goes on to the next control.
    after = await focus_info(page)
    assert after["text"] == "Remove your vote, 1 vote", f"the focus was lost after voting: {after}"
    await page.keyboard.press("Tab")
    assert not (await focus_info(page))["body"]

    # No trap: Tab goes through the whole page and wraps to the top.
    stops = await tab_to(page, lambda f: f["text"] == "Skip to content", limit=200)
    assert len(stops) > 3

    # Comment on an idea with the keyboard alone: skip link, then Tab to the comment form.
    await page.goto(f"/ideas/{people.planned.id}")
    await page.keyboard.press("Tab")
    assert (await focus_info(page))["text"] == "Skip to content"
    await tab_to(page, lambda f: f["id"] == "comment-body")
    await page.keyboard.type("Typed with the keyboard alone.")
    await tab_to(page, lambda f: f["tag"] == "BUTTON" and f["text"] == "Comment")
    await page.keyboard.press("Enter")
    await expect(
        page.locator("article.comment").filter(has_text="Typed with the keyboard alone.")
    ).to_be_visible()
