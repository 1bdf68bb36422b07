"""The pages: a member posts, comments and follows; staff answer and ship; a visitor sees it all."""

from __future__ import annotations

import re

from ideas import catalog
from ideas.models import Comment, Follow, Idea, IdeaRevision, Status, StatusChange
from ideas.service import idea_url
from portal.models import AuditEntry, Notification
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import between, roadmap_column


async def test_the_whole_loop_through_the_pages(anon: Client, browser: SignedIn) -> None:
    await make_board(slug="mobile", name="Mobile app")
    alice_client, alice = await browser(name="Alice")
    bob_client, bob = await browser(name="Bob")
    staff_client, staff = await browser(role="staff", name="Sam Staff")

    # A member posts an idea.
    form_page = await alice_client.get("/ideas/new")
    assert form_page.status_code == 200
    assert 'name="title"' in form_page.text and '<option value="mobile"' in form_page.text
    response = await alice_client.post_form(
        "/ideas/new",
        {
            "board": "mobile",
            "title": "Offline   mode for the app",
            "body": "Let me work **offline** on trains.",
            "tags": "offline, Sync",
        },
    )
    assert response.status_code == 303, response.text
    idea = await Idea.get(author_id=alice.id)
    assert response.headers["location"] == f"/ideas/{idea.id}-offline-mode-for-the-app"
    assert idea.title == "Offline mode for the app"
    assert idea.status_id == "open"
    assert idea.tags_text == "offline sync"
    assert idea.body_html == "<p>Let me work <strong>offline</strong> on trains.</p>\n"
    page = await alice_client.get(response.headers["location"])
    assert "Your idea is posted" in page.text

    # Another member comments and follows.
    response = await bob_client.post_form(f"/ideas/{idea.id}/comments", {"body": "Yes, on planes too!"})
    assert response.status_code == 303
    bob_comment = await Comment.get(author_id=bob.id)
    assert response.headers["location"] == f"/ideas/{idea.id}#comment-{bob_comment.id}"
    await bob_client.post_form(f"/ideas/{idea.id}/unfollow")  # commenting followed; start again
    assert not await Follow.exists(idea_id=idea.id, user_id=bob.id)
    response = await bob_client.post_form(f"/ideas/{idea.id}/follow")
    assert response.status_code == 303
    assert await Follow.exists(idea_id=idea.id, user_id=bob.id)

    # Staff answer officially, then plan and ship it with public messages.
    response = await staff_client.post_form(
        f"/ideas/{idea.id}/comments", {"body": "We hear you: syncing is the hard part."}
    )
    answer = await Comment.get(author_id=staff.id)
    assert answer.by_staff
    response = await staff_client.post_form(f"/comments/{answer.id}/official")
    assert response.status_code == 303
    assert (await Idea.get(id=idea.id)).official_comment_id == answer.id
    response = await staff_client.post_form(
        f"/ideas/{idea.id}/status", {"status": "planned", "message": "Planned for the *spring* release."}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}-offline-mode-for-the-app"
    response = await staff_client.post_form(
        f"/ideas/{idea.id}/status", {"status": "shipped", "message": "Shipped in 4.2."}
    )
    assert response.status_code == 303
    steps = await StatusChange.filter(idea_id=idea.id).order_by("id").values_list("from_status", "to_status")
    assert steps == [("open", "planned"), ("planned", "shipped")]

    # A visitor sees all of it.
    response = await anon.get(f"/ideas/{idea.id}", follow_redirects=True)
    assert response.status_code == 200
    assert str(response.url).endswith(f"/ideas/{idea.id}-offline-mode-for-the-app")
    html = response.text
    assert '<h1 class="idea-page-title">Offline mode for the app</h1>' in html
    assert "<strong>offline</strong> on trains" in html
    assert "Yes, on planes too!" in html
    official = between(html, 'id="official-h"', "</section>")
    assert "We hear you: syncing is the hard part." in official
    assert "Sam Staff" in official and "Staff</span>" in official
    history = between(html, 'id="history-h"', "</section>")
    assert re.search(r"<strong>Planned</strong>\s*<span class=\"muted\">from Open by Sam Staff", history)
    assert re.search(r"<strong>Shipped</strong>\s*<span class=\"muted\">from Planned by Sam Staff", history)
    assert "Planned for the <em>spring</em> release." in history and "Shipped in 4.2." in history
    # The history names statuses as they are called now.
    await Status.filter(key="planned").update(name="On the roadmap")
    await catalog.changed()
    history = between(
        (await anon.get(f"/ideas/{idea.id}", follow_redirects=True)).text, 'id="history-h"', "</section>"
    )
    assert re.search(r"<strong>On the roadmap</strong>\s*<span class=\"muted\">from Open", history)
    assert "from On the roadmap by Sam Staff" in history
    assert "moved to <strong>On the roadmap</strong>" in (await anon.get("/")).text
    assert '<span class="status-badge" style="--status: #0f6b3a">Shipped</span>' in html
    assert "3 followers" in html  # Alice (author), Bob (followed), Sam (commented)
    assert "#offline" in html and "#sync" in html
    assert 'action="/ideas/' not in html.replace(
        f'action="/ideas/{idea.id}.atom', ""
    )  # no forms for visitors

    roadmap = (await anon.get("/roadmap")).text
    assert "Offline mode for the app" in roadmap_column(roadmap, "shipped")
    assert "Offline mode for the app" not in roadmap_column(roadmap, "planned")


