"""The staff audit log page, GET /staff/audit (ideas/admin_routes.py)."""

from __future__ import annotations

import re

import pytest

from portal import audit
from portal.models import AuditEntry
from tests.browser import Client
from tests.factories import make_user


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="audit-(\d+)">', html)]


@pytest.mark.parametrize("role", ["staff", "admin"])
async def test_staff_read_the_log_newest_first(client: Client, role: str) -> None:
    moderator = await make_user(role="staff", name="Maya Moderator")
    await audit.record(moderator, "idea.hide", kind="idea", object_id=42, reason="Spam <b>link</b>")
    await audit.record(moderator, "board.create", kind="board", object_id=3, slug="api")
    await audit.record(None, "counters.repair")
    await client.sign_in_as(await make_user(role=role))

    page = await client.get("/staff/audit")

    assert page.status_code == 200
    html = page.text
    ids = _rows(html)
    assert len(ids) == 3
    assert ids == sorted(ids, reverse=True)
    first, second, third = await AuditEntry.all().order_by("id")
    assert ids == [third.id, second.id, first.id]
    assert "Maya Moderator" in html
    assert "<code>idea.hide</code>" in html
    assert '<a href="/ideas/42">idea #42</a>' in html
    assert "board #3" in html
    assert 'href="/ideas/3"' not in html  # only ideas are linked
    assert "reason: Spam &lt;b&gt;link&lt;/b&gt;" in html  # escaped, never markup
    assert "slug: api" in html
    assert "system" in html  # an entry with no actor
    assert f'datetime="{first.created_at.isoformat()}"' in html
    assert "Older entries" not in html


async def test_community_managers_read_the_rewards_actions_only(client: Client) -> None:
    """They run the rewards programme, not the boards: the rest of the log names private boards, why
    content was hidden and the addresses of customers whose votes staff recorded."""
    moderator = await make_user(role="staff")
    await audit.record(moderator, "idea.hide", kind="idea", object_id=42, reason="Leaked roadmap")
    await audit.record(moderator, "vote.on_behalf", kind="idea", object_id=42, customer="ceo@client.example")
    await audit.record(moderator, "board.create", kind="board", object_id=3, slug="secret-board")
    manager = await make_user(role="community_manager")
    await audit.record(manager, "perk.create", kind="perk", object_id=7, title="Early beta")
    await audit.record(manager, "rewards.tier", kind="user", object_id=5, tier="insider")
    await client.sign_in_as(manager)
    html = (await client.get("/staff/audit")).text
    assert "<code>perk.create</code>" in html and "<code>rewards.tier</code>" in html
    assert len(_rows(html)) == 2
    for secret in ("Leaked roadmap", "ceo@client.example", "secret-board", "idea.hide"):
        assert secret not in html


async def test_pages_of_fifty_with_keyset_paging(client: Client) -> None:
    actor = await make_user(role="staff")
    for n in range(120):
        await audit.record(actor, "idea.tag", kind="idea", object_id=n)
    all_ids = [e.id for e in await AuditEntry.all().order_by("-id")]
    await client.sign_in_as(actor)

    first = await client.get("/staff/audit")
    assert _rows(first.text) == all_ids[:50]
    assert f'href="/staff/audit?before={all_ids[49]}"' in first.text

    second = await client.get(f"/staff/audit?before={all_ids[49]}")
    assert _rows(second.text) == all_ids[50:100]

    third = await client.get(f"/staff/audit?before={all_ids[99]}")
    assert _rows(third.text) == all_ids[100:]
    assert "Older entries" not in third.text
    assert 'href="/staff/audit">Newest' in third.text


async def test_a_malformed_cursor_shows_the_newest(client: Client) -> None:
    actor = await make_user(role="staff")
    await audit.record(actor, "idea.tag", kind="idea", object_id=1)
    await client.sign_in_as(actor)
    page = await client.get("/staff/audit?before=abc")
    assert page.status_code == 200
    assert len(_rows(page.text)) == 1


async def test_an_empty_log(client: Client) -> None:
    await client.sign_in_as(await make_user(role="staff"))
    page = await client.get("/staff/audit")
    assert page.status_code == 200
    assert "Nothing has been recorded yet." in page.text


async def test_members_may_not_read_the_log(client: Client) -> None:
    await audit.record(None, "idea.hide", kind="idea", object_id=1, reason="secret reason")
    await client.sign_in_as(await make_user(role="member"))
    page = await client.get("/staff/audit")
    assert page.status_code == 403
    assert "secret reason" not in page.text


async def test_visitors_are_sent_to_sign_in(anon: Client) -> None:
    response = await anon.get("/staff/audit")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/signin?next=/staff/audit"
