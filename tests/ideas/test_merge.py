"""Merging a duplicate: followers, comments and the address move to the target; mistakes are refused."""

from __future__ import annotations

import pytest

from ideas import comments, moderation, queries, service
from ideas.events import IdeaMerged
from ideas.models import Comment, Follow, Idea
from portal import events
from portal.errors import Forbidden, Invalid
from portal.models import AuditEntry, Notification
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import problem


async def test_merge_moves_followers_and_comments_and_is_audited(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    staff = await make_user(role="staff")
    target = await make_idea(board=board)
    duplicate = await make_idea(board=board)
    both, only_dup = await make_user(), await make_user()
    for user in (both, only_dup):
        await service.follow(actor=user, idea_id=duplicate.id)
    await service.follow(actor=both, idea_id=target.id)
    c1 = await make_comment(idea=duplicate, author=only_dup)
    c2 = await make_comment(idea=duplicate)
    with events.record() as seen:
        merged_into = await service.merge(actor=staff, idea_id=duplicate.id, into=str(target.id))
    assert merged_into.id == target.id
    assert seen == [IdeaMerged(source_id=duplicate.id, target_id=target.id, actor_id=staff.id)]
    assert (await Idea.get(id=duplicate.id)).merged_into_id == target.id
    followers = set(await Follow.filter(idea_id=target.id).values_list("user_id", flat=True))
    assert followers == {target.author_id, duplicate.author_id, both.id, only_dup.id, c2.author_id}
    assert await Follow.filter(idea_id=target.id, user_id=both.id).count() == 1
    moved = await Comment.filter(idea_id=target.id).order_by("id").values_list("id", "merged_from_id")
    assert moved == [(c1.id, duplicate.id), (c2.id, duplicate.id)]
    entry = await AuditEntry.get(action="idea.merge")
    assert (entry.actor_id, entry.object_kind, entry.object_id) == (staff.id, "idea", duplicate.id)
    assert entry.detail == {"into": target.id, "comments": 2}


async def test_merge_mistakes_are_refused_and_change_nothing(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    staff = await make_user(role="staff")
    a = await make_idea(board=board)
    b = await make_idea(board=board)
    c = await make_idea(board=board)
    await service.merge(actor=staff, idea_id=b.id, into=a.id)
    secret = await make_idea(board=await make_board(visibility="private"))
    insider = await make_idea(board=await make_board(visibility="insiders"))
    hidden = await make_idea(board=board)
    await Idea.filter(id=hidden.id).update(hidden_at=hidden.created_at)
    fewer = "is seen by fewer people than this one"
    cases = [
        (c.id, c.id, "cannot be merged into itself"),
        # The duplicate's followers and voters would follow an idea they cannot see.
        (c.id, secret.id, f"Idea #{secret.id} {fewer}"),
        (c.id, insider.id, f"Idea #{insider.id} {fewer}"),
        (insider.id, secret.id, fewer),
        (c.id, hidden.id, fewer),
        (c.id, b.id, f"Idea #{b.id} is itself merged; merge into #{a.id}."),
        (b.id, c.id, "merged already"),
        (c.id, 999_999, "There is no such idea."),
        (c.id, None, "Give the number"),
        (c.id, "seven", "Give the number"),
    ]
    before = await Idea.all().order_by("id").values_list("id", "merged_into_id", "comment_count")
    for source, into, message in cases:
        with pytest.raises(Invalid) as caught:
            await service.merge(actor=staff, idea_id=source, into=into)
        assert set(caught.value.errors) == {"into"}, (source, into)
        assert message in caught.value.errors["into"], (source, into)
    with pytest.raises(Forbidden):
        await service.merge(actor=await make_user(), idea_id=c.id, into=a.id)
    assert await Idea.all().order_by("id").values_list("id", "merged_into_id", "comment_count") == before
    assert await AuditEntry.filter(action="idea.merge").count() == 1
    # Into an idea at least as widely seen: a private or insider duplicate into a public idea.
    await service.merge(actor=staff, idea_id=secret.id, into=c.id)
    await service.merge(actor=staff, idea_id=insider.id, into=c.id)


async def test_merge_refusals_in_the_page_and_the_api(browser: SignedIn) -> None:
    board = await make_board()
    a, b, c = await make_idea(board=board), await make_idea(board=board), await make_idea(board=board)
    staff, _ = await browser(role="staff")
    assert (await staff.post_form(f"/ideas/{b.id}/merge", {"into": str(a.id)})).status_code == 303
    for source, into in ((c.id, c.id), (c.id, b.id), (b.id, c.id)):
        response = await staff.post_form(f"/ideas/{source}/merge", {"into": str(into)})
        assert response.status_code == 422, (source, into)
        assert "<strong>into</strong>:" in response.text
        body = problem(await staff.api("POST", f"/api/v1/ideas/{source}/merge", json={"into": into}))
        assert set(body["errors"]) == {"into"}, (source, into)
    assert await AuditEntry.filter(action="idea.merge").count() == 1


async def test_the_duplicate_address_redirects_to_the_target(anon: Client) -> None:
    board = await make_board()
    staff = await make_user(role="staff")
    target = await make_idea(board=board, title="The target idea")
    duplicate = await make_idea(board=board, title="The duplicate idea")
    await service.merge(actor=staff, idea_id=duplicate.id, into=target.id)
    response = await anon.get(service.idea_url(duplicate))
    assert response.status_code == 301
    assert response.headers["location"] == f"/ideas/{target.id}"
    page = await anon.get(service.idea_url(duplicate), follow_redirects=True)
    assert page.status_code == 200
    assert str(page.url) == f"http://testserver/ideas/{target.id}-the-target-idea"
    assert "“The duplicate idea” was merged into this idea." in page.text
    assert f"#{duplicate.id} The duplicate idea" in page.text


async def test_comments_of_a_private_or_hidden_duplicate_stay_hidden_on_a_public_target(  # type: ignore[no-untyped-def]
    app,
) -> None:
    staff = await make_user(role="staff")
    reader = await make_user()
    target = await make_idea(title="Public target")
    secret = await make_idea(board=await make_board(visibility="private"), title="Private duplicate")
    hidden = await make_idea(title="Hidden duplicate")
    middle = await make_idea(title="Public duplicate")
    await make_comment(idea=secret, author=staff, body="from the private board")
    await make_comment(idea=hidden, body="from the hidden idea")
    await make_comment(idea=middle, body="from the public duplicate")
    # A chain: private -> middle -> target.
    await service.merge(actor=staff, idea_id=secret.id, into=middle.id)
    await Idea.filter(id=hidden.id).update(hidden_at=service.now())
    await service.merge(actor=staff, idea_id=hidden.id, into=target.id)
    await service.merge(actor=staff, idea_id=middle.id, into=target.id)

    def bodies(comments: list[dict]) -> set[str]:  # type: ignore[type-arg]
        return {c["body_html"].strip() for c in comments}

    seen_by_reader = bodies(await queries.visible_comments(reader, target.id))
    assert seen_by_reader == {"<p>from the public duplicate</p>"}
    assert bodies(await queries.comments_for_api(None, target.id)) == seen_by_reader
    assert len(bodies(await queries.visible_comments(staff, target.id))) == 3
    # The count everyone sees counts only what everyone may see, through moderation too.
    assert (await Idea.get(id=target.id)).comment_count == 1
    by_body = {c.body_md: c for c in await Comment.filter(idea_id=target.id)}
    private_one, public_one = by_body["from the private board"], by_body["from the public duplicate"]
    await moderation.hide_comment(actor=staff, comment_id=private_one.id, reason="test")
    assert (await Idea.get(id=target.id)).comment_count == 1
    await moderation.unhide_comment(actor=staff, comment_id=private_one.id)
    assert (await Idea.get(id=target.id)).comment_count == 1
    await moderation.hide_comment(actor=staff, comment_id=public_one.id, reason="test")
    assert (await Idea.get(id=target.id)).comment_count == 0


async def test_the_idea_page_does_not_show_a_private_duplicates_comments(  # type: ignore[no-untyped-def]
    app, anon: Client
) -> None:
    staff = await make_user(role="staff")
    target = await make_idea(title="Public target")
    secret = await make_idea(board=await make_board(visibility="private"))
    await make_comment(idea=secret, author=staff, body="confidential roadmap detail")
    await service.merge(actor=staff, idea_id=secret.id, into=target.id)
    page = await anon.get(f"/ideas/{target.id}", follow_redirects=True)
    assert page.status_code == 200
    assert "confidential roadmap detail" not in page.text


async def test_a_comment_from_a_private_duplicate_cannot_be_the_public_answer(app) -> None:  # type: ignore[no-untyped-def]
    """Marking the answer tells every follower its text: it must be one everyone may read."""
    staff, follower = await make_user(role="staff"), await make_user()
    target = await make_idea(title="Public target")
    await service.follow(actor=follower, idea_id=target.id)
    secret = await make_idea(board=await make_board(visibility="private"), title="Private duplicate")
    private = await make_comment(idea=secret, author=staff, body="Internal pricing: 9 euros")
    await Comment.filter(id=private.id).update(by_staff=True)
    await service.merge(actor=staff, idea_id=secret.id, into=target.id)
    with pytest.raises(Invalid) as refused:
        await comments.mark_official(actor=staff, comment_id=private.id)
    assert "written on an idea not everyone may see" in refused.value.errors["comment"]
    assert (await Idea.get(id=target.id)).official_comment_id is None
    assert not await Notification.filter(user_id=follower.id, kind="official_response").exists()
    public = await comments.post_comment(actor=staff, idea_id=target.id, body="We are on it.")
    await comments.mark_official(actor=staff, comment_id=public.id)
    assert await Notification.filter(user_id=follower.id, kind="official_response").exists()
