"""Mail through a real SMTP server on 127.0.0.1 (aiosmtpd): what members receive, and what it does.

The portal writes outbox rows; `outbox.Worker` (what `hearken worker` runs) sends them with aiosmtplib.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from ideas import service as ideas
from portal import notifications, outbox
from portal.models import KeptMail, Notification, NotificationPreference, OutboxMessage, User
from portal.settings import Settings
from tests.browser import Client
from tests.factories import PASSWORD, make_idea, make_user
from tests.portal.conftest import AppBuilder
from tests.portal.smtp_server import Inbox, SMTPServer, html_of, text_of


@pytest.fixture
async def app_with_smtp(
    build_app: AppBuilder, smtp_server: SMTPServer, inbox: Inbox
) -> AsyncIterator[Starlette]:
    async with build_app(smtp_url=smtp_server.url, site_name="Acme Ideas") as app:
        yield app


def settings_of(app: Starlette) -> Settings:
    return app.state.settings


async def send(app: Starlette, at: datetime | None = None) -> int:
    clock = (lambda: at) if at is not None else (lambda: datetime.now(UTC))
    return await outbox.Worker(settings_of(app), clock=clock).drain()


def link(message: object, path: str) -> str:
    found = re.search(rf"http://testserver({re.escape(path)}/[A-Za-z0-9_.\-]+)", text_of(message))  # type: ignore[arg-type]
    assert found, text_of(message)  # type: ignore[arg-type]
    return found.group(1)


async def test_the_verification_mail(app_with_smtp: Starlette, inbox: Inbox) -> None:
    async with Client(app_with_smtp) as browser:
        await browser.post_form(
            "/auth/signup", {"email": "new@example.com", "name": "New Member", "password": "long enough pw"}
        )
        assert await send(app_with_smtp) == 1
        [message] = inbox.messages
        assert message["To"] == "new@example.com"
        assert message["From"] == "Acme Ideas <noreply@testserver>"
        assert message["Subject"] == "Confirm your address for Acme Ideas"
        assert message["Message-ID"] and message["Date"]
        assert message["List-Unsubscribe"] is None, "account mail is not a subscription"
        assert "Welcome to Acme Ideas" in text_of(message)
        assert "Confirm my address" in html_of(message)
        verify = link(message, "/auth/verify")
        assert verify in html_of(message)
        assert (await browser.post_form(verify)).status_code == 303
        assert (await browser.get("/api/v1/me")).json()["email"] == "new@example.com"
    assert (await User.get(email="new@example.com")).email_verified_at is not None
    assert await OutboxMessage.filter(sent_at=None).count() == 0
    assert await KeptMail.all().count() == 0, "with SMTP, nothing is kept"


async def test_the_password_reset_mail(app_with_smtp: Starlette, inbox: Inbox) -> None:
    user = await make_user(email="ann@example.com", verified=False)
    async with Client(app_with_smtp) as other_session:
        await other_session.sign_in_as(user)
        async with Client(app_with_smtp) as browser:
            response = await browser.post_form("/auth/reset", {"email": "ANN@example.com"})
            assert response.headers["location"] == "/auth/check-mail"
            await send(app_with_smtp)
            [message] = inbox.to("ann@example.com")
            assert message["Subject"] == "Choose a new password for Acme Ideas"
            reset = link(message, "/auth/reset")
            form = await browser.get(reset)
            assert form.status_code == 200 and 'name="password"' in form.text
            short = await browser.post_form(reset, {"password": "short"})
            assert short.status_code == 422, "a bad password does not use up the link"
            done = await browser.post_form(reset, {"password": "a brand new password"})
            assert done.status_code == 303
            assert (await browser.get("/api/v1/me")).json()["id"] == user.id
            used = await browser.get(reset)  # (also gives the browser its new session's form token)
            assert used.status_code == 400 and "used already" in used.text
            again = await browser.post_form(reset, {"password": "yet another password"})
            assert again.status_code == 400 and "used already" in again.text
        assert (await other_session.get("/api/v1/me")).status_code == 401, "other sessions end"
    changed = await User.get(id=user.id)
    assert changed.email_verified_at is not None, "the reset proved the address"
    async with Client(app_with_smtp) as browser:
        old = await browser.post_form("/auth/signin", {"email": user.email, "password": PASSWORD})
        assert old.status_code == 422
        await browser.sign_in(user.email, "a brand new password")


async def follower_and_idea(title: str = "Dark mode") -> tuple[User, User, int]:
    member = await make_user(email="fan@example.com", name="Fan")
    staff = await make_user(role="staff")
    idea = await make_idea(author=member, title=title)
    return member, staff, idea.id


async def test_a_status_change_is_mailed_to_followers(app_with_smtp: Starlette, inbox: Inbox) -> None:
    member, staff, idea_id = await follower_and_idea()
    await ideas.change_status(actor=staff, idea_id=idea_id, status="planned", message="Coming in **May**.")
    assert await Notification.filter(user_id=member.id, kind="status_changed").count() == 1
    await send(app_with_smtp)
    [message] = inbox.to("fan@example.com")
    assert message["Subject"] == "“Dark mode” is now Planned - Acme Ideas"
    text, html = text_of(message), html_of(message)
    assert "Coming in **May**." in text
    assert f"http://testserver/ideas/{idea_id}-dark-mode" in text
    assert f'href="http://testserver/ideas/{idea_id}-dark-mode"' in html
    assert "Acme Ideas" in html
    unsubscribe = message["List-Unsubscribe"]
    assert re.fullmatch(r"<http://testserver/unsubscribe/[^>]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text and unsubscribe[1:-1] in html
    # The staff member who changed it is not told about their own change.
    assert len(inbox.messages) == 1


async def test_one_click_unsubscribe_stops_that_kind_of_mail(app_with_smtp: Starlette, inbox: Inbox) -> None:
    member, staff, idea_id = await follower_and_idea()
    await ideas.change_status(actor=staff, idea_id=idea_id, status="under_review")
    await send(app_with_smtp)
    url = inbox.to("fan@example.com")[0]["List-Unsubscribe"][1:-1]
    async with Client(app_with_smtp) as browser:
        page = await browser.get(url)
        assert page.status_code == 200 and "Unsubscribe" in page.text
    assert not await NotificationPreference.exists(user_id=member.id), "opening the link changes nothing"
    # What a mail client does (RFC 8058): a POST with no cookie and no CSRF token.
    transport = httpx.ASGITransport(app=app_with_smtp)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as mail_client:
        response = await mail_client.post(url, content=b"List-Unsubscribe=One-Click", headers={
            "Content-Type": "application/x-www-form-urlencoded"
        })  # fmt: skip
        assert response.status_code == 200
        assert "An idea you follow changes status" in response.text
        again = await mail_client.post(url, data={"List-Unsubscribe": "One-Click"})
        assert again.status_code == 200 and "already" in again.text
    assert await notifications.mode_for(member.id, "status_changed") == "never"
    inbox.clear()
    await ideas.change_status(actor=staff, idea_id=idea_id, status="planned")
    await send(app_with_smtp)
    assert inbox.messages == []
    assert await Notification.filter(user_id=member.id).count() == 2, "the in-app list still has it"


async def test_a_tampered_unsubscribe_link_changes_nothing(app_with_smtp: Starlette) -> None:
    member = await make_user()
    transport = httpx.ASGITransport(app=app_with_smtp)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as mail_client:
        response = await mail_client.post("/unsubscribe/eyJ1IjoxLCJrIjoibWVudGlvbiJ9.forged.sig")
        assert response.status_code == 400 and "not valid" in response.text
    assert not await NotificationPreference.exists(user_id=member.id)


async def test_the_daily_digest(app_with_smtp: Starlette, inbox: Inbox) -> None:
    member, staff, first = await follower_and_idea("Dark mode")
    second = (await make_idea(author=member, title="Offline sync")).id
    async with Client(app_with_smtp) as browser:
        await browser.sign_in_as(member)
        await browser.get("/account/notifications")
        saved = await browser.post_form("/account/notifications", {"mode-status_changed": "digest"})
        assert saved.status_code == 303
    await ideas.change_status(actor=staff, idea_id=first, status="planned")
    await ideas.change_status(actor=staff, idea_id=second, status="under_review")
    await send(app_with_smtp)
    assert inbox.messages == [], "nothing at once"
    hour = settings_of(app_with_smtp).digest_hour
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(hour=hour, minute=5)
    assert await notifications.queue_digests(now=tomorrow, hour=hour) == 1
    assert await notifications.queue_digests(now=tomorrow + timedelta(hours=1), hour=hour) == 0
    await send(app_with_smtp, at=tomorrow)
    [digest] = inbox.to("fan@example.com")
    assert digest["Subject"] == "Your daily digest: 2 updates - Acme Ideas"
    text = text_of(digest)
    assert "“Dark mode” is now Planned" in text and "“Offline sync” is now Under review" in text
    assert f"http://testserver/ideas/{first}-dark-mode" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Unsubscribing from the digest stops every kind it carried.
    transport = httpx.ASGITransport(app=app_with_smtp)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as mail_client:
        response = await mail_client.post(
            digest["List-Unsubscribe"][1:-1], data={"List-Unsubscribe": "One-Click"}
        )
        assert response.status_code == 200
    assert await notifications.mode_for(member.id, "status_changed") == "never"
    assert await notifications.mode_for(member.id, "mention") == "instant", "kinds mailed at once stay"


async def test_a_refused_recipient_fails_for_good_and_a_busy_server_is_tried_again(
    app_with_smtp: Starlette, inbox: Inbox
) -> None:
    await make_user(email="gone@example.com")
    await make_user(email="later@example.com")
    await outbox.enqueue_mail("reset", user_id=(await User.get(email="gone@example.com")).id)
    inbox.refuse.add("gone@example.com")
    inbox.busy = 1
    await outbox.enqueue_mail("reset", user_id=(await User.get(email="later@example.com")).id)
    now = datetime.now(UTC)
    worker = outbox.Worker(settings_of(app_with_smtp), clock=lambda: now)
    await worker.drain()
    gone, later = await OutboxMessage.all().order_by("id")
    assert gone.failed_at is not None and gone.attempts == 1 and "550" in gone.last_error
    assert later.sent_at is None and later.failed_at is None and "451" in later.last_error
    assert later.available_at == now + timedelta(seconds=30)
    worker.clock = lambda: now + timedelta(seconds=31)
    await worker.drain()
    later = await OutboxMessage.get(id=later.id)
    assert later.sent_at is not None and later.attempts == 2
    assert [m["To"] for m in inbox.messages] == ["later@example.com"]
