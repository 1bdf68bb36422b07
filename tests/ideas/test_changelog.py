"""The changelog: staff publish entries linking ideas; voters and followers hear once; readers see
only what they may (private ideas unlinked, insider previews hidden)."""

from __future__ import annotations

import re

from ideas import changelog, service
from ideas.models import ChangelogEntry, ChangelogIdea
from portal.models import AuditEntry, Notification
from tests.browser import Client
from tests.factories import make_board, make_comment, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import between
from voting.service import cast_vote


async def notified(user_id: int) -> list[Notification]:
    return await Notification.filter(user_id=user_id, kind="changelog")


async def test_staff_publish_and_voters_and_followers_hear_once(anon: Client, browser: SignedIn) -> None:
    board = await make_board(slug="app")
    author_one, author_two = await make_user(), await make_user()
    dark = await make_idea(board=board, author=author_one, title="Dark mode everywhere")
    export = await make_idea(board=board, author=author_two, title="Export to spreadsheets")
    voter, follower, both, bystander = [await make_user() for _ in range(4)]
    await cast_vote(actor=voter, idea_id=dark.id, priority="must")
    await service.follow(actor=follower, idea_id=export.id)
    await cast_vote(actor=both, idea_id=dark.id)
    await cast_vote(actor=both, idea_id=export.id)
    await service.follow(actor=both, idea_id=export.id)
    staff_client, staff = await browser(role="staff")
    await make_comment(idea=dark, author=staff, body="Working on it.")  # the writer follows too

    page = await staff_client.get(f"/changelog/new?ideas={dark.id}")
    assert page.status_code == 200
    assert f'name="ideas" type="text"\n         value="{dark.id}"' in page.text
    assert '<option value="">Everyone</option>' in page.text, "no preview unless a tier is chosen"
    assert '<option value="insider" >Insider</option>' in page.text
    response = await staff_client.post_form(
        "/changelog/new",
        {
            "title": "Dark mode and spreadsheet export",
            "body": "Both are **live** today.",
            "ideas": f"{dark.id}, #{export.id}, {dark.id}",
            "min_tier": "",
        },
    )
    assert response.status_code == 303, response.text
    entry = await ChangelogEntry.get()
    assert response.headers["location"] == f"/changelog/{entry.id}"
    assert entry.title == "Dark mode and spreadsheet export"
    assert entry.body_html == "<p>Both are <strong>live</strong> today.</p>\n"
    assert entry.min_tier is None and entry.published_at is not None and entry.author_id == staff.id
    linked = await ChangelogIdea.filter(entry_id=entry.id).values_list("idea_id", flat=True)
    assert sorted(linked) == sorted([dark.id, export.id])
    assert await AuditEntry.filter(action="changelog.create", object_id=entry.id).count() == 1

    for person in (author_one, author_two, voter, follower, both):
        notes = await notified(person.id)
        assert len(notes) == 1, person.name
        assert notes[0].title == "Shipped: Dark mode and spreadsheet export"
        assert notes[0].url == f"/changelog/{entry.id}"
        assert "Dark mode everywhere" in notes[0].body and "Export to spreadsheets" in notes[0].body
    assert await notified(bystander.id) == []
    assert await notified(staff.id) == []  # the writer is not told of their own entry
    assert await Notification.filter(kind="changelog").count() == 5

    for reader in (anon, staff_client):
        listing = await reader.get("/changelog")
        assert listing.status_code == 200
        item = between(listing.text, f'id="entry-{entry.id}"', "</article>")
        assert "<strong>live</strong>" in item
        assert f'<a href="/ideas/{dark.id}-dark-mode-everywhere">Dark mode everywhere</a>' in item
        assert f'<a href="/ideas/{export.id}-export-to-spreadsheets">' in item
        single = await reader.get(f"/changelog/{entry.id}")
        assert single.status_code == 200 and "<h1>Dark mode and spreadsheet export</h1>" in single.text
        assert "<h2><a href" in listing.text and "<h1>Dark mode" not in listing.text
    assert (await anon.get("/changelog/999")).status_code == 404


