"""Screenshots of the main pages, phone (390 x 844) and desktop (1280 x 800), for the README.

Written as {page}-{phone,desktop}.png to a scratch folder on every run (`make screenshots` writes
them to docs/screenshots/ instead), over the realistic community of tests/e2e/community.py (a
140-character title, five long tags, long names, empty states). Set
HEARKEN_SCREENSHOTS_FULL=DIR to also write whole-page shots there, to review a layout top to bottom.
Each page is also checked for what a picture would show wrong: content wider than the screen.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e import community
from tests.e2e.conftest import SCREENSHOTS, Pages, Server
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
FULL = os.environ.get("HEARKEN_SCREENSHOTS_FULL", "")


async def shoot(page: Page, name: str, size: str) -> None:
    # Nothing may be wider than the screen (a sideways scroll on a phone is a layout bug).
    overflow = await page.evaluate(
        """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""
    )
    assert overflow <= 0, f"{name} ({size}) is {overflow}px wider than the screen"
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await page.screenshot(path=SCREENSHOTS / f"{name}-{size}.png", animations="disabled", caret="hide")
    if FULL:
        await page.screenshot(path=Path(FULL) / f"{name}-{size}.png", full_page=True, animations="disabled")


async def test_screenshots_of_the_main_pages(server: Server, pages: Pages) -> None:
    people = await community.build()
    for folder in (SCREENSHOTS, *([Path(FULL)] if FULL else [])):
        folder.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        visitor = await pages.new(width=width, height=height)
        await visitor.goto("/auth/signin")
        await shoot(visitor, "signin", size)

        member = await pages.new(width=width, height=height)
        await sign_in(member, people.member.email)
        for name, path in [
            ("home", "/"),
            ("ideas", "/ideas"),
            ("idea", f"/ideas/{people.long_idea.id}"),
            ("roadmap", "/roadmap"),
            ("changelog", "/changelog"),
            ("insiders", "/insiders"),
            ("ideas-empty", "/ideas?q=teleportation"),
        ]:
            await member.goto(path)
            await shoot(member, name, size)
        await member.goto("/ideas/new")
        await member.get_by_label("Board").select_option(label="Reporting and analytics for finance teams")
        await member.get_by_label("Title").press_sequentially("Export reports", delay=10)
        await expect(member.locator("#similar li").first).to_be_visible()
        await shoot(member, "new-idea", size)

        newcomer = await pages.new(width=width, height=height)
        await sign_in(newcomer, people.newcomer.email)
        await newcomer.goto("/insiders")
        await shoot(newcomer, "insiders-empty", size)

        staff = await pages.new(width=width, height=height)
        await sign_in(staff, people.staff.email)
        await staff.goto("/staff/triage")
        await shoot(staff, "triage", size)
