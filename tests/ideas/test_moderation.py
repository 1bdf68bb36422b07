"""Moderation: hide and unhide ideas and comments, lock comments, ban members; all in the audit log."""

from __future__ import annotations

from ideas.models import Comment, Idea
from portal.models import AuditEntry, User
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import card_ids, problem


async def _audit() -> list[tuple[str, str, int | None]]:
    return list(await AuditEntry.all().order_by("id").values_list("action", "object_kind", "object_id"))


async def test_hiding_a_comment_adjusts_the_count_and_hides_it_from_members(
    anon: Client, browser: SignedIn
) -> None:
    idea = await make_idea()
    keep = await make_comment(idea=idea, body="Useful remark")
    rude = await make_comment(idea=idea, body="Rude remark")
    assert (await Idea.get(id=idea.id)).comment_count == 2
    staff, staff_user = await browser(role="staff")
    response = await staff.post_form(f"/comments/{rude.id}/hide", {"reason": "Insults"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#comment-{rude.id}"
    assert (await Idea.get(id=idea.id)).comment_count == 1
    page = (await anon.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    assert "Useful remark" in page and "Rude remark" not in page
    assert 'Comments <span class="muted">(1)</span>' in page
    api = (await anon.get(f"/api/v1/ideas/{idea.id}/comments")).json()
    assert [c["id"] for c in api] == [keep.id]
    assert (await anon.get(f"/api/v1/ideas/{idea.id}")).json()["comment_count"] == 1
    staff_page = (await staff.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    assert "Rude remark" in staff_page and "Hidden: Insults" in staff_page
    # Hiding twice changes nothing more.
    await staff.post_form(f"/comments/{rude.id}/hide", {"reason": "Again"})
    assert (await Idea.get(id=idea.id)).comment_count == 1
    response = await staff.post_form(f"/comments/{rude.id}/unhide")
    assert response.status_code == 303
    assert (await Idea.get(id=idea.id)).comment_count == 2
    await staff.post_form(f"/comments/{rude.id}/unhide")
    assert (await Idea.get(id=idea.id)).comment_count == 2
    assert "Rude remark" in (await anon.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    assert await _audit() == [("comment.hide", "comment", rude.id), ("comment.unhide", "comment", rude.id)]
    entry = await AuditEntry.get(action="comment.hide")
    assert entry.actor_id == staff_user.id and entry.detail == {"reason": "Insults"}


async def test_hiding_the_official_response_unpins_it(browser: SignedIn) -> None:
    idea = await make_idea()
    staff, staff_user = await browser(role="staff")
    answer = await make_comment(idea=idea, author=staff_user, body="Official words")
    await staff.post_form(f"/comments/{answer.id}/official")
    assert (await Idea.get(id=idea.id)).official_comment_id == answer.id
    await staff.post_form(f"/comments/{answer.id}/hide", {"reason": "Wrong idea"})
    assert (await Idea.get(id=idea.id)).official_comment_id is None
    # A hidden comment cannot be pinned again.
    response = await staff.post_form(f"/comments/{answer.id}/official")
    assert response.status_code == 422


async def test_hiding_an_idea_removes_it_everywhere_until_unhidden(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea(title="Buy cheap watches", status="planned")
    staff, _ = await browser(role="staff")
    response = await staff.api("POST", f"/api/v1/ideas/{idea.id}/hide", json={"reason": "Spam"})
    assert response.status_code == 200
    assert card_ids((await anon.get("/ideas")).text) == []
    assert "Buy cheap watches" not in (await anon.get("/roadmap")).text
    problem(await anon.get(f"/api/v1/ideas/{idea.id}"), 404)
    member, _ = await browser()
    problem(await member.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "hi"}), 404)
    await staff.api("POST", f"/api/v1/ideas/{idea.id}/unhide", json={})
    assert card_ids((await anon.get("/ideas")).text) == [idea.id]
    assert "Buy cheap watches" in (await anon.get("/roadmap")).text
    assert await _audit() == [("idea.hide", "idea", idea.id), ("idea.unhide", "idea", idea.id)]


async def test_locked_comments(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea()
    member, _ = await browser()
    staff, _ = await browser(role="staff")
    response = await staff.post_form(f"/ideas/{idea.id}/lock")
    assert response.status_code == 303
    assert (await Idea.get(id=idea.id)).comments_locked
    before = await Comment.all().count()
    assert (await member.post_form(f"/ideas/{idea.id}/comments", {"body": "Let me in"})).status_code == 403
    problem(await member.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "Let me in"}), 403)
    assert await Comment.all().count() == before
    page = (await member.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    assert "Comments are locked." in page and 'class="comment-form"' not in page
    # Staff may still answer.
    response = await staff.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "Closing note"})
    assert response.status_code == 201
    await staff.post_form(f"/ideas/{idea.id}/unlock")
    assert not (await Idea.get(id=idea.id)).comments_locked
    assert (await member.post_form(f"/ideas/{idea.id}/comments", {"body": "Thanks"})).status_code == 303
    assert await _audit() == [("idea.lock", "idea", idea.id), ("idea.unlock", "idea", idea.id)]


async def test_ban_hides_content_ends_the_session_and_is_audited(anon: Client, browser: SignedIn) -> None:
    board = await make_board()
    troll_client, troll = await browser(name="Troll")
    own = await make_idea(board=board, author=troll, title="Troll idea here")
    other = await make_idea(board=board, title="Good idea here")
    await make_comment(idea=other, author=troll, body="Troll comment")
    await make_comment(idea=other, author=troll, body="Troll comment again")
    await make_comment(idea=other, body="Kind comment")
    assert (await Idea.get(id=other.id)).comment_count == 3
    assert (await troll_client.get("/api/v1/me")).status_code == 200

    staff, staff_user = await browser(role="staff")
    response = await staff.post_form(f"/staff/members/{troll.id}/ban", {"reason": "Trolling"})
    assert response.status_code == 303
    troll = await User.get(id=troll.id)
    assert troll.banned_at is not None

    # Their session ends: the next request is a visitor's.
    problem(await troll_client.get("/api/v1/me"), 401)
    response = await troll_client.get("/ideas")
    assert "Sign in" in response.text and "Troll</a>" not in response.text

    # Their idea and comments are hidden; counts follow.
    hidden = await Idea.get(id=own.id)
    assert hidden.hidden_at is not None and hidden.hidden_reason == "Author banned: Trolling"
    assert await Comment.filter(author_id=troll.id, hidden_at=None).count() == 0
    assert (await Idea.get(id=other.id)).comment_count == 1
    assert card_ids((await anon.get("/ideas")).text) == [other.id]
    page = (await anon.get(f"/ideas/{other.id}", follow_redirects=True)).text
    assert "Kind comment" in page and "Troll comment" not in page

    entry = await AuditEntry.get(action="member.ban")
    assert (entry.actor_id, entry.object_kind, entry.object_id) == (staff_user.id, "user", troll.id)
    assert entry.detail == {"reason": "Trolling"}
    # Banning again is refused, and a reason is required.
    response = await staff.post_form(f"/staff/members/{troll.id}/ban", {"reason": "Again"})
    assert response.status_code == 422
    nobody = await make_user()
    response = await staff.post_form(f"/staff/members/{nobody.id}/ban", {"reason": ""})
    assert response.status_code == 422 and "<strong>reason</strong>" in response.text
    assert (await User.get(id=nobody.id)).banned_at is None
    assert await AuditEntry.filter(action="member.ban").count() == 1


async def test_every_staff_action_is_in_the_audit_log(browser: SignedIn) -> None:
    board = await make_board()
    idea = await make_idea(board=board)
    duplicate = await make_idea(board=board)
    comment = await make_comment(idea=idea)
    staff, staff_user = await browser(role="staff")
    answer = await make_comment(idea=idea, author=staff_user)
    steps = [
        (f"/ideas/{idea.id}/status", {"status": "planned", "message": "Soon"}),
        (f"/comments/{answer.id}/official", {}),
        (f"/comments/{comment.id}/helpful", {}),
        (f"/ideas/{duplicate.id}/merge", {"into": str(idea.id)}),
        (f"/ideas/{idea.id}/lock", {}),
        (f"/ideas/{idea.id}/unlock", {}),
        (f"/comments/{comment.id}/hide", {"reason": "Off topic"}),
        (f"/comments/{comment.id}/unhide", {}),
        (f"/ideas/{idea.id}/hide", {"reason": "Duplicate"}),
        (f"/ideas/{idea.id}/unhide", {}),
        (f"/ideas/{idea.id}/edit", {"title": "Edited by staff", "body": ""}),
        (f"/staff/members/{comment.author_id}/ban", {"reason": "Spam"}),
    ]
    for url, data in steps:
        assert (await staff.post_form(url, data)).status_code == 303, url
    assert await _audit() == [
        ("idea.status", "idea", idea.id),
        ("comment.official", "comment", answer.id),
        ("comment.helpful", "comment", comment.id),
        ("idea.merge", "idea", duplicate.id),
        ("idea.lock", "idea", idea.id),
        ("idea.unlock", "idea", idea.id),
        ("comment.hide", "comment", comment.id),
        ("comment.unhide", "comment", comment.id),
        ("idea.hide", "idea", idea.id),
        ("idea.unhide", "idea", idea.id),
        ("idea.edit", "idea", idea.id),
        ("member.ban", "user", comment.author_id),
    ]
    assert set(await AuditEntry.all().values_list("actor_id", flat=True)) == {staff_user.id}