async def test_writing_takes_staff_and_valid_input(anon: Client, browser: SignedIn) -> None:
    board = await make_board(slug="app")
    idea = await make_idea(board=board)
    await cast_vote(actor=await make_user(), idea_id=idea.id)
    member_client, _ = await browser()
    assert (await member_client.get("/changelog/new")).status_code == 403
    response = await member_client.post_form("/changelog/new", {"title": "Something shipped", "ideas": ""})
    assert response.status_code == 403
    assert (await anon.get("/changelog/new")).status_code in (401, 303)
    assert "Write an entry" not in (await member_client.get("/changelog")).text

    staff_client, _ = await browser(role="staff")
    assert "Write an entry" in (await staff_client.get("/changelog")).text
    cases = [
        ({"title": "ab", "ideas": str(idea.id)}, {"title"}),
        ({"title": " " * 10, "ideas": ""}, {"title"}),
        ({"title": "x" * 141, "ideas": ""}, {"title"}),
        ({"title": "A fine title", "ideas": f"{idea.id}, 9999"}, {"ideas"}),
        ({"title": "A fine title", "ideas": "twelve"}, {"ideas"}),
        ({"title": "A fine title", "body": "x" * 20_001, "ideas": ""}, {"body"}),
        ({"title": "no", "ideas": "9999"}, {"title", "ideas"}),
    ]
    for values, fields in cases:
        response = await staff_client.post_form("/changelog/new", {"body": "", "min_tier": "", **values})
        assert response.status_code == 422, values
        for field in ("title", "body", "ideas"):
            marked = re.search(rf'<div class="field field-error">\s*<label for="f-{field}">', response.text)
            marked = marked is not None
            assert marked == (field in fields), (values, field)
        if "ideas" in fields and "9999" in values["ideas"]:
            assert "There is no idea #9999." in response.text
        if values["title"] == "A fine title":
            assert 'value="A fine title"' in response.text  # what was typed is kept
    response = await staff_client.post_form(
        "/changelog/new", {"title": "A fine title", "body": "", "ideas": "", "min_tier": "gold"}
    )
    assert response.status_code == 422
    assert "Choose one of Member, Contributor, Insider, Champion." in response.text
    assert await ChangelogEntry.all().count() == 0
    assert await ChangelogIdea.all().count() == 0
    assert await Notification.filter(kind="changelog").count() == 0
    assert await AuditEntry.filter(action="changelog.create").count() == 0


async def test_readers_see_only_what_they_may(anon: Client, browser: SignedIn) -> None:
    public = await make_board(slug="public")
    private = await make_board(slug="private", visibility="private")
    fan = await make_user()
    shown = await make_idea(board=public, author=fan, title="Public calendar sync")
    secret = await make_idea(board=private, title="Secret acquisition integration")
    staff = await make_user(role="staff")
    colleague = await make_user(role="staff")
    await service.follow(actor=colleague, idea_id=shown.id)

    entry = await changelog.create_entry(
        actor=staff, title="Calendar sync is here", body="Enjoy.", idea_ids=f"{shown.id}, {secret.id}"
    )
    preview = await changelog.create_entry(
        actor=staff,
        title="Insider preview of maps",
        body="Early.",
        idea_ids=str(shown.id),
        min_tier="insider",
    )
    draft = await changelog.create_entry(actor=staff, title="Draft notes", body="", publish=False)

    member_client, _ = await browser()
    staff_client, _ = await browser(role="staff", user=staff)
    for reader in (anon, member_client):
        listing = (await reader.get("/changelog")).text
        assert "Calendar sync is here" in listing
        assert f"/ideas/{shown.id}-public-calendar-sync" in listing
        assert "Secret acquisition" not in listing and f"/ideas/{secret.id}" not in listing
        assert "Insider preview of maps" not in listing and "Draft notes" not in listing
        single = (await reader.get(f"/changelog/{entry.id}")).text
        assert "Secret acquisition" not in single and f"/ideas/{secret.id}" not in single
        assert (await reader.get(f"/changelog/{preview.id}")).status_code == 404
        assert (await reader.get(f"/changelog/{draft.id}")).status_code == 404

    listing = (await staff_client.get("/changelog")).text
    assert "Insider preview of maps" in listing and "insider preview" in listing
    assert f"/ideas/{secret.id}-secret-acquisition-integration" in listing
    assert "Draft notes" not in listing  # drafts are not listed, but open to staff
    assert (await staff_client.get(f"/changelog/{draft.id}")).status_code == 200

    # The public idea's follower hears of the public entry, without the private idea's title,
    # and does not hear of the insider preview they may not read.
    notes = await notified(fan.id)
    assert [n.url for n in notes] == [f"/changelog/{entry.id}"]
    assert "Public calendar sync" in notes[0].body and "Secret acquisition" not in notes[0].body
    previews = await notified(colleague.id)
    assert sorted(n.url for n in previews) == [f"/changelog/{entry.id}", f"/changelog/{preview.id}"]


async def test_older_entries_page_in_publication_order_without_gaps(client: Client) -> None:
    """Paging follows (published_at, id): an entry published late but created early is not skipped."""
    from datetime import UTC, datetime, timedelta

    from ideas import changelog as changelog_service
    from ideas.models import ChangelogEntry

    staff = await make_user(role="staff")
    entries = [
        await changelog_service.create_entry(actor=staff, title=f"Release number {n}", body="")
        for n in range(45)
    ]
    base = datetime(2026, 6, 1, tzinfo=UTC)
    # Publication order is the reverse of creation order.
    for n, entry in enumerate(entries):
        await ChangelogEntry.filter(id=entry.id).update(published_at=base - timedelta(hours=n))
    seen: list[int] = []
    before = None
    for _ in range(5):
        page = await changelog_service.entries_for(None, before=before)
        if not page:
            break
        seen.extend(item["entry"].id for item in page)
        before = page[-1]["entry"].id
    assert seen == [e.id for e in entries]
