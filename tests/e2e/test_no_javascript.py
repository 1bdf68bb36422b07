"""The core journey with JavaScript switched off: read, post, vote, comment, follow, change status.

Every action is a plain form that posts and redirects (htmx attributes are inert without script).
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from ideas.models import Idea
from tests import factories
from tests.e2e.conftest import Pages, Server
from tests.e2e.helpers import card, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_core_journey_without_javascript(server: Server, pages: Pages) -> None:
    board = await factories.make_board(slug="api", name="API & integrations")
    author = await factories.make_user(name="Olga Older")
    await factories.make_idea(
        board=board,
        author=author,
        title="Webhooks for every event",
        body="Push, don't poll.",
        tags="webhooks",
    )
    member = await factories.make_user(name="Noah No-Script")
    staff = await factories.make_user(role="staff", name="Priya Product")

    # A visitor reads the list and an idea.
    page = await pages.new(javascript=False)
    await page.goto("/ideas")
    await page.get_by_role("link", name="Webhooks for every event").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Webhooks for every event")
    await expect(page.locator(".prose")).to_contain_text("Push, don't poll.")

    # The member signs in and posts an idea.
    await sign_in(page, member.email)
    await page.goto("/ideas/new")
    await page.get_by_label("Board").select_option(label="API & integrations")
    await page.get_by_label("Title").fill("Retry failed webhook deliveries")
    await page.get_by_label("Description").fill("With exponential backoff, please.")
    await page.get_by_role("button", name="Post idea").click()
    await expect(page.locator(".flash-success")).to_contain_text("Your idea is posted")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Retry failed webhook deliveries")
    mine = await Idea.get(title="Retry failed webhook deliveries")

    # Votes from the list: the form posts, and the redirect comes back to the list.
    await page.goto("/ideas?sort=new")
    webhooks = card(page, "Webhooks for every event")
    await webhooks.get_by_role("button", name="Vote for this idea, 0 votes").click()
    await expect(page).to_have_url(server("/ideas?sort=new"))
    await expect(
        card(page, "Webhooks for every event").get_by_role("button", name="Remove your vote, 1 vote")
    ).to_be_visible()
    # ... and takes it back.
    await (
        card(page, "Webhooks for every event").get_by_role("button", name="Remove your vote, 1 vote").click()
    )
    await expect(
        card(page, "Webhooks for every event").get_by_role("button", name="Vote for this idea, 0 votes")
    ).to_be_visible()
    await (
        card(page, "Webhooks for every event")
        .get_by_role("button", name="Vote for this idea, 0 votes")
        .click()
    )

    # Comments and follows on the idea page.
    await card(page, "Webhooks for every event").get_by_role("link", name="Webhooks for every event").click()
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("button", name="Following")).to_be_visible()
    await page.get_by_label("Add a comment").fill("Signed payloads would be great too.")
    await page.get_by_role("button", name="Comment", exact=True).click()
    await expect(
        page.locator("article.comment").filter(has_text="Signed payloads would be great too.")
    ).to_be_visible()
    await expect(page.locator("#comments-h")).to_contain_text("(1)")
    # A reply opens from a <details> element, which needs no script either.
    await page.locator("article.comment summary").filter(has_text="Reply").first.click()
    await page.get_by_label("Your reply").fill("Replying without JavaScript.")
    await page.get_by_role("button", name="Reply", exact=True).click()
    await expect(page.locator(".replies")).to_contain_text("Replying without JavaScript.")

    # Staff change the status of the member's idea, with a message.
    desk = await pages.new(javascript=False)
    await sign_in(desk, staff.email)
    await desk.goto(f"/ideas/{mine.id}")
    await change_status(desk, "Under review", "We are looking into retries.")
    await change_status(desk, "Planned", "Planned for next quarter.")

    # The member reads the result: the badge, the history and the roadmap.
    await page.goto(f"/ideas/{mine.id}")
    await expect(page.locator(".idea-meta .status-badge").first).to_have_text("Planned")
    await expect(page.locator(".timeline")).to_contain_text("Planned for next quarter.")
    await page.goto("/roadmap")
    await expect(page.locator("section.roadmap-col[aria-labelledby='col-planned']")).to_contain_text(
        "Retry failed webhook deliveries"
    )
    await page.goto("/notifications")
    await expect(page.locator(".notification").first).to_contain_text("Retry failed webhook deliveries")
    # No script ran: htmx would have fetched the notification bell after every page.
    assert not [r for r in pages.requests if "/notifications/bell" in r], pages.requests


async def change_status(page: Page, status: str, message: str) -> None:
    panel = page.locator("section.staff-panel")
    await panel.get_by_label("New status").select_option(label=status)
    await panel.get_by_label("Public message").fill(message)
    await panel.get_by_role("button", name="Change status").click()
    await expect(page.locator(".idea-meta .status-badge").first).to_have_text(status)
    await expect(page.locator(".timeline")).to_contain_text(message)
