"""The JSON API over the same services as the pages: post, comment, answer, ship, merge, hide."""

from __future__ import annotations

from ideas.models import Comment, Follow, Idea
from portal.models import AuditEntry
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import problem

IDEA_KEYS = {
    "id",
    "board",
    "title",
    "body_html",
    "author",
    "status",
    "vote_count",
    "comment_count",
    "voted",
    "tags",
    "created_at",
    "updated_at",
    "url",
}


async def test_the_whole_loop_through_the_api(anon: Client, browser: SignedIn) -> None:
    await make_board(slug="api", name="API")
    alice_client, alice = await browser(name="Alice")
    bob_client, bob = await browser(name="Bob")
    staff_client, staff = await browser(role="staff", name="Sam Staff")

    response = await alice_client.api(
        "POST",
        "/api/v1/ideas",
        json={"board": "api", "title": "Webhooks for votes", "body": "Tell my *CRM*.", "tags": ["crm"]},
    )
    assert response.status_code == 201, response.text
    doc = response.json()
    assert set(doc) >= IDEA_KEYS
    idea_id = doc["id"]
    assert doc["board"] == "api"
    assert doc["title"] == "Webhooks for votes"
    assert doc["body_html"] == "<p>Tell my <em>CRM</em>.</p>\n"
    assert doc["author"] == {"id": alice.id, "name": "Alice"}
    assert doc["status"] == "open"
    assert doc["tags"] == ["crm"]
    assert doc["comment_count"] == 0
    assert doc["url"] == f"http://testserver/ideas/{idea_id}-webhooks-for-votes"
    assert doc["status_history"] == []
    assert doc["merged_into"] is None

    response = await bob_client.api("POST", f"/api/v1/ideas/{idea_id}/comments", json={"body": "Yes please"})
    assert response.status_code == 201, response.text
    comment = response.json()
    assert comment["author"] == {"id": bob.id, "name": "Bob"}
    assert comment["body_html"] == "<p>Yes please</p>\n"
    assert comment["staff"] is False and comment["parent"] is None
    assert await Follow.exists(idea_id=idea_id, user_id=bob.id)

    response = await staff_client.api(
        "POST", f"/api/v1/ideas/{idea_id}/comments", json={"body": "On it.", "parent": comment["id"]}
    )
    answer = response.json()
    assert answer["staff"] is True and answer["parent"] == comment["id"]
    assert (await staff_client.post_form(f"/comments/{answer['id']}/official")).status_code == 303

    response = await staff_client.api(
        "POST", f"/api/v1/ideas/{idea_id}/status", json={"status": "planned", "message": "Next quarter."}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "planned"
    response = await staff_client.api(
        "POST", f"/api/v1/ideas/{idea_id}/status", json={"status": "shipped", "message": "Done!"}
    )
    assert response.json()["status"] == "shipped"

    doc = (await anon.get(f"/api/v1/ideas/{idea_id}")).json()
    assert doc["status"] == "shipped"
    assert doc["comment_count"] == 2
    history = [(h["from"], h["to"], h["message_html"], h["by"]) for h in doc["status_history"]]
    assert history == [
        ("open", "planned", "<p>Next quarter.</p>\n", {"id": staff.id, "name": "Sam Staff"}),
        ("planned", "shipped", "<p>Done!</p>\n", {"id": staff.id, "name": "Sam Staff"}),
    ]
    comments = (await anon.get(f"/api/v1/ideas/{idea_id}/comments")).json()
    assert [(c["id"], c["staff"]) for c in comments] == [(comment["id"], False), (answer["id"], True)]
    listed = (await anon.get("/api/v1/ideas?status=shipped")).json()
    assert [item["id"] for item in listed["items"]] == [idea_id]
    assert listed["next_cursor"] is None


async def test_api_writes_need_a_session_and_its_csrf_token(anon: Client, browser: SignedIn) -> None:
    await make_board(slug="b")
    body = {"board": "b", "title": "Nobody signed in", "body": ""}
    problem(await anon.api("POST", "/api/v1/ideas", json=body), 401)
    client, _ = await browser()
    problem(await client.api("POST", "/api/v1/ideas", json=body, csrf=False), 403)
    assert await Idea.all().count() == 0
    assert (await client.api("POST", "/api/v1/ideas", json=body)).status_code == 201


async def test_api_accepts_a_bearer_token(app, anon: Client) -> None:  # type: ignore[no-untyped-def]
    from portal import accounts
    from tests.factories import make_user

    await make_board(slug="b")
    user = await make_user()
    token = await accounts.create_token(actor=user, owner=user, name="ci")
    response = await anon.api(
        "POST",
        "/api/v1/ideas",
        json={"board": "b", "title": "Posted by a script", "tags": "ci, bots"},
        headers={"Authorization": f"Bearer {token}"},
        csrf=False,
    )
    assert response.status_code == 201, response.text
    assert response.json()["author"]["id"] == user.id
    assert response.json()["tags"] == ["ci", "bots"]


async def test_status_change_pair_validation_in_the_api(browser: SignedIn) -> None:
    idea = await make_idea()
    staff, _ = await browser(role="staff")
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "declined"}))
    assert set(body["errors"]) == {"message"}
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "nope"}))
    assert set(body["errors"]) == {"status"}
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "open"}))
    assert set(body["errors"]) == {"status"}
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/status", content=b"[1]"))
    assert set(body["errors"]) == {"body"}
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/status", content=b"{nope"))
    assert set(body["errors"]) == {"body"}
    response = await staff.api(
        "POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "declined", "message": "Out of scope."}
    )
    assert response.json()["status"] == "declined"
    assert response.json()["status_history"][0]["message_html"] == "<p>Out of scope.</p>\n"


async def test_merge_through_the_api(anon: Client, browser: SignedIn) -> None:
    board = await make_board()
    target = await make_idea(board=board, title="Calendar sync")
    duplicate = await make_idea(board=board, title="Sync with my calendar")
    await make_comment(idea=duplicate, body="Google calendar please")
    staff, staff_user = await browser(role="staff")
    response = await staff.api("POST", f"/api/v1/ideas/{duplicate.id}/merge", json={"into": target.id})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == target.id
    assert response.json()["comment_count"] == 1
    assert (await anon.get(f"/api/v1/ideas/{duplicate.id}")).json()["merged_into"] == target.id
    comments = (await anon.get(f"/api/v1/ideas/{target.id}/comments")).json()
    assert [c["body_html"] for c in comments] == ["<p>Google calendar please</p>\n"]
    assert await Follow.exists(idea_id=target.id, user_id=duplicate.author_id)
    entry = await AuditEntry.get(action="idea.merge")
    assert (entry.actor_id, entry.object_id, entry.detail["into"]) == (staff_user.id, duplicate.id, target.id)
    # Merging again, into itself, or into a merged idea: refused with the field named.
    body = problem(await staff.api("POST", f"/api/v1/ideas/{target.id}/merge", json={"into": target.id}))
    assert set(body["errors"]) == {"into"}
    other = await make_idea(board=board)
    body = problem(await staff.api("POST", f"/api/v1/ideas/{other.id}/merge", json={"into": duplicate.id}))
    assert "itself merged" in body["errors"]["into"]
    body = problem(await staff.api("POST", f"/api/v1/ideas/{other.id}/merge", json={"into": "abc"}))
    assert set(body["errors"]) == {"into"}
    assert await AuditEntry.filter(action="idea.merge").count() == 1


async def test_hide_and_unhide_through_the_api(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea()
    staff, staff_user = await browser(role="staff")
    body = problem(await staff.api("POST", f"/api/v1/ideas/{idea.id}/hide", json={}))
    assert set(body["errors"]) == {"reason"}
    response = await staff.api("POST", f"/api/v1/ideas/{idea.id}/hide", json={"reason": "Off topic"})
    assert response.status_code == 200
    assert response.json()["id"] == idea.id  # staff still see it
    problem(await anon.get(f"/api/v1/ideas/{idea.id}"), 404)
    assert (await Idea.get(id=idea.id)).hidden_reason == "Off topic"
    response = await staff.api("POST", f"/api/v1/ideas/{idea.id}/unhide", json={})
    assert response.status_code == 200
    assert (await anon.get(f"/api/v1/ideas/{idea.id}")).status_code == 200
    actions = await AuditEntry.filter(object_id=idea.id).order_by("id").values_list("action", "actor_id")
    assert actions == [("idea.hide", staff_user.id), ("idea.unhide", staff_user.id)]


async def test_comment_validation_in_the_api(browser: SignedIn) -> None:
    idea = await make_idea()
    other = await make_idea()
    foreign = await make_comment(idea=other)
    client, _ = await browser()
    before = await Comment.all().count()
    body = problem(await client.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "  "}))
    assert set(body["errors"]) == {"body"}
    body = problem(await client.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "x" * 10_001}))
    assert set(body["errors"]) == {"body"}
    body = problem(
        await client.api(
            "POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "reply", "parent": foreign.id}
        )
    )
    assert set(body["errors"]) == {"parent"}
    problem(await client.api("POST", "/api/v1/ideas/999999/comments", json={"body": "hello"}), 404)
    assert await Comment.all().count() == before
    assert (await Idea.get(id=idea.id)).comment_count == 0


