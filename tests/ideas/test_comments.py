"""Comments: replies, staff notes, the official response, helpful marks, merged comments."""

from __future__ import annotations

import re

import pytest

from ideas import comments, moderation, service
from ideas.events import CommentMarkedHelpful
from ideas.models import Comment, Follow, Idea
from ideas.threads import kept_threads
from portal import events
from portal.errors import Forbidden, Invalid
from portal.templating import CSRF_SLOT
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import between


async def test_posting_a_comment_counts_follows_and_bumps_activity(browser: SignedIn) -> None:
    idea = await make_idea()
    client, member = await browser()
    response = await client.post_form(f"/ideas/{idea.id}/comments", {"body": "Great *idea*"})
    assert response.status_code == 303
    comment = await Comment.get(idea_id=idea.id)
    assert (comment.author_id, comment.body_html, comment.by_staff) == (
        member.id,
        "<p>Great <em>idea</em></p>\n",
        False,
    )
    after = await Idea.get(id=idea.id)
    assert after.comment_count == 1
    assert after.last_activity_at > idea.last_activity_at
    assert after.trending_score > idea.trending_score
    assert after.first_response_at is None  # a member's comment is not an answer
    assert await Follow.exists(idea_id=idea.id, user_id=member.id)


async def test_a_staff_comment_is_the_first_response(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    staff = await make_user(role="staff")
    first = await make_comment(idea=idea, author=staff)
    assert first.by_staff
    idea = await Idea.get(id=idea.id)
    assert idea.first_response_at == first.created_at
    await make_comment(idea=idea, author=staff)
    assert (await Idea.get(id=idea.id)).first_response_at == first.created_at


async def test_internal_notes_are_for_staff_only(anon: Client, browser: SignedIn) -> None:
    idea = await make_idea()
    member, member_user = await browser()
    staff, _ = await browser(role="staff")
    response = await staff.post_form(
        f"/ideas/{idea.id}/comments", {"body": "Customer is ACME", "internal": "1"}
    )
    assert response.status_code == 303
    note = await Comment.get(idea_id=idea.id)
    assert note.internal
    assert (await Idea.get(id=idea.id)).comment_count == 0
    for reader in (anon, member):
        assert "Customer is ACME" not in (await reader.get(service.idea_url(idea))).text
        assert (await reader.get(f"/api/v1/ideas/{idea.id}/comments")).json() == []
    staff_page = (await staff.get(service.idea_url(idea))).text
    assert "Customer is ACME" in staff_page and "Internal note" in staff_page
    assert [c["internal"] for c in (await staff.get(f"/api/v1/ideas/{idea.id}/comments")).json()] == [True]
    # Members cannot write one, nor reply to one.
    with pytest.raises(Forbidden):
        await comments.post_comment(actor=member_user, idea_id=idea.id, body="psst", internal=True)
    with pytest.raises(Invalid) as caught:
        await comments.post_comment(actor=member_user, idea_id=idea.id, body="re", parent=note.id)
    assert set(caught.value.errors) == {"parent"}
    assert await Comment.all().count() == 1


async def test_only_a_visible_staff_comment_can_be_official(browser: SignedIn) -> None:
    idea = await make_idea()
    staff, staff_user = await browser(role="staff")
    member_comment = await make_comment(idea=idea)
    note = await make_comment(idea=idea, author=staff_user, internal=True)
    for comment in (member_comment, note):
        response = await staff.post_form(f"/comments/{comment.id}/official")
        assert response.status_code == 422
        assert "<strong>comment</strong>" in response.text
    assert (await Idea.get(id=idea.id)).official_comment_id is None
    assert (await staff.post_form("/comments/999999/official")).status_code == 404


async def test_the_official_response_is_pinned_above_the_comments(anon: Client) -> None:
    idea = await make_idea()
    staff = await make_user(role="staff", name="Olivia Official")
    await make_comment(idea=idea, body="First member comment")
    answer = await make_comment(idea=idea, author=staff, body="The official word")
    await make_comment(idea=idea, body="Later member comment")
    await comments.mark_official(actor=staff, comment_id=answer.id)
    html = (await anon.get(service.idea_url(idea))).text
    official = between(html, 'id="official-h"', "</section>")
    assert "The official word" in official and "Olivia Official" in official
    rest = between(html, 'id="comments-h"', "</section>")
    assert "The official word" not in rest
    assert rest.index("First member comment") < rest.index("Later member comment")
    assert html.index('id="official-h"') < html.index('id="comments-h"')


async def test_replies_render_under_their_parent(anon: Client) -> None:
    idea = await make_idea()
    top = await make_comment(idea=idea, body="Top level")
    other = await make_comment(idea=idea, body="Another top")
    await make_comment(idea=idea, body="A reply", parent=top.id)
    html = (await anon.get(service.idea_url(idea))).text
    thread = between(html, f'id="comment-{top.id}"', f'id="comment-{other.id}"')
    assert '<div class="replies">' in thread and "A reply" in thread


async def test_members_share_a_kept_thread_and_each_page_carries_its_own_token(browser: SignedIn) -> None:
    idea = await make_idea()
    top = await make_comment(idea=idea, body="Top level")
    url = service.idea_url(idea)
    first, _ = await browser()
    second, second_user = await browser()

    first_html = (await first.get(url)).text
    drawn = kept_threads.drawn
    second_html = (await second.get(url)).text
    assert kept_threads.drawn == drawn  # the thread, reply forms and all, was drawn once for both

    tokens = [set(re.findall(r'name="csrf_token" value="([^"]+)"', h)) for h in (first_html, second_html)]
    assert all(len(t) == 1 for t in tokens) and tokens[0] != tokens[1]
    assert str(CSRF_SLOT) not in first_html + second_html
    kept = [k.value.thread for k in kept_threads.values()]
    kept = [m for m in kept if f'name="parent" value="{top.id}"' in m]
    assert kept and all(str(CSRF_SLOT) in m for m in kept)  # kept with the slot, never a token
    # The reply form under the comment works with the token printed in it, for its reader.
    assert f'name="parent" value="{top.id}"' in second_html
    response = await second.post_form(
        f"/ideas/{idea.id}/comments", {"body": "Mine", "parent": top.id, "csrf_token": tokens[1].pop()}
    )
    assert response.status_code == 303
    assert await Comment.exists(idea_id=idea.id, parent_id=top.id, author_id=second_user.id)
    forged = await second.post_form(
        f"/ideas/{idea.id}/comments", {"body": "Theirs", "parent": top.id, "csrf_token": tokens[0].pop()}
    )
    assert forged.status_code == 403


async def test_a_visitor_page_prints_no_token_and_sets_no_cookie(anon: Client) -> None:
    idea = await make_idea()
    await make_comment(idea=idea, body="Top level")
    response = await anon.get(service.idea_url(idea))
    assert "csrf" not in response.text and "set-cookie" not in response.headers


async def test_helpful_marks(browser: SignedIn) -> None:
    idea = await make_idea()
    comment = await make_comment(idea=idea)
    staff, staff_user = await browser(role="staff")
    with events.record() as seen:
        assert (await staff.post_form(f"/comments/{comment.id}/helpful")).status_code == 303
        assert (await staff.post_form(f"/comments/{comment.id}/helpful")).status_code == 303
    assert seen == [
        CommentMarkedHelpful(comment_id=comment.id, author_id=comment.author_id, actor_id=staff_user.id)
    ]
    assert (await Comment.get(id=comment.id)).helpful_at is not None
    own = await make_comment(idea=idea, author=staff_user)
    assert (await staff.post_form(f"/comments/{own.id}/helpful")).status_code == 422


async def test_merged_comments_appear_on_the_target_with_their_origin(anon: Client) -> None:
    board = await make_board()
    staff = await make_user(role="staff")
    target = await make_idea(board=board)
    await make_comment(idea=target, body="Target comment")
    duplicate = await make_idea(board=board)
    moved = await make_comment(idea=duplicate, body="Moved comment")
    hidden = await make_comment(idea=duplicate, body="Hidden comment")
    await moderation.hide_comment(actor=staff, comment_id=hidden.id, reason="rude")
    await make_comment(idea=duplicate, author=staff, body="Staff note", internal=True)
    await service.merge(actor=staff, idea_id=duplicate.id, into=target.id)
    moved = await Comment.get(id=moved.id)
    assert (moved.idea_id, moved.merged_from_id) == (target.id, duplicate.id)
    # Only the visible, public comment adds to the count; the duplicate counts none now.
    assert (await Idea.get(id=target.id)).comment_count == 2
    assert (await Idea.get(id=duplicate.id)).comment_count == 0
    html = (await anon.get(service.idea_url(target))).text
    assert "Moved comment" in html and f"from merged idea #{duplicate.id}" in html
    assert "Hidden comment" not in html and "Staff note" not in html
    # Nobody comments on the duplicate any more.
    with pytest.raises(Forbidden):
        await comments.post_comment(actor=await make_user(), idea_id=duplicate.id, body="late")
