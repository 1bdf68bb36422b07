"""A realistic small community for the accessibility and screenshot tests.

It has what makes pages hard to lay out: a title of 140 characters, a word too long for a phone,
five long tags, a long board name and a long member name, Markdown with code and quotes, replies,
an official response, a status history with messages, every roadmap column, a changelog entry,
ideas past their answer target (for triage), and an insider with points, a deal code and a program.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ideas import changelog, comments, service
from ideas.models import Idea
from portal.models import User
from rewards import ledger, perks
from tests import factories
from voting import service as votes

LONG_TITLE = (
    "Let administrators export every report, including archived projects and custom fields, "
    "to CSV, Excel and Google Sheets on a schedule"
)
LONG_WORD_TITLE = "Support for the Accept-Encoding:zstd-dictionary-compression-of-webhook-payloads header"
MANY_TAGS = "export, reports, scheduling, google-sheets, administration-and-permissions"
BODY = """Every month our finance team rebuilds the same spreadsheet by hand from five reports.

What we would like:

1. pick the reports and the columns once;
2. choose **CSV**, **Excel** or a **Google Sheet**;
3. get the files every Monday at 07:00.

> We lose about two days a month to this today.

The API works, but not everyone can script `GET /api/v1/reports?format=csv`."""


@dataclass
class Community:
    staff: User
    cm: User
    member: User  # an insider, with points, a code and a program
    newcomer: User  # no points, nothing claimed: the empty states
    long_idea: Idea  # long title, many tags, comments, an official response, a history
    planned: Idea
    shipped: Idea


def _ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


async def build() -> Community:
    admin = await factories.make_user(role="admin", name="Ada Admin")
    staff = await factories.make_user(role="staff", name="Priya Product")
    cm = await factories.make_user(role="community_manager", name="Cam Community")
    member = await factories.make_user(name="Maximiliane Alexandra von Hohenberg-Schwarzenfeld")
    newcomer = await factories.make_user(name="Nina Newcomer")
    people = [
        await factories.make_user(name=n)
        for n in ("Sam Okafor", "Aiko Tanaka", "Lena Lindqvist", "Tomás Ortega", "Ravi Iyer", "Zoë Martin")
    ]
    from ideas import boards as boards_service

    reporting = await boards_service.create_board(
        actor=admin,
        slug="reporting",
        name="Reporting and analytics for finance teams",
        description="Exports, dashboards and scheduled reports.",
    )
    mobile = await boards_service.create_board(actor=admin, slug="mobile", name="Mobile app")
    api = await boards_service.create_board(actor=admin, slug="api", name="API & integrations")

    long_idea = await factories.make_idea(
        board=reporting, author=member, title=LONG_TITLE, body=BODY, tags=MANY_TAGS, created_at=_ago(days=12)
    )
    await factories.make_idea(
        board=api,
        author=people[4],
        title=LONG_WORD_TITLE,
        body="Our payloads are large and similar; a shared dictionary would cut them by 80 %.",
        tags="webhooks, performance",
        created_at=_ago(days=5),
    )
    planned = await factories.make_idea(
        board=mobile, author=people[0], title="Offline mode for the mobile app", tags="offline, sync"
    )
    in_progress = await factories.make_idea(
        board=mobile, author=people[1], title="Face ID / fingerprint unlock", tags="security, login"
    )
    shipped = await factories.make_idea(
        board=api, author=people[2], title="Webhooks for every event", tags="webhooks, integrations"
    )
    declined = await factories.make_idea(
        board=reporting, author=people[3], title="Print every page in colour"
    )
    for n, title in enumerate(
        (
            "Dark mode",
            "Keyboard shortcuts for the board view",
            "Two-factor authentication with hardware keys",
            "Slack notifications per channel",
            "Custom fields on ideas",
        )
    ):
        await factories.make_idea(
            board=[mobile, api, reporting][n % 3],
            author=people[n],
            title=title,
            tags=["design", "productivity", "security", "slack", "fields"][n],
            created_at=_ago(days=4 + n),  # past the 72-hour answer target: in the triage queue
        )

    for n, voter in enumerate([member, newcomer, *people]):
        await votes.cast_vote(
            actor=voter, idea_id=long_idea.id, priority=["must", "important", "nice"][n % 3]
        )
        if n < 5:
            await votes.cast_vote(actor=voter, idea_id=planned.id)
        if n < 3:
            await votes.cast_vote(actor=voter, idea_id=shipped.id)

    first = await comments.post_comment(
        actor=people[0], idea_id=long_idea.id, body="Yes please — this would save our team hours every week."
    )
    await comments.post_comment(
        actor=people[1], idea_id=long_idea.id, parent=first.id, body="Same here; Excel matters most for us."
    )
    await comments.post_comment(
        actor=people[5],
        idea_id=long_idea.id,
        body="Would the schedule follow our time zone? We are in `Australia/Adelaide` (UTC+09:30).",
    )
    answer = await comments.post_comment(
        actor=staff,
        idea_id=long_idea.id,
        body="Thank you all! Scheduled exports are **planned** for the spring release; CSV and Excel first.",
    )
    await comments.mark_official(actor=staff, comment_id=answer.id)
    await service.change_status(
        actor=staff,
        idea_id=long_idea.id,
        status="under_review",
        message="We are sizing this with finance teams.",
    )
    await service.change_status(
        actor=staff,
        idea_id=long_idea.id,
        status="planned",
        promise="2027-Q2",
        message="Planned: CSV and Excel first, Google Sheets after.",
    )
    await service.change_status(actor=staff, idea_id=planned.id, status="planned", message="Next after sync.")
    await service.change_status(
        actor=staff, idea_id=in_progress.id, status="in_progress", message="Building it."
    )
    await service.change_status(actor=staff, idea_id=shipped.id, status="shipped", message="Out today.")
    await service.change_status(
        actor=staff,
        idea_id=declined.id,
        status="declined",
        message="Printing in colour is up to your printer.",
    )
    await changelog.create_entry(
        actor=staff,
        title="Webhooks for every event",
        body="Every change to an idea, a vote or a comment can now be sent to your own endpoint, signed.",
        idea_ids=[shipped.id],
    )

    await ledger.grant(
        actor=cm, user_id=member.id, points=260, reason="Founding member of the insider program"
    )
    deal = await perks.create_perk(
        actor=cm,
        data={
            "kind": "deal",
            "title": "Half price on the Pro plan for a year",
            "description": "50 % off for twelve months. One code per member.",
            "codes": "HALF-7Q2M-K9XD\nHALF-P4TR-8WZN\nHALF-3JHF-6YLC",
            "min_tier": "insider",
        },
    )
    program = await perks.create_perk(
        actor=cm,
        data={
            "kind": "early_access",
            "title": "Offline beta for iOS and Android",
            "description": "Try offline mode before anyone else and tell us what breaks.",
            "capacity": 25,
        },
    )
    await perks.create_perk(
        actor=cm,
        data={
            "kind": "deal",
            "title": "A seat at the product advisory board",
            "description": "Four calls a year with the product team.",
            "shared_code": "ADVISORY",
            "min_tier": "champion",
        },
    )
    await perks.claim_perk(actor=await User.get(id=member.id), perk_id=deal.id)
    await perks.claim_perk(actor=await User.get(id=member.id), perk_id=program.id)
    return Community(
        staff=staff,
        cm=cm,
        member=member,
        newcomer=newcomer,
        long_idea=await Idea.get(id=long_idea.id),
        planned=planned,
        shipped=shipped,
    )
