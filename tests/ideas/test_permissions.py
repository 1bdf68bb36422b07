"""Members cannot act as staff, in the pages or the API; private things answer 404, not 403."""

from __future__ import annotations

from ideas.models import Board, Comment, Idea, StatusChange
from portal.models import AuditEntry, User
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import problem


async def _snapshot() -> tuple:
    ideas = (
        await Idea.all()
        .order_by("id")
        .values_list("status_id", "merged_into_id", "hidden_at", "comments_locked", "official_comment_id")
    )
    return (
        ideas,
        await StatusChange.all().count(),
        await AuditEntry.all().count(),
        await Comment.filter(hidden_at__not_isnull=True).count(),
        await User.filter(banned_at__not_isnull=True).count(),
    )


async def test_members_cannot_do_staff_things_in_the_pages(browser: SignedIn) -> None:
    board = await make_board()
    idea = await make_idea(board=board)
    other = await make_idea(board=board)
    member, me = await browser()
    comment = await make_comment(idea=idea, author=me)
    victim = await make_user()
    before = await _snapshot()
    attempts = {
        f"/ideas/{idea.id}/status": {"status": "planned", "message": "I decide"},
        f"/ideas/{idea.id}/merge": {"into": str(other.id)},
        f"/ideas/{idea.id}/hide": {"reason": "mine"},
        f"/ideas/{idea.id}/unhide": {},
        f"/ideas/{idea.id}/lock": {},
        f"/ideas/{idea.id}/unlock": {},
        f"/comments/{comment.id}/official": {},
        f"/comments/{comment.id}/helpful": {},
        f"/comments/{comment.id}/hide": {"reason": "x"},
        f"/comments/{comment.id}/unhide": {},
        f"/staff/members/{victim.id}/ban": {"reason": "x"},
    }
    for url, data in attempts.items():
        response = await member.post_form(url, data)
        assert response.status_code == 403, (url, response.status_code)
        assert "text/html" in response.headers["content-type"]
        assert "You are not allowed to do that." in response.text
    assert await _snapshot() == before


async def test_members_cannot_do_staff_things_in_the_api(browser: SignedIn) -> None:
    board = await make_board()
    idea = await make_idea(board=board)
    other = await make_idea(board=board)
    member, _ = await browser()
    before = await _snapshot()
    attempts = {
        f"/api/v1/ideas/{idea.id}/status": {"status": "planned", "message": "I decide"},
        f"/api/v1/ideas/{idea.id}/merge": {"into": other.id},
        f"/api/v1/ideas/{idea.id}/hide": {"reason": "mine"},
        f"/api/v1/ideas/{idea.id}/unhide": {},
    }
    for url, data in attempts.items():
        body = problem(await member.api("POST", url, json=data), 403)
        assert body["detail"] == "You are not allowed to do that.", url
    assert await _snapshot() == before


async def test_visitors_are_asked_to_sign_in(anon: Client) -> None:
    idea = await make_idea()
    before = await _snapshot()
    assert (await anon.post_form(f"/ideas/{idea.id}/status", {"status": "planned"})).status_code == 401
    assert (await anon.post_form(f"/ideas/{idea.id}/comments", {"body": "hi"})).status_code == 401
    assert (await anon.post_form(f"/ideas/{idea.id}/follow")).status_code == 401
    problem(await anon.api("POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "planned"}), 401)
    problem(await anon.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "hi"}), 401)
    assert await _snapshot() == before
    assert await Comment.all().count() == 0


async def test_staff_cannot_ban_staff_and_members_cannot_ban_anyone(browser: SignedIn) -> None:
    staff, _ = await browser(role="staff")
    colleague = await make_user(role="staff")
    assert (await staff.post_form(f"/staff/members/{colleague.id}/ban", {"reason": "x"})).status_code == 403
    assert (await User.get(id=colleague.id)).banned_at is None
    assert (await staff.post_form("/staff/members/999999/ban", {"reason": "x"})).status_code == 404


