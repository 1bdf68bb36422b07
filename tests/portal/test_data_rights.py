"""Data rights: a member downloads their data as JSON and deletes their account, which keeps what they
wrote but leaves nothing that names them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette

from ideas import comments, service
from ideas.models import Follow, Idea
from portal import accounts, data_rights, outbox, webhooks
from portal.models import (
    ApiToken,
    AuditEntry,
    Identity,
    KeptMail,
    Notification,
    OutboxMessage,
    User,
)
from portal.settings import Settings
from rewards import perks
from rewards.models import Claim, MemberPoints, PointEntry
from tests.browser import Client
from tests.factories import PASSWORD, make_board, make_idea, make_user
from voting import service as voting
from voting.models import Vote

OLD_NAME = "Zoë Example"
OLD_EMAIL = "zoe.example@example.com"


@dataclass
class World:
    zoe: User
    other: User
    staff: User
    her_idea: Idea
    their_idea: Idea
    token: str
    code: str


async def make_world() -> World:
    """Zoë posted, voted (also through staff, on her behalf), commented, follows, earned points,
    claimed a deal, has notifications, a token, a sign-in identity; a webhook took it all in."""
    admin = await make_user(role="admin")
    await webhooks.create_webhook(
        actor=admin,
        url="http://127.0.0.1:9/hook",
        events=("idea.posted", "idea.status_changed", "vote.cast", "comment.posted", "perk.claimed"),
        public_only=False,
    )
    zoe = await make_user(name=OLD_NAME, email=OLD_EMAIL)
    other = await make_user(name="Olaf Other")
    staff = await make_user(role="staff", name="Sam Staff")
    voter = await make_user()
    board = await make_board()
    her_idea = await make_idea(board=board, author=zoe, title="Bulk edit for tags")
    their_idea = await make_idea(board=board, author=other, title="Calendar sync")
    third = await make_idea(board=board, author=other, title="Keyboard shortcuts")
    await voting.cast_vote(actor=zoe, idea_id=their_idea.id, priority="must")
    await voting.cast_vote(actor=voter, idea_id=their_idea.id)
    await voting.vote_on_behalf(actor=staff, idea_id=third.id, email=OLD_EMAIL, note="Ticket #12")
    await voting.cast_vote(actor=other, idea_id=her_idea.id)  # pays Zoë points
    await voting.cast_vote(actor=voter, idea_id=her_idea.id)
    await comments.post_comment(actor=zoe, idea_id=their_idea.id, body="Yes, @OlafOther, please.")
    await service.change_status(actor=staff, idea_id=their_idea.id, status="planned", message="Soon.")
    token = await accounts.create_token(actor=None, owner=zoe, name="laptop")
    await Identity.create(provider="google", subject="g-123", user=zoe, email=OLD_EMAIL)
    await KeptMail.create(recipient=OLD_EMAIL, subject=f"Hello {OLD_NAME}", text="Hi")
    manager = await make_user(role="community_manager")
    perk = await perks.create_perk(
        actor=manager, data={"kind": "deal", "title": "Half price", "codes": "ZOE-CODE-1"}
    )
    result = await perks.claim_perk(actor=zoe, perk_id=perk.id)
    assert result.code is not None
    return World(zoe, other, staff, her_idea, their_idea, token, result.code)


def _text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


async def assert_nothing_names(name: str, email: str) -> None:
    for table, rows in (
        ("users", await User.all().values("name", "email")),
        ("notifications", await Notification.all().values("title", "body", "url")),
        ("outbox", await OutboxMessage.all().values("payload", "dedupe_key")),
        ("audit_log", await AuditEntry.all().values("detail")),
        ("kept_mail", await KeptMail.all().values("recipient", "subject", "text")),
    ):
        text = _text(rows)
        assert name not in text, f"{name!r} is still in {table}"
        assert email.lower() not in text.lower(), f"{email!r} is still in {table}"


# --- export --------------------------------------------------------------------------------------


async def test_a_member_downloads_everything_held_about_them(app: Starlette, client: Client) -> None:
    world = await make_world()
    await client.sign_in_as(world.zoe)
    page = await client.get("/account")
    assert 'href="/account/export.json"' in page.text and "Download my data" in page.text

    response = await client.get("/account/export.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "attachment" in response.headers["content-disposition"]
    data = response.json()
    assert data["format"] == "hearken-export/1"
    assert data["account"]["email"] == OLD_EMAIL and data["account"]["name"] == OLD_NAME
    assert [i["provider"] for i in data["account"]["sign_in_identities"]] == ["google"]
    assert [t["name"] for t in data["account"]["api_tokens"]] == ["laptop"]
    assert world.token not in response.text  # only a token's prefix is kept, and exported
    assert [i["title"] for i in data["ideas"]] == ["Bulk edit for tags"]
    assert data["ideas"][0]["url"] == f"http://testserver/ideas/{world.her_idea.id}-bulk-edit-for-tags"
    assert [c["body_md"] for c in data["comments"]] == ["Yes, @OlafOther, please."]
    votes = {v["idea_id"]: v for v in data["votes"]}
    assert votes[world.their_idea.id]["priority"] == "must"
    assert [v["source_note"] for v in data["votes"] if v["on_behalf"]] == ["Ticket #12"]
    assert {f["idea_id"] for f in data["follows"]} >= {world.her_idea.id, world.their_idea.id}
    assert data["points"]["entries"] and data["points"]["balance"] == sum(
        e["delta"] for e in data["points"]["entries"]
    )
    assert [(c["perk__title"], c["code"]) for c in data["claims"]] == [("Half price", world.code)]
    assert any(
        "planned" in n["title"].lower() or "Calendar sync" in n["title"] for n in data["notifications"]
    )


async def test_the_download_needs_a_signed_in_member(app: Starlette, anon: Client) -> None:
    response = await anon.get("/account/export.json")
    assert response.status_code in (302, 303, 401)
    assert "application/json" not in response.headers.get("content-type", "") or response.status_code == 401


async def test_another_member_s_data_is_never_in_the_download(app: Starlette, client: Client) -> None:
    world = await make_world()
    await client.sign_in_as(world.other)
    text = (await client.get("/account/export.json")).text
    assert OLD_EMAIL not in text and world.code not in text


# --- deletion ------------------------------------------------------------------------------------


async def test_deleting_an_account_keeps_the_content_and_removes_the_person(
    app: Starlette, client: Client, anon: Client
) -> None:
    world = await make_world()
    zoe = world.zoe
    second_session = Client(app)
    await second_session.sign_in_as(zoe)
    points_before = await PointEntry.filter(user_id=zoe.id).count()
    assert points_before > 0
    assert await Vote.filter(user_id=zoe.id).count() == 2
    assert (await Idea.get(id=world.their_idea.id)).vote_count == 2
    assert await Notification.filter(user_id=zoe.id).exists()
    await assert_raises_names(OLD_NAME, OLD_EMAIL)  # the setup really did name her everywhere

    await client.sign_in_as(zoe)
    page = await client.get("/account")
    assert 'action="/account/delete"' in page.text and "Delete my account" in page.text
    response = await client.post_form("/account/delete", {"password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/"

    row = await User.get(id=zoe.id)
    assert row.name == "Deleted member"
    assert row.email == f"deleted-{zoe.id}@invalid.example"
    assert row.password_hash is None
    assert row.session_version == zoe.session_version + 1
    assert row.banned_at is None
    await assert_nothing_names(OLD_NAME, OLD_EMAIL)
    # Signed out everywhere; the token and the identity are gone.
    for browser in (client, second_session):
        assert (await browser.get("/account")).status_code != 200
    await second_session.http.aclose()
    bearer = await anon.get("/api/v1/me", headers={"Authorization": f"Bearer {world.token}"})
    assert bearer.status_code == 401
    assert not await ApiToken.filter(user_id=zoe.id).exists()
    assert not await Identity.filter(user_id=zoe.id).exists()
    # Votes are gone and the counts are exact; follows and her notifications are gone.
    assert await Vote.filter(user_id=zoe.id).count() == 0
    for idea in await Idea.all():
        assert idea.vote_count == await Vote.filter(idea_id=idea.id).count()
    assert (await Idea.get(id=world.their_idea.id)).vote_count == 1
    assert not await Follow.filter(user_id=zoe.id).exists()
    assert not await Notification.filter(user_id=zoe.id).exists()
    # Content stays, signed "Deleted member"; the ledger and the claim stay, off the leaderboard.
    idea_page = await anon.get(service.idea_url(world.her_idea))
    assert (
        idea_page.status_code == 200 and "Deleted member" in idea_page.text and OLD_NAME not in idea_page.text
    )
    assert (await Idea.get(id=world.her_idea.id)).vote_count == 2
    assert await PointEntry.filter(user_id=zoe.id).count() == points_before
    assert (await MemberPoints.get(user_id=zoe.id)).leaderboard_opt_out is True
    assert await Claim.filter(user_id=zoe.id, code=world.code).exists()
    # Olaf's mention notification now names a deleted member.
    mention = await Notification.get(user_id=world.other.id, kind="mention")
    assert mention.title.startswith("Deleted member mentioned you")


async def assert_raises_names(name: str, email: str) -> None:
    with pytest.raises(AssertionError):
        await assert_nothing_names(name, email)


async def test_a_wrong_password_deletes_nothing(app: Starlette, client: Client) -> None:
    zoe = await make_user(name=OLD_NAME, email=OLD_EMAIL)
    await client.sign_in_as(zoe)
    await client.get("/account")
    response = await client.post_form("/account/delete", {"password": "not my password"})
    assert response.status_code == 303 and response.headers["location"].startswith("/account")
    assert "password is wrong" in (await client.get("/account")).text
    row = await User.get(id=zoe.id)
    assert (row.name, row.email) == (OLD_NAME, OLD_EMAIL)


async def test_deletion_needs_the_csrf_token(app: Starlette, client: Client) -> None:
    zoe = await make_user(name=OLD_NAME, email=OLD_EMAIL)
    await client.sign_in_as(zoe)
    response = await client.post_form("/account/delete", {"password": PASSWORD}, csrf=False)
    assert response.status_code == 403
    assert (await User.get(id=zoe.id)).email == OLD_EMAIL


async def test_an_account_without_a_password_is_deleted_by_typing_the_address(
    app: Starlette, client: Client
) -> None:
    zoe = await make_user(name=OLD_NAME, email=OLD_EMAIL)
    await client.sign_in_as(zoe)
    await User.filter(id=zoe.id).update(password_hash=None)  # e.g. signs in with a provider only
    page = await client.get("/account")
    assert (
        'name="email"' in page.text
        and 'name="password" type="password" autocomplete="current' not in page.text
    )
    await client.post_form("/account/delete", {"email": "someone@else.example"})
    assert (await User.get(id=zoe.id)).email == OLD_EMAIL
    response = await client.post_form("/account/delete", {"email": "  Zoe.Example@EXAMPLE.com "})
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert (await User.get(id=zoe.id)).name == "Deleted member"


async def test_the_only_administrator_cannot_delete_the_account(app: Starlette, client: Client) -> None:
    admin = await make_user(role="admin", name=OLD_NAME, email=OLD_EMAIL)
    await client.sign_in_as(admin)
    await client.get("/account")
    response = await client.post_form("/account/delete", {"password": PASSWORD})
    assert response.status_code == 303
    assert "only administrator" in (await client.get("/account")).text
    assert (await User.get(id=admin.id)).email == OLD_EMAIL


async def test_the_download_holds_no_code_now_given_to_someone_else(app: Starlette) -> None:
    cm, zoe, olaf = await make_user(role="community_manager"), await make_user(), await make_user()
    deal = await perks.create_perk(
        actor=cm, data={"kind": "deal", "title": "One code", "codes": "ONLY-CODE-1"}
    )
    first = await perks.claim_perk(actor=zoe, perk_id=deal.id)
    assert first.code == "ONLY-CODE-1"
    await perks.revoke_claim(actor=cm, claim_id=first.claim.id, return_code=True, reason="a mistake")
    assert (await perks.claim_perk(actor=olaf, perk_id=deal.id)).code == "ONLY-CODE-1"
    download = data_rights.to_json(await data_rights.export_data(actor=zoe))
    assert "ONLY-CODE-1" not in download and '"status": "revoked"' in download
    assert "ONLY-CODE-1" in data_rights.to_json(await data_rights.export_data(actor=olaf)), (
        "a held code is shown"
    )


async def test_a_deleted_member_s_program_seat_goes_to_the_first_waiting(app: Starlette) -> None:
    cm, zoe, olaf = await make_user(role="community_manager"), await make_user(), await make_user()
    program = await perks.create_perk(actor=cm, data={"kind": "early_access", "title": "Beta", "capacity": 1})
    assert (await perks.claim_perk(actor=zoe, perk_id=program.id)).claim.status == "admitted"
    assert (await perks.claim_perk(actor=olaf, perk_id=program.id)).claim.status == "waitlisted"
    await data_rights.delete_account(actor=zoe, password=PASSWORD)
    assert await Claim.filter(user_id=zoe.id, status="left").count() == 1
    assert await Claim.filter(user_id=olaf.id, status="admitted").count() == 1


async def test_deletion_rewrites_kept_mail_sent_to_others_that_names_the_person(
    app: Starlette, settings: Settings
) -> None:
    zoe = await make_user(name="Zoë Example", email="zoe.example@example.com")
    olaf = await make_user(name="Olaf Other")
    idea = await make_idea(board=await make_board(), author=olaf, title="Calendar sync")
    await comments.post_comment(actor=zoe, idea_id=idea.id, body="Yes @OlafOther please")
    worker = outbox.Worker(settings)
    while await worker.run_once():
        pass
    mail_to_olaf = await KeptMail.filter(recipient=olaf.email).values("subject", "text")
    assert "Zoë Example" in json.dumps(mail_to_olaf, ensure_ascii=False)
    await data_rights.delete_account(actor=zoe, password=PASSWORD)
    kept = json.dumps(await KeptMail.all().values("subject", "text", "html", "headers"), ensure_ascii=False)
    assert "Zoë Example" not in kept and "zoe.example@example.com" not in kept
    assert "Deleted member" in kept and "Calendar sync" in kept, "rewritten, not dropped"