async def test_new_idea_form_needs_a_member(anon: Client) -> None:
    response = await anon.get("/ideas/new")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/signin?next=/ideas/new"
    await make_board(slug="b")
    response = await anon.post_form("/ideas/new", {"board": "b", "title": "Sneaky idea", "body": ""})
    assert response.status_code == 401
    assert await Idea.all().count() == 0


async def test_idea_page_redirects_to_its_canonical_address(anon: Client) -> None:
    idea = await make_idea(title="Dark theme, please!")
    for path in (f"/ideas/{idea.id}", f"/ideas/{idea.id}-old-slug"):
        response = await anon.get(path)
        assert response.status_code == 301
        assert response.headers["location"] == f"/ideas/{idea.id}-dark-theme-please"
    assert (await anon.get("/ideas/999999")).status_code == 404


async def test_follow_and_unfollow_with_htmx_return_the_fragment(browser: SignedIn) -> None:
    idea = await make_idea()
    client, user = await browser()
    token = await client.csrf_token()
    headers = {"HX-Request": "true", "X-CSRF-Token": token}
    response = await client.http.post(f"/ideas/{idea.id}/follow", headers=headers)
    assert response.status_code == 200
    assert f'<div id="follow-{idea.id}"' in response.text
    assert 'aria-pressed="true"' in response.text and "2 followers" in response.text
    response = await client.http.post(f"/ideas/{idea.id}/unfollow", headers=headers)
    assert 'aria-pressed="false"' in response.text and "1 follower<" in response.text
    assert not await Follow.exists(idea_id=idea.id, user_id=user.id)


