"""The rules in ideas/service.py: posting, editing, statuses, following, merging, notifications, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ideas import comments, moderation, service
from ideas.events import (
    CommentPosted,
    ContentHidden,
    IdeaMerged,
    IdeaPosted,
    IdeaStatusChanged,
    MemberBanned,
)
from ideas.models import Comment, Follow, Idea, IdeaRevision, IdeaTag, StatusChange, Tag
from portal import events
from portal.errors import Forbidden, Invalid, NotFound, Unauthorized
from portal.models import AuditEntry, Notification, OutboxMessage, User
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import problem


async def _notified(kind: str) -> list[int]:
    """Who got a notification of `kind`, sorted; checks each has exactly one matching e-mail."""
    users = sorted(await Notification.filter(kind=kind).values_list("user_id", flat=True))
    mails = [m.payload for m in await OutboxMessage.filter(channel="email") if m.payload["kind"] == kind]
    assert sorted(m["user_id"] for m in mails) == users
    return users


# --- posting ---------------------------------------------------------------------------------


async def test_post_idea_stores_everything_and_raises_idea_posted(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    author = await make_user()
    with events.record() as seen:
        idea = await service.post_idea(
            actor=author, board=board.slug, title="  Export  to PDF ", body="As **PDF**", tags="pdf, Export"
        )
    assert seen == [IdeaPosted(idea_id=idea.id, author_id=author.id, board_id=board.id)]
    idea = await Idea.get(id=idea.id)
    assert (idea.title, idea.slug, idea.status_id) == ("Export to PDF", "export-to-pdf", "open")
    assert idea.body_html == "<p>As <strong>PDF</strong></p>\n"
    assert idea.trending_score > 0 and idea.last_activity_at == idea.created_at
    tags = await IdeaTag.filter(idea_id=idea.id).order_by("id").values_list("tag__slug", flat=True)
    assert tags == ["pdf", "export"]
    assert await Follow.exists(idea_id=idea.id, user_id=author.id)
    # Tags are shared between ideas, made once.
    await service.post_idea(actor=author, board=board.id, title="Another one", body="", tags=["pdf"])
    assert await Tag.filter(slug="pdf").count() == 1


async def test_visitors_and_banned_members_cannot_post(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    with pytest.raises(Unauthorized):
        await service.post_idea(actor=None, board=board.id, title="Anonymous", body="")
    banned = await make_user(banned=True)
    with pytest.raises(Forbidden):
        await service.post_idea(actor=banned, board=board.id, title="Banned one", body="")
    assert await Idea.all().count() == 0


async def test_archived_boards_take_no_ideas(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board(archived_at=datetime.now(UTC))
    with pytest.raises(Invalid) as caught:
        await service.post_idea(actor=await make_user(), board=board.id, title="Too late", body="")
    assert set(caught.value.errors) == {"board"}


# --- editing ---------------------------------------------------------------------------------


async def test_author_edits_within_30_minutes_and_a_revision_is_kept(app) -> None:  # type: ignore[no-untyped-def]
    author = await make_user()
    idea = await make_idea(author=author, title="Original title", body="Original body", tags="x")
    edited = await service.edit_idea(
        actor=author, idea_id=idea.id, title="Better title", body="Better body", tags="y, z"
    )
    assert (edited.title, edited.slug, edited.body_md) == ("Better title", "better-title", "Better body")
    assert edited.body_html == "<p>Better body</p>\n" and edited.tags_text == "y z"
    tags = await IdeaTag.filter(idea_id=idea.id).values_list("tag__slug", flat=True)
    assert sorted(tags) == ["y", "z"]
    revision = await IdeaRevision.get(idea_id=idea.id)
    assert (revision.title, revision.body_md, revision.editor_id) == (
        "Original title",
        "Original body",
        author.id,
    )
    assert not await AuditEntry.filter(action="idea.edit").exists()  # own edits are not staff actions


async def test_author_cannot_edit_after_30_minutes_but_staff_can(browser: SignedIn) -> None:
    client, author = await browser()
    idea = await make_idea(author=author, created_at=datetime.now(UTC) - timedelta(minutes=31))
    assert (await client.get(f"/ideas/{idea.id}/edit")).status_code == 403
    response = await client.post_form(f"/ideas/{idea.id}/edit", {"title": "Sneaky change", "body": ""})
    assert response.status_code == 403
    page = (await client.get(service.idea_url(idea))).text
    assert f'href="/ideas/{idea.id}/edit"' not in page
    assert (await Idea.get(id=idea.id)).title == idea.title
    assert await IdeaRevision.all().count() == 0

    staff, staff_user = await browser(role="staff")
    assert f'href="/ideas/{idea.id}/edit"' in (await staff.get(service.idea_url(idea))).text
    response = await staff.post_form(f"/ideas/{idea.id}/edit", {"title": "Clearer title", "body": "Tidied"})
    assert response.status_code == 303
    assert (await Idea.get(id=idea.id)).title == "Clearer title"
    revision = await IdeaRevision.get(idea_id=idea.id)
    assert (revision.title, revision.editor_id) == (idea.title, staff_user.id)
    entry = await AuditEntry.get(action="idea.edit")
    assert (entry.actor_id, entry.object_id) == (staff_user.id, idea.id)


async def test_author_edit_window_boundary(app) -> None:  # type: ignore[no-untyped-def]
    author = await make_user()
    fresh = await make_idea(author=author, created_at=datetime.now(UTC) - timedelta(minutes=29))
    await service.edit_idea(actor=author, idea_id=fresh.id, title="Still in time", body="")
    stale = await make_idea(author=author, created_at=datetime.now(UTC) - timedelta(minutes=30, seconds=5))
    with pytest.raises(Forbidden):
        await service.edit_idea(actor=author, idea_id=stale.id, title="Too late now", body="")
    with pytest.raises(Forbidden):  # not the author
        await service.edit_idea(actor=await make_user(), idea_id=fresh.id, title="Not mine at all", body="")


# --- statuses --------------------------------------------------------------------------------


async def test_status_change_records_history_times_and_events(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    staff = await make_user(role="staff")
    with events.record() as seen:
        await service.change_status(actor=staff, idea_id=idea.id, status="under_review", message="Looking")
    change = await StatusChange.get(idea_id=idea.id)
    assert seen == [
        IdeaStatusChanged(
            idea_id=idea.id,
            change_id=change.id,
            actor_id=staff.id,
            from_status="open",
            to_status="under_review",
        )
    ]
    idea = await Idea.get(id=idea.id)
    assert idea.first_response_at == change.created_at
    assert idea.decided_at is None  # under review is not a decision yet
    await service.change_status(actor=staff, idea_id=idea.id, status="planned")
    idea = await Idea.get(id=idea.id)
    assert idea.decided_at is not None and idea.first_response_at == change.created_at
    assert idea.last_activity_at >= idea.decided_at
    entries = await AuditEntry.filter(action="idea.status").order_by("id").values_list("detail", flat=True)
    assert entries == [
        {"status": "under_review", "previous": "open"},
        {"status": "planned", "previous": "under_review"},
    ]


async def test_merged_ideas_keep_their_status(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    staff = await make_user(role="staff")
    target, duplicate = await make_idea(board=board), await make_idea(board=board)
    await service.merge(actor=staff, idea_id=duplicate.id, into=target.id)
    with pytest.raises(Invalid) as caught:
        await service.change_status(actor=staff, idea_id=duplicate.id, status="planned")
    assert set(caught.value.errors) == {"status"}


# --- following -------------------------------------------------------------------------------


async def test_follow_and_unfollow_are_idempotent(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    member = await make_user()
    assert await service.follow(actor=member, idea_id=idea.id) is True
    assert await service.follow(actor=member, idea_id=idea.id) is False
    assert await Follow.filter(idea_id=idea.id, user_id=member.id).count() == 1
    assert await service.unfollow(actor=member, idea_id=idea.id) is True
    assert await service.unfollow(actor=member, idea_id=idea.id) is False
    with pytest.raises(Unauthorized):
        await service.follow(actor=None, idea_id=idea.id)


# --- notifications ---------------------------------------------------------------------------


async def test_followers_hear_of_status_changes_once_and_the_actor_never(app) -> None:  # type: ignore[no-untyped-def]
    author = await make_user()
    idea = await make_idea(author=author, title="Bulk edit")
    fan, commenter = await make_user(), await make_user()
    await service.follow(actor=fan, idea_id=idea.id)
    await make_comment(idea=idea, author=commenter)
    staff = await make_user(role="staff")
    await service.follow(actor=staff, idea_id=idea.id)  # the actor follows too: still not told
    await make_user()  # a bystander
    await service.change_status(actor=staff, idea_id=idea.id, status="planned", message="In May")
    assert await _notified("status_changed") == sorted([author.id, fan.id, commenter.id])
    note = await Notification.get(kind="status_changed", user_id=fan.id)
    assert note.title == "“Bulk edit” is now Planned"
    assert note.body == "In May" and note.url == f"/ideas/{idea.id}-bulk-edit"
    mail = await OutboxMessage.get(dedupe_key=f"email:{note.dedupe_key}")
    assert mail.payload["title"] == note.title and mail.sent_at is None
    await service.change_status(actor=staff, idea_id=idea.id, status="shipped")
    assert await Notification.filter(kind="status_changed").count() == 6  # once per change per follower


async def test_banned_followers_and_unfollowers_are_not_told(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    gone, banned = await make_user(), await make_user()
    await service.follow(actor=gone, idea_id=idea.id)
    await service.follow(actor=banned, idea_id=idea.id)
    await service.unfollow(actor=gone, idea_id=idea.id)
    await User.filter(id=banned.id).update(banned_at=datetime.now(UTC))
    await service.change_status(actor=await make_user(role="staff"), idea_id=idea.id, status="planned")
    assert await _notified("status_changed") == [idea.author_id]


async def test_followers_hear_of_the_official_response(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    fan = await make_user()
    await service.follow(actor=fan, idea_id=idea.id)
    staff, other_staff = await make_user(role="staff"), await make_user(role="staff")
    answer = await make_comment(idea=idea, author=staff, body="Here is our answer")
    await comments.mark_official(actor=other_staff, comment_id=answer.id)
    # The staff who wrote it follows by commenting and is told; the one who pinned it is not.
    assert await _notified("official_response") == sorted([idea.author_id, fan.id, staff.id])
    assert (await Notification.get(kind="official_response", user_id=fan.id)).body == "Here is our answer"
    await comments.mark_official(actor=other_staff, comment_id=answer.id)  # again: nobody told twice
    assert await Notification.filter(kind="official_response").count() == 3


async def test_followers_of_a_duplicate_hear_of_the_merge(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    target = await make_idea(board=board, title="Target idea")
    duplicate = await make_idea(board=board, title="Duplicate idea")
    fan = await make_user()
    await service.follow(actor=fan, idea_id=duplicate.id)
    await service.follow(actor=fan, idea_id=target.id)  # follows both: still told once
    staff = await make_user(role="staff")
    await service.follow(actor=staff, idea_id=duplicate.id)
    await service.merge(actor=staff, idea_id=duplicate.id, into=target.id)
    assert await _notified("idea_merged") == sorted([duplicate.author_id, fan.id])
    note = await Notification.get(kind="idea_merged", user_id=fan.id)
    assert note.title == "“Duplicate idea” was merged into “Target idea”"
    assert note.url == f"/ideas/{target.id}-target-idea"


async def test_mentions_notify_participants_only(app) -> None:  # type: ignore[no-untyped-def]
    author = await make_user(name="Ada Lovelace")
    idea = await make_idea(author=author)
    helper = await make_user(name="Grace")
    await make_comment(idea=idea, author=helper, body="I have thoughts")
    stranger = await make_user(name="Stranger")
    staff = await make_user(role="staff", name="Sam")
    writer = await make_user(name="Writer")
    await make_comment(
        idea=idea, author=writer, body="@adalovelace and @GRACE, see this. @stranger @sam @writer @nobody"
    )
    mentioned = await _notified("mention")
    assert mentioned == sorted([author.id, helper.id, staff.id])  # not the stranger, not the writer
    note = await Notification.get(kind="mention", user_id=helper.id)
    assert note.title == f"Writer mentioned you on “{idea.title}”"
    assert stranger.id not in mentioned


async def test_mention_in_an_html_comment_notifies(browser: SignedIn) -> None:
    author = await make_user(name="Olga")
    idea = await make_idea(author=author)
    client, _ = await browser(name="Petra")
    await client.post_form(f"/ideas/{idea.id}/comments", {"body": "What do you think, @olga?"})
    assert await _notified("mention") == [author.id]


# --- events ----------------------------------------------------------------------------------


async def test_events_of_the_whole_loop(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    member, staff = await make_user(), await make_user(role="staff")
    with events.record() as seen:
        idea = await service.post_idea(actor=member, board=board.id, title="Eventful idea", body="")
        duplicate = await service.post_idea(actor=member, board=board.id, title="Same idea again", body="")
        comment = await comments.post_comment(actor=member, idea_id=idea.id, body="first")
        await comments.post_comment(actor=staff, idea_id=idea.id, body="note", internal=True)
        await service.change_status(actor=staff, idea_id=idea.id, status="planned")
        await service.merge(actor=staff, idea_id=duplicate.id, into=idea.id)
        await moderation.hide_comment(actor=staff, comment_id=comment.id, reason="rude")
        await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="spam")
        await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="spam")  # twice: one event
    change = await StatusChange.get(idea_id=idea.id)
    assert seen == [
        IdeaPosted(idea_id=idea.id, author_id=member.id, board_id=board.id),
        IdeaPosted(idea_id=duplicate.id, author_id=member.id, board_id=board.id),
        CommentPosted(comment_id=comment.id, idea_id=idea.id, author_id=member.id),
        # internal notes raise nothing
        IdeaStatusChanged(
            idea_id=idea.id, change_id=change.id, actor_id=staff.id, from_status="open", to_status="planned"
        ),
        IdeaMerged(source_id=duplicate.id, target_id=idea.id, actor_id=staff.id),
        ContentHidden(kind="comment", object_id=comment.id, author_id=member.id),
        ContentHidden(kind="idea", object_id=idea.id, author_id=member.id),
    ]


async def test_failed_actions_raise_no_events(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    member, staff = await make_user(), await make_user(role="staff")
    with events.record() as seen:
        for action in (
            service.post_idea(actor=member, board="nope", title="No board", body=""),
            service.change_status(actor=member, idea_id=idea.id, status="planned"),
            service.change_status(actor=staff, idea_id=idea.id, status="open"),
            service.merge(actor=staff, idea_id=idea.id, into=idea.id),
            comments.post_comment(actor=member, idea_id=idea.id, body=""),
            moderation.ban_member(actor=member, user_id=idea.author_id, reason="x"),
            service.change_status(actor=staff, idea_id=999_999, status="planned"),
        ):
            with pytest.raises((Invalid, Forbidden, NotFound)):
                await action
    assert seen == []


async def test_ban_raises_content_hidden_for_each_item_then_member_banned(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board()
    troll, staff = await make_user(), await make_user(role="staff")
    idea = await make_idea(board=board, author=troll)
    other = await make_idea(board=board)
    comment = await make_comment(idea=other, author=troll)
    with events.record() as seen:
        await moderation.ban_member(actor=staff, user_id=troll.id, reason="trolling")
    assert seen == [
        ContentHidden(kind="idea", object_id=idea.id, author_id=troll.id),
        ContentHidden(kind="comment", object_id=comment.id, author_id=troll.id),
        MemberBanned(user_id=troll.id, actor_id=staff.id),
    ]


async def test_api_post_raises_idea_posted(browser: SignedIn) -> None:
    await make_board(slug="b")
    client, user = await browser()
    with events.record() as seen:
        response = await client.api("POST", "/api/v1/ideas", json={"board": "b", "title": "Via the API"})
        problem(await client.api("POST", "/api/v1/ideas", json={"board": "b", "title": ""}))
    assert [type(e) for e in seen] == [IdeaPosted]
    assert seen[0].idea_id == response.json()["id"] and seen[0].author_id == user.id
    assert await Comment.all().count() == 0