async def test_replies_stay_one_level_deep(browser: SignedIn) -> None:
    idea = await make_idea()
    client, _ = await browser()
    top = (await client.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "top"})).json()
    reply = (
        await client.api("POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "r", "parent": top["id"]})
    ).json()
    nested = (
        await client.api(
            "POST", f"/api/v1/ideas/{idea.id}/comments", json={"body": "rr", "parent": reply["id"]}
        )
    ).json()
    assert reply["parent"] == top["id"]
    assert nested["parent"] == top["id"]


async def test_boards_list_and_admin_creates_boards(anon: Client, browser: SignedIn) -> None:
    await make_board(slug="open", name="Open")
    await make_board(slug="secret", visibility="private")
    await make_board(slug="lab", visibility="insiders")
    assert [b["slug"] for b in (await anon.get("/api/v1/boards")).json()] == ["open"]
    admin, _ = await browser(role="admin")
    assert [b["slug"] for b in (await admin.get("/api/v1/boards")).json()] == ["open", "secret", "lab"]
    member, _ = await browser()
    body = {"slug": "new-board", "name": "New board", "visibility": "public"}
    problem(await member.api("POST", "/api/v1/boards", json=body), 403)
    response = await admin.api("POST", "/api/v1/boards", json=body)
    assert response.status_code == 201
    assert response.json() == {
        "id": response.json()["id"],
        "slug": "new-board",
        "name": "New board",
        "visibility": "public",
        "min_tier": None,
    }
    body = problem(await admin.api("POST", "/api/v1/boards", json=body))
    assert set(body["errors"]) == {"slug"}