async def test_staff_see_the_staff_panel_and_members_do_not(browser: SignedIn) -> None:
    idea = await make_idea()
    member, _ = await browser()
    staff, _ = await browser(role="staff")
    member_page = (await member.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    staff_page = (await staff.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    for action in ("/status", "/merge", "/hide", "/lock"):
        assert f'action="/ideas/{idea.id}{action}"' in staff_page
        assert f'action="/ideas/{idea.id}{action}"' not in member_page
    assert f'action="/staff/members/{idea.author_id}/ban"' in staff_page
    assert 'action="/staff/members/' not in member_page


async def test_status_change_form_pair_validation_is_shown_on_the_page(browser: SignedIn) -> None:
    idea = await make_idea()
    staff, _ = await browser(role="staff")
    response = await staff.post_form(f"/ideas/{idea.id}/status", {"status": "declined", "message": ""})
    assert response.status_code == 422
    assert "<strong>message</strong>: Say why the idea is declined" in response.text
    response = await staff.post_form(f"/ideas/{idea.id}/status", {"status": "nonsense"})
    assert response.status_code == 422
    assert "<strong>status</strong>: There is no such status." in response.text
    response = await staff.post_form(f"/ideas/{idea.id}/status", {"status": "open"})
    assert response.status_code == 422
    assert "<strong>status</strong>: The idea is already open." in response.text
    assert await StatusChange.all().count() == 0
    assert (await Idea.get(id=idea.id)).status_id == "open"


async def test_merge_form_moves_everything_and_the_duplicate_redirects(
    anon: Client, browser: SignedIn
) -> None:
    board = await make_board()
    target = await make_idea(board=board, title="Export to CSV")
    duplicate = await make_idea(board=board, title="CSV export please")
    await make_comment(idea=duplicate, body="Me too, for accounting.")
    staff, _ = await browser(role="staff")
    response = await staff.post_form(f"/ideas/{duplicate.id}/merge", {"into": str(target.id)})
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{target.id}-export-to-csv"
    response = await anon.get(f"/ideas/{duplicate.id}-csv-export-please")
    assert response.status_code == 301
    assert response.headers["location"] == f"/ideas/{target.id}"
    page = await anon.get(f"/ideas/{duplicate.id}", follow_redirects=True)
    assert str(page.url).endswith(f"/ideas/{target.id}-export-to-csv")
    assert "Me too, for accounting." in page.text
    assert f"from merged idea #{duplicate.id}" in page.text
    assert f"#{duplicate.id} CSV export please" in between(page.text, "Merged duplicates", "</div>")
    response = await staff.post_form(f"/ideas/{target.id}/merge", {"into": str(target.id)})
    assert response.status_code == 422
    assert "<strong>into</strong>: An idea cannot be merged into itself." in response.text


async def test_hide_and_unhide_forms(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea(title="Spam spam spam")
    staff, _ = await browser(role="staff")
    response = await staff.post_form(f"/ideas/{idea.id}/hide", {"reason": ""})
    assert response.status_code == 422
    assert "<strong>reason</strong>" in response.text
    assert (await Idea.get(id=idea.id)).hidden_at is None
    response = await staff.post_form(f"/ideas/{idea.id}/hide", {"reason": "Spam"})
    assert response.status_code == 303
    assert (await anon.get(f"/ideas/{idea.id}")).status_code == 404
    staff_page = (await staff.get(f"/ideas/{idea.id}", follow_redirects=True)).text
    assert "This idea is hidden from members: Spam" in staff_page
    response = await staff.post_form(f"/ideas/{idea.id}/unhide")
    assert response.status_code == 303
    assert (await anon.get(f"/ideas/{idea.id}", follow_redirects=True)).status_code == 200


async def test_author_edits_through_the_form_and_a_revision_is_kept(browser: SignedIn) -> None:
    await make_board(slug="web")
    client, author = await browser()
    await client.post_form("/ideas/new", {"board": "web", "title": "Fist version", "body": "Old text"})
    idea = await Idea.get(author_id=author.id)
    page = await client.get(f"/ideas/{idea.id}/edit")
    assert page.status_code == 200 and "Old text</textarea>" in page.text
    response = await client.post_form(
        f"/ideas/{idea.id}/edit", {"title": "First version", "body": "New text", "tags": "a, b"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}-first-version"
    idea = await Idea.get(id=idea.id)
    assert (idea.title, idea.body_md, idea.tags_text) == ("First version", "New text", "a b")
    revision = await IdeaRevision.get(idea_id=idea.id)
    assert (revision.title, revision.body_md, revision.editor_id) == ("Fist version", "Old text", author.id)
    response = await client.post_form(f"/ideas/{idea.id}/edit", {"title": "Tiny", "body": "x"})
    assert response.status_code == 422
    assert "Use at least 5 characters" in response.text
    assert await IdeaRevision.filter(idea_id=idea.id).count() == 1


async def test_official_response_form_notifies_followers(browser: SignedIn) -> None:
    idea = await make_idea()
    follower = await make_user()
    await make_comment(idea=idea, author=follower, body="+1")
    staff, staff_user = await browser(role="staff")
    await staff.post_form(f"/ideas/{idea.id}/comments", {"body": "Thanks, we are on it."})
    answer = await Comment.get(author_id=staff_user.id)
    response = await staff.post_form(f"/comments/{answer.id}/official")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ideas/{idea.id}#comment-{answer.id}"
    notified = await Notification.filter(kind="official_response").values_list("user_id", flat=True)
    assert sorted(notified) == sorted([idea.author_id, follower.id])
    assert await AuditEntry.filter(action="comment.official", object_id=answer.id).exists()
    assert (await staff.post_form(f"/comments/{answer.id}/bogus")).status_code == 404


async def test_the_idea_page_shows_each_reader_whether_they_follow(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea()  # the author follows their own idea
    follower, user = await browser()
    bystander, _ = await browser()
    await follower.post_form(f"/ideas/{idea.id}/follow")
    assert await Follow.exists(idea_id=idea.id, user_id=user.id)
    url = idea_url(idea)
    mine = between((await follower.get(url)).text, f'<div id="follow-{idea.id}"', "</div>")
    theirs = between((await bystander.get(url)).text, f'<div id="follow-{idea.id}"', "</div>")
    assert 'aria-pressed="true"' in mine and "2 followers" in mine
    assert 'aria-pressed="false"' in theirs and "2 followers" in theirs
    assert "2 followers" in (await anon.get(url)).text
