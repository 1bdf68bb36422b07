"""News of an idea (status changes, official answers, mentions, merges) reaches only those who may
see the idea now: following it outlasts the access it needed (ideas.visibility.readers_among)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ideas import catalog, comments, moderation, service
from ideas.models import Board
from ideas.service import handle_of
from portal import notifications, outbox
from portal.models import KeptMail, Notification, NotificationPreference
from tests.factories import make_board, make_idea, make_user


async def told(user_id: int) -> list[str]:
    rows = await Notification.filter(user_id=user_id).order_by("id").values_list("title", "body")
    return [f"{title} | {body}" for title, body in rows]


async def test_a_follower_of_an_idea_on_a_board_made_private_hears_nothing_more(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board(slug="beta")
    staff, member, other = await make_user(role="staff"), await make_user(), await make_user()
    idea = await make_idea(board=board, author=member, title="Offline sync for the beta")
    await service.follow(actor=other, idea_id=idea.id)
    await service.change_status(actor=staff, idea_id=idea.id, status="planned", message="Soon.")
    assert [len(await told(u.id)) for u in (member, other)] == [1, 1], "while public, both are told"

    await Board.filter(id=board.id).update(visibility="private")
    await catalog.changed()
    await service.change_status(actor=staff, idea_id=idea.id, status="in_progress", message="Charging for it")
    answer = await comments.post_comment(
        actor=staff, idea_id=idea.id, body=f"Internal: priced at $9 @{handle_of(other.name)}"
    )
    await comments.mark_official(actor=staff, comment_id=answer.id)
    for user in (member, other):
        news = await told(user.id)
        assert len(news) == 1 and not any("Charging" in n or "$9" in n for n in news), news
    fellow = await make_user(role="staff")
    await service.follow(actor=fellow, idea_id=idea.id)
    await service.change_status(actor=staff, idea_id=idea.id, status="shipped", message="Done.")
    assert await told(fellow.id) == ["“Offline sync for the beta” is now Shipped | Done."], (
        "staff still see it"
    )


async def test_a_follower_of_a_hidden_idea_hears_nothing_of_it(app) -> None:  # type: ignore[no-untyped-def]
    staff, member = await make_user(role="staff"), await make_user()
    idea = await make_idea(board=await make_board(), title="Spam we hid")
    await service.follow(actor=member, idea_id=idea.id)
    await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="spam")
    await service.change_status(actor=staff, idea_id=idea.id, status="declined", message="No.")
    assert await told(member.id) == []


async def test_a_digest_leaves_out_news_of_an_idea_hidden_since(app, settings) -> None:  # type: ignore[no-untyped-def]
    """The digest goes out up to a day after its notices were written: it asks again."""
    member, staff = await make_user(), await make_user(role="admin")
    hidden = await make_idea(board=await make_board(), title="Secretive title here")
    kept = await make_idea(board=await make_board(), title="A public one")
    for idea in (hidden, kept):
        await service.follow(actor=member, idea_id=idea.id)
    await NotificationPreference.create(user=member, kind="status_changed", mode="digest")
    for idea in (hidden, kept):
        await service.change_status(actor=staff, idea_id=idea.id, status="planned", message="Soon.")
    await moderation.hide_idea(actor=staff, idea_id=hidden.id, reason="spam")
    later = datetime.now(UTC) + timedelta(days=1)
    assert await notifications.queue_digests(now=later, hour=later.hour) == 1
    worker = outbox.Worker(settings, clock=lambda: later)
    while await worker.run_once():
        pass
    [digest] = await KeptMail.filter(recipient=member.email).values("subject", "text")
    assert "A public one" in digest["text"] and "Secretive title here" not in digest["text"]
