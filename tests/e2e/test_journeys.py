"""End-to-end journeys in a real browser, with JavaScript (htmx) on.

A newcomer signs up, confirms the address from the mail, posts an idea (similar ideas are suggested
while typing), votes from the list without a reload, comments and follows; staff answer officially,
plan and ship the idea with messages and merge a duplicate into it; the member sees it all. An
insider sees points and tier, claims a deal and joins an early-access program.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from ideas.models import Idea
from portal.models import User
from rewards import ledger, perks
from tests import factories
from tests.e2e.conftest import Mailbox, Pages, Server, unique_email
from tests.e2e.helpers import card, htmx_settled, mark_document, same_document, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def sign_up_and_confirm(page: Page, mailbox: Mailbox, email: str, name: str) -> None:
    await page.goto("/")
    await page.locator(".account-nav").get_by_role("link", name="Sign up").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Name shown on your posts").fill(name)
    await page.get_by_label("Password").fill("a long enough password")
    await page.get_by_role("button", name="Sign up").click()
    await expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    await expect(page.locator("main")).to_contain_text(email)

    mail = await mailbox.wait_for(email, subject="Confirm")
    await page.goto(mailbox.link(mail, "/auth/verify/"))
    await expect(page.locator("main")).to_contain_text(email)
    await page.get_by_role("button", name="Confirm my address").click()
    await expect(page.locator(".flash-success")).to_contain_text("is confirmed")
    await expect(page.locator(".account-nav")).to_contain_text(name)


async def test_newcomer_posts_votes_comments_follows_and_staff_answer(
    server: Server, pages: Pages, mailbox: Mailbox
) -> None:
    board = await factories.make_board(slug="web", name="Web app")
    older = await factories.make_user(name="Olga Older")
    export = await factories.make_idea(
        board=board, author=older, title="Export reports to CSV", body="For the accountants.", vote_count=0
    )
    duplicate = await factories.make_idea(
        board=board, author=older, title="Dark theme please", body="Easier on the eyes at night."
    )
    staff = await factories.make_user(role="staff", name="Priya Product")

    # A newcomer signs up and confirms the address from the mail.
    member_email = unique_email("newcomer")
    page = await pages.new()
    await sign_up_and_confirm(page, mailbox, member_email, "Nina Newcomer")

    # Posts an idea; while the title is typed, similar ideas are suggested.
    await page.get_by_role("link", name="Ideas", exact=True).first.click()
    await page.locator("main").get_by_role("link", name="Post an idea").click()
    await page.get_by_label("Board").select_option(label="Web app")
    await page.get_by_label("Title").press_sequentially("Export reports", delay=20)
    suggestion = page.locator("#similar").get_by_role("link", name="Export reports to CSV")
    await expect(suggestion).to_be_visible()
    await page.get_by_label("Title").fill("A dark mode for the whole app")
    await page.get_by_label("Description").fill("Our team works late; a **dark mode** would help.")
    await page.get_by_label("Tags").fill("design, accessibility")
    await page.get_by_role("button", name="Post idea").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("A dark mode for the whole app")
    await expect(page.locator(".prose strong")).to_have_text("dark mode")
    mine = await Idea.get(title="A dark mode for the whole app")

    # Votes from the list: htmx swaps the button, the count changes and the page does not reload.
    await page.goto("/ideas?sort=new")
    await mark_document(page)
    export_card = card(page, "Export reports to CSV")
    vote = export_card.get_by_role("button", name="Vote for this idea, 0 votes")
    await vote.click()
    await expect(export_card.get_by_role("button", name="Remove your vote, 1 vote")).to_be_visible()
    await expect(export_card.locator(".vote-count")).to_have_text("1")
    assert await same_document(page), "voting reloaded the page"
    await htmx_settled(page)
    assert (await Idea.get(id=export.id)).vote_count == 1

    # Follows the other idea (htmx, no reload) and comments on it.
    await export_card.get_by_role("link", name="Export reports to CSV").click()
    await expect(page.locator(".follow")).to_contain_text("1 follower")  # its author
    await mark_document(page)
    await page.get_by_role("button", name="Follow", exact=True).click()
    await expect(page.get_by_role("button", name="Following")).to_have_attribute("aria-pressed", "true")
    assert await same_document(page), "following reloaded the page"
    await expect(page.locator(".follow")).to_contain_text("2 followers")
    await page.get_by_label("Add a comment").fill("We need this for the **monthly** close.")
    await page.get_by_role("button", name="Comment", exact=True).click()
    comment = page.locator("article.comment").filter(has_text="We need this for the monthly close.")
    await expect(comment).to_be_visible()
    await expect(comment).to_contain_text("Nina Newcomer")

    # Staff answer the member's idea officially, plan it, ship it, and merge a duplicate into it.
    desk = await pages.new()
    await sign_in(desk, staff.email)
    await desk.goto(f"/ideas/{mine.id}")
    await desk.get_by_label("Add a comment").fill("Thank you! We are looking at a dark theme.")
    await desk.get_by_role("button", name="Comment", exact=True).click()
    staff_comment = desk.locator("article.comment").filter(has_text="We are looking at a dark theme.")
    await expect(staff_comment.locator(".badge-staff")).to_have_text("Staff")
    await staff_comment.get_by_role("button", name="Pin as official response").click()
    official = desk.locator("section.official")
    await expect(official).to_contain_text("We are looking at a dark theme.")

    await change_status(desk, "Planned", "Planned for the spring release.")

    # The member sees the notification, the history and the roadmap column.
    member = await User.get(email=member_email)
    await mailbox.wait_for(member_email, subject="planned")
    await page.goto("/notifications")
    notification = page.locator(".notification").filter(has_text="A dark mode for the whole app")
    await expect(notification.first).to_be_visible()
    await notification.first.get_by_role("link").click()
    await expect(page.locator("section.official")).to_contain_text("We are looking at a dark theme.")
    history = page.locator(".timeline")
    await expect(history).to_contain_text("Planned")
    await expect(history).to_contain_text("Planned for the spring release.")
    await page.goto("/roadmap")
    await expect(roadmap_column(page, "planned")).to_contain_text("A dark mode for the whole app")

    await desk.goto(f"/ideas/{mine.id}")
    await change_status(desk, "Shipped", "Shipped today: try it under Settings → Appearance.")
    await desk.goto(f"/ideas/{duplicate.id}")
    await desk.get_by_label("Merge into idea #").fill(str(mine.id))
    await desk.get_by_role("button", name="Merge", exact=True).click()
    await expect(desk.get_by_role("heading", level=1)).to_have_text("A dark mode for the whole app")
    await expect(desk.locator(".merged-list")).to_contain_text("Dark theme please")

    await page.goto("/roadmap")
    await expect(roadmap_column(page, "shipped")).to_contain_text("A dark mode for the whole app")
    await expect(roadmap_column(page, "planned")).not_to_contain_text("A dark mode for the whole app")
    await page.goto(f"/ideas/{mine.id}")
    await expect(history).to_contain_text("Shipped today: try it under Settings → Appearance.")
    await expect(page.locator(".merged-list")).to_contain_text("Dark theme please")
    await page.goto("/notifications")
    await expect(page.locator(".notification").filter(has_text="hipped").first).to_be_visible()
    assert member.email_verified_at is not None


async def change_status(page: Page, status: str, message: str) -> None:
    panel = page.locator("section.staff-panel")
    await panel.get_by_label("New status").select_option(label=status)
    await panel.get_by_label("Public message").fill(message)
    await panel.get_by_role("button", name="Change status").click()
    await expect(page.locator(".idea-meta .status-badge").first).to_have_text(status)
    await expect(page.locator(".timeline")).to_contain_text(message)


def roadmap_column(page: Page, key: str):  # type: ignore[no-untyped-def]
    return page.locator(f"section.roadmap-col[aria-labelledby='col-{key}']")


async def test_insider_sees_points_claims_a_deal_and_joins_a_program(server: Server, pages: Pages) -> None:
    cm = await factories.make_user(role="community_manager")
    insider = await factories.make_user(name="Ines Insider")
    await ledger.grant(actor=cm, user_id=insider.id, points=250, reason="Welcome to the insiders")
    deal = await perks.create_perk(
        actor=cm,
        data={
            "kind": "deal",
            "title": "Half price for a year",
            "description": "50 % off the Pro plan for twelve months.",
            "codes": "HALF-AAAA-1111\nHALF-BBBB-2222",
            "min_tier": "insider",
        },
    )
    program = await perks.create_perk(
        actor=cm,
        data={
            "kind": "early_access",
            "title": "Offline beta",
            "description": "Try offline mode before anyone else.",
            "capacity": 5,
        },
    )

    page = await pages.new()
    await sign_in(page, insider.email)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Insiders").click()
    stats = page.locator("section[aria-labelledby='points-h']")
    await expect(stats.locator(".stat").filter(has_text="Lifetime points")).to_contain_text("250")
    await expect(stats.locator(".stat").filter(has_text="Tier")).to_contain_text("Insider")
    await expect(page.locator(".points-table")).to_contain_text("Welcome to the insiders")

    offer = page.locator(f"#perk-{deal.id}")
    await offer.get_by_role("button", name="Half price for a year").click()
    await expect(page.locator(f"#perk-{deal.id} .perk-code, .flash-success")).not_to_have_count(0)
    codes = page.locator("code.perk-code")
    await expect(codes.first).to_have_text("HALF-AAAA-1111")
    await page.goto("/insiders")
    await expect(page.locator("section[aria-labelledby='claims-h']")).to_contain_text("HALF-AAAA-1111")

    await page.locator(f"#perk-{program.id}").get_by_role("button", name="Offline beta").click()
    await page.goto("/insiders")
    programs = page.locator("section[aria-labelledby='programs-h']")
    await expect(programs).to_contain_text("Offline beta")
    await expect(programs).to_contain_text("You're in")
