"""Notifications (portal/notifications.py, portal/notification_routes.py, portal/mail_routes.py): the
choice of e-mail per kind, the in-app list and bell (HTML, htmx and JSON), and /staff/mail."""

from __future__ import annotations

import re

from portal import notifications
from portal.models import Notification, NotificationPreference, OutboxMessage, User
from portal.settings import Settings
from tests.browser import Client
from tests.factories import make_user
from tests.portal.conftest import deliver_mail

HX = {"HX-Request": "true"}


async def tell(users: list[User], cause: str, kind: str = "status_changed", title: str = "News") -> int:
    return await notifications.notify(
        [u.id for u in users], kind=kind, title=title, url="/ideas/1-x", cause=cause
    )


async def test_each_member_gets_mail_as_they_chose(client: Client) -> None:
    instant, digest, never = [await make_user() for _ in range(3)]
    await NotificationPreference.create(user=digest, kind="status_changed", mode="digest")
    await NotificationPreference.create(user=never, kind="status_changed", mode="never")
    assert await tell([instant, digest, never], "status:1") == 3
    assert await tell([instant, digest, never], "status:1") == 0, "a replayed cause tells nobody twice"
    mails = await OutboxMessage.filter(channel="email").values_list("payload", flat=True)
    assert [p["user_id"] for p in mails] == [instant.id]
    pending = await Notification.filter(digest_pending=True).values_list("user_id", flat=True)
    assert pending == [digest.id]
    assert await Notification.all().count() == 3, "everyone has it in the list"


async def test_the_bell_counts_unread_notifications(client: Client) -> None:
    user = await make_user()
    await tell([user], "a")
    await tell([user], "b")
    await client.sign_in_as(user)
    page = await client.get("/")
    assert 'id="bell"' in page.text and 'hx-get="/notifications/bell"' in page.text
    assert 'href="/notifications"' in page.text, "without JavaScript the bell is a link"
    bell = await client.get("/notifications/bell", headers=HX)
    assert bell.status_code == 200
    assert 'data-unread="2"' in bell.text
    assert bell.headers["cache-control"] == "no-store"
    assert "<html" not in bell.text


async def test_the_bell_of_a_visitor_is_empty(anon: Client) -> None:
    response = await anon.get("/notifications/bell", headers=HX)
    assert response.status_code == 200 and "data-unread" not in response.text
    assert (await anon.get("/notifications")).status_code == 303


async def test_marking_read_with_and_without_htmx(client: Client) -> None:
    user = await make_user()
    await tell([user], "a", title="First")
    await tell([user], "b", title="Second")
    first, second = await Notification.filter(user=user).order_by("id")
    await client.sign_in_as(user)
    page = await client.get("/notifications")
    assert "First" in page.text and "Second" in page.text and "2 unread" in page.text
    fragment = await client.post_form(f"/notifications/{first.id}/read", headers=HX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith(f'<li id="notification-{first.id}"')
    assert "Mark read" not in fragment.text
    assert fragment.headers["hx-trigger"] == "notifications-changed"
    plain = await client.post_form(f"/notifications/{second.id}/read")
    assert (plain.status_code, plain.headers["location"]) == (303, "/notifications")
    assert await notifications.unread_count(user) == 0


async def test_someone_elses_notification_is_not_found(client: Client) -> None:
    owner, other = await make_user(), await make_user()
    await tell([owner], "a")
    item = await Notification.get(user=owner)
    await client.sign_in_as(other)
    await client.get("/notifications")
    assert (await client.post_form(f"/notifications/{item.id}/read")).status_code == 404
    assert (await Notification.get(id=item.id)).read_at is None


async def test_mark_all_read_and_the_json_twins(client: Client) -> None:
    user = await make_user()
    for n in range(3):
        await tell([user], f"c{n}", title=f"Item {n}")
    await client.sign_in_as(user)
    body = (await client.api("GET", "/api/v1/notifications")).json()
    assert body["unread"] == 3
    assert [i["title"] for i in body["items"]] == ["Item 2", "Item 1", "Item 0"]
    assert set(body["items"][0]) == {"id", "kind", "title", "body", "url", "created_at", "read"}
    one = await client.api("POST", f"/api/v1/notifications/{body['items'][0]['id']}/read")
    assert one.json()["read"] is True
    assert (await client.api("POST", "/api/v1/notifications/read-all")).json() == {"marked": 2}
    await client.get("/notifications")
    assert (await client.post_form("/notifications/read-all")).status_code == 303
    assert "0 unread" in (await client.get("/notifications")).text


async def test_the_preferences_page(client: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    page = await client.get("/account/notifications")
    for kind in notifications.kinds():
        assert f'<label for="mode-{kind.key}">{kind.label}</label>' in page.text
    assert len(re.findall(r'<option value="instant" selected>', page.text)) == len(notifications.kinds())
    saved = await client.post_form(
        "/account/notifications", {"mode-mention": "never", "mode-changelog": "digest"}
    )
    assert saved.status_code == 303
    assert await notifications.mode_for(user.id, "mention") == "never"
    assert await notifications.mode_for(user.id, "changelog") == "digest"
    assert await notifications.mode_for(user.id, "status_changed") == "instant"
    bad = await client.post_form("/account/notifications", {"mode-mention": "hourly"})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text
    assert await notifications.mode_for(user.id, "mention") == "never"


async def test_kept_mail_is_for_admins_to_read(client: Client, settings: Settings) -> None:
    member = await make_user(email="m@example.com", verified=False)
    await client.sign_in_as(member)
    await client.get("/account")
    await client.post_form("/account/verify")
    [kept] = await deliver_mail(settings)
    assert (await client.get("/staff/mail")).status_code == 403
    staff = await make_user(role="staff")
    await client.sign_in_as(staff)
    assert (await client.get(f"/staff/mail/{kept.id}")).status_code == 403, "links in it sign in as others"
    await client.sign_in_as(await make_user(role="admin"))
    listing = await client.get("/staff/mail")
    assert listing.status_code == 200 and "m@example.com" in listing.text and "0 waiting" in listing.text
    message = await client.get(f"/staff/mail/{kept.id}")
    assert message.status_code == 200
    assert "/auth/verify/" in message.text and 'sandbox srcdoc="' in message.text