async def test_private_boards_answer_404_to_members_in_pages_and_api(browser: SignedIn) -> None:
    secret = await make_board(slug="secret", visibility="private")
    idea = await make_idea(board=secret, title="Secret roadmap item")
    comment = await make_comment(idea=idea, author=await make_user(role="staff"))
    member, _ = await browser()
    before = await _snapshot()
    comments_before = await Comment.all().count()
    for url in (f"/ideas/{idea.id}", f"/ideas/{idea.id}-secret-roadmap-item", f"/ideas/{idea.id}/edit"):
        response = await member.get(url)
        assert response.status_code == 404, url
        assert "Secret roadmap item" not in response.text
    for url in (f"/api/v1/ideas/{idea.id}", f"/api/v1/ideas/{idea.id}/comments"):
        problem(await member.get(url), 404)
    writes = {
        f"/ideas/{idea.id}/comments": {"body": "peek"},
        f"/ideas/{idea.id}/follow": {},
        f"/ideas/{idea.id}/status": {"status": "planned"},
        f"/ideas/{idea.id}/merge": {"into": "1"},
        f"/ideas/{idea.id}/hide": {"reason": "x"},
        f"/comments/{comment.id}/official": {},
        f"/comments/{comment.id}/hide": {"reason": "x"},
    }
    for url, data in writes.items():
        assert (await member.post_form(url, data)).status_code == 404, url
    for url, data in {
        f"/api/v1/ideas/{idea.id}/comments": {"body": "peek"},
        f"/api/v1/ideas/{idea.id}/status": {"status": "planned"},
        f"/api/v1/ideas/{idea.id}/merge": {"into": 1},
        f"/api/v1/ideas/{idea.id}/hide": {"reason": "x"},
    }.items():
        problem(await member.api("POST", url, json=data), 404)
    # Posting to the board is refused as if it did not exist.
    body = problem(
        await member.api("POST", "/api/v1/ideas", json={"board": "secret", "title": "Let me in", "body": ""})
    )
    assert body["errors"] == {"board": "There is no such board."}
    response = await member.post_form("/ideas/new", {"board": "secret", "title": "Let me in"})
    assert response.status_code == 422 and "There is no such board." in response.text
    assert await _snapshot() == before
    assert await Comment.all().count() == comments_before
    # The same board, seen by staff: it exists.
    staff, _ = await browser(role="staff")
    assert (await staff.get(f"/ideas/{idea.id}", follow_redirects=True)).status_code == 200


async def test_insiders_boards_are_staff_only_for_now(browser: SignedIn) -> None:
    lab = await make_board(slug="lab", visibility="insiders")
    idea = await make_idea(board=lab, title="Beta of the new editor")
    member, _ = await browser()
    admin, _ = await browser(role="admin")
    staff, _ = await browser(role="staff")
    assert (await member.get(f"/ideas/{idea.id}", follow_redirects=True)).status_code == 404
    problem(await member.get(f"/api/v1/ideas/{idea.id}"), 404)
    assert "Beta of the new editor" not in (await member.get("/ideas")).text
    problem(await member.get("/api/v1/ideas?board=lab"))
    for client in (staff, admin):
        assert (await client.get(f"/ideas/{idea.id}", follow_redirects=True)).status_code == 200
        assert "Beta of the new editor" in (await client.get("/ideas?board=lab")).text
    assert (await Board.get(slug="lab")).min_tier == "Insider"


async def test_banned_members_cannot_post_or_comment(browser: SignedIn) -> None:
    await make_board(slug="b")
    idea = await make_idea()
    client, user = await browser()
    await User.filter(id=user.id).update(banned_at=idea.created_at)
    # Their session no longer signs them in: they are a visitor now.
    problem(await client.api("POST", "/api/v1/ideas", json={"board": "b", "title": "Still here"}), 401)
    problem(await client.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "hi"}), 401)
    assert await Idea.all().count() == 1
