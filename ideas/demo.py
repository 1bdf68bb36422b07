"""Demo boards and ideas: enough history that a newcomer sees the feedback loop at work."""

from __future__ import annotations

import random
from datetime import timedelta

from ideas import boards, comments, ranking, service
from ideas.models import Comment, Idea, StatusChange
from portal.models import User

BOARDS = (
    ("mobile-app", "Mobile app", "public", "Our iOS and Android apps."),
    ("web-app", "Web app", "public", "The browser app: dashboards, editing, sharing."),
    ("api", "API & integrations", "public", "The REST API, webhooks and connectors."),
    ("reporting", "Reporting", "public", "Exports, charts and scheduled reports."),
    ("insiders-lab", "Insiders lab", "insiders", "Early previews for our most active members."),
    ("internal", "Internal", "private", "Staff-only triage board."),
)

IDEAS = (
    (
        "mobile-app",
        "Offline mode for the mobile app",
        "I often work on trains with no signal. Let me read and edit my last projects offline and sync when I am back online.",
        "offline, sync",
    ),
    (
        "mobile-app",
        "Dark theme that follows the system setting",
        "The app is blinding at night. Please follow the OS dark mode setting.",
        "design, accessibility",
    ),
    (
        "mobile-app",
        "Home screen widget with today's tasks",
        "A small widget showing what is due today would save me opening the app ten times a day.",
        "widgets",
    ),
    (
        "mobile-app",
        "Face ID / fingerprint unlock",
        "Typing my password on the phone is painful. Biometric unlock please.",
        "security, login",
    ),
    (
        "mobile-app",
        "Share photos straight into a project",
        "From the photo gallery, share to the app and pick the project.",
        "photos",
    ),
    (
        "mobile-app",
        "Larger tap targets on the project list",
        "The rows are tiny on small phones; I keep opening the wrong project.",
        "accessibility",
    ),
    (
        "mobile-app",
        "Push notification when someone mentions me",
        "I only see mentions when I open the app.",
        "notifications",
    ),
    (
        "mobile-app",
        "Tablet layout with two panes",
        "On an iPad the app is just a stretched phone layout.",
        "design, tablet",
    ),
    (
        "mobile-app",
        "Quick capture from the lock screen",
        "Add a note without unlocking, like the camera.",
        "capture",
    ),
    (
        "mobile-app",
        "Reduce battery use of background sync",
        "The app is top of my battery list every day.",
        "performance",
    ),
    (
        "web-app",
        "Keyboard shortcuts for everything",
        "Let power users fly: j/k to move, e to edit, / to search.",
        "productivity, accessibility",
    ),
    (
        "web-app",
        "Bulk edit selected items",
        "Select twenty items and change their owner or due date at once.",
        "productivity",
    ),
    (
        "web-app",
        "Custom fields on projects",
        "We need a 'cost centre' field on each project, and filters on it.",
        "customisation",
    ),
    (
        "web-app",
        "Undo for deletions",
        "I deleted a whole section by mistake. An undo toast for ten seconds would have saved me.",
        "safety",
    ),
    (
        "web-app",
        "Two-factor authentication with TOTP apps",
        "SMS is not enough for our security team.",
        "security",
    ),
    (
        "web-app",
        "Single sign-on with Okta",
        "Our IT department requires SAML or OIDC SSO for every tool.",
        "security, sso",
    ),
    (
        "web-app",
        "Templates for recurring projects",
        "Every month we set up the same project by hand.",
        "templates",
    ),
    ("web-app", "Gantt chart view", "A timeline view with dependencies for planning.", "planning, views"),
    (
        "web-app",
        "Comment reactions with emoji",
        "A thumbs-up instead of a 'thanks!' comment.",
        "collaboration",
    ),
    (
        "web-app",
        "Guest access for clients",
        "Let clients see one project without a paid seat.",
        "sharing, pricing",
    ),
    (
        "web-app",
        "Right-to-left language support",
        "Hebrew and Arabic text is displayed backwards in titles.",
        "i18n",
    ),
    ("web-app", "Print-friendly project page", "Printing a project gives 14 pages of sidebars.", "printing"),
    (
        "web-app",
        "Faster loading of large boards",
        "Boards with 2,000 cards take 8 seconds to open.",
        "performance",
    ),
    (
        "web-app",
        "Markdown tables in descriptions",
        "Tables are the one thing missing from the editor.",
        "editor",
    ),
    (
        "web-app",
        "Drag and drop files from the desktop",
        "Dropping a file onto a card should attach it.",
        "files",
    ),
    (
        "api",
        "Webhooks for every event",
        "We want to react in our CRM when a project changes status.",
        "webhooks, integrations",
    ),
    ("api", "GraphQL endpoint", "We make 30 REST calls to draw one dashboard.", "api"),
    (
        "api",
        "Zapier integration",
        "Connect to the 5,000 apps Zapier supports without code.",
        "integrations, zapier",
    ),
    ("api", "Higher rate limits for paying plans", "We hit 429s during our nightly sync.", "api, limits"),
    (
        "api",
        "Slack notifications per channel",
        "Route each project's updates to its own Slack channel.",
        "slack, notifications",
    ),
    ("api", "Python client library", "An official, typed Python SDK.", "sdk, python"),
    (
        "api",
        "OAuth apps for third-party developers",
        "Let partners build apps our customers can install.",
        "oauth, partners",
    ),
    ("api", "Idempotency keys on POST requests", "Retries sometimes create duplicates.", "api, reliability"),
    ("api", "Jira two-way sync", "Keep issues and tasks in sync both ways.", "jira, integrations"),
    ("api", "Microsoft Teams app", "Half our company lives in Teams.", "teams, integrations"),
    (
        "reporting",
        "Export to Excel with formatting",
        "CSV loses dates and currency formatting.",
        "export, excel",
    ),
    (
        "reporting",
        "Scheduled report e-mails",
        "Send the weekly summary to my manager every Monday at 8.",
        "reports, email",
    ),
    (
        "reporting",
        "Time tracking report per client",
        "Hours per client per month, for invoicing.",
        "time, billing",
    ),
    ("reporting", "Custom dashboards", "Pick the charts I care about and arrange them.", "dashboards"),
    ("reporting", "Burndown charts", "Show how much work is left in a sprint.", "charts, agile"),
    (
        "reporting",
        "Share a read-only dashboard link",
        "Let executives see the dashboard without an account.",
        "sharing, dashboards",
    ),
    ("reporting", "Filter reports by tag", "Reports ignore tags today.", "filters"),
    ("reporting", "PDF export of reports", "For board meetings we need a PDF.", "export, pdf"),
    ("reporting", "Historical trends over 12 months", "Charts only go back 90 days.", "charts"),
    ("reporting", "Budget vs. actual view", "Compare planned and spent budget per project.", "budget"),
    (
        "insiders-lab",
        "Preview: AI summaries of long threads",
        "Insiders: try the summary button on threads over 20 comments and tell us what you think.",
        "ai, preview",
    ),
    (
        "insiders-lab",
        "Preview: new navigation sidebar",
        "Our redesigned sidebar is live for insiders. What works, what doesn't?",
        "design, preview",
    ),
    (
        "internal",
        "Triage: duplicate reports about login loops",
        "Several tickets this week about login loops on Safari.",
        "triage",
    ),
    ("web-app", "Recurring tasks", "Tasks that repeat every week or month.", "tasks"),
    (
        "web-app",
        "Mention a whole team",
        "@design should notify everyone in the design team.",
        "collaboration",
    ),
    ("mobile-app", "Voice notes on tasks", "Record a quick voice memo instead of typing.", "capture"),
    ("api", "Audit log API", "Security wants to pull our audit log into the SIEM.", "security, api"),
    ("reporting", "Workload view per person", "Who is overloaded next week?", "planning"),
    (
        "web-app",
        "Archive instead of delete for projects",
        "We need old projects out of the way but kept.",
        "projects",
    ),
    ("web-app", "Colour labels on cards", "Visual labels for priority.", "design"),
    ("mobile-app", "Landscape mode on phones", "The app is portrait only.", "design"),
    (
        "api",
        "Webhook retries with backoff",
        "When our endpoint is down we lose events.",
        "webhooks, reliability",
    ),
    ("reporting", "Export comments with the project", "The export leaves out all discussion.", "export"),
    ("web-app", "Offline mode for the web app", "Same as mobile, for the browser.", "offline"),
    (
        "web-app",
        "Spell check in the editor",
        "The browser's spell check does not work in the editor.",
        "editor",
    ),
)

# (status, message) steps applied to ideas in turn, so every status appears with a public history.
JOURNEYS = (
    (),
    (("under_review", "Thanks! We're looking into how many teams need this."),),
    (("under_review", "Collecting use cases."), ("planned", "This is on the plan for next quarter.")),
    (
        ("planned", "Scheduled for the next release train."),
        ("in_progress", "Design is done; engineering has started."),
    ),
    (
        ("planned", "Agreed, this is a gap."),
        ("in_progress", "In beta for insiders now."),
        ("shipped", "Shipped today for everyone. Thank you for asking!"),
    ),
    (
        (
            "declined",
            "We won't build this: it conflicts with our security model. See the workaround in the comments.",
        ),
    ),
)

MEMBER_COMMENTS = (
    "Yes please, this would save our team hours every week.",
    "Same here. We currently work around it with a spreadsheet.",
    "+1 — this is the main reason two colleagues have not switched yet.",
    "Would this also cover the case where a project has sub-projects?",
    "We'd pay extra for this.",
    "Any update on this? It's been a while.",
)
STAFF_COMMENTS = (
    "Thanks for the detail — could you tell us how many people on your team would use it?",
    "We've shared this with the design team; mock-ups are coming.",
    "Good news: this is part of the next release. Follow the idea to hear when it ships.",
)


async def fill() -> None:
    rng = random.Random(7)  # demo data only: reproducible on purpose
    admin = await User.get(email="admin@example.com")
    staff = await User.get(email="pm@example.com")
    members = await User.filter(role="member").order_by("id")
    board_by_slug = {}
    for slug, name, visibility, description in BOARDS:
        board_by_slug[slug] = await boards.create_board(
            actor=admin, slug=slug, name=name, visibility=visibility, description=description
        )
    now = service.now()
    for n, (board, title, body, tags) in enumerate(IDEAS):
        author = members[n % len(members)] if board_by_slug[board].visibility == "public" else staff
        idea = await service.post_idea(actor=author, board=board, title=title, body=body, tags=tags)
        age = timedelta(days=rng.randint(3, 120), hours=rng.randint(0, 23))
        created = now - age
        journey = JOURNEYS[n % len(JOURNEYS)] if board != "internal" else ()
        commenters = rng.sample(list(members), k=min(len(members), rng.randint(0, 4)))
        if board_by_slug[board].visibility != "public":
            commenters = []
        for m in commenters:
            if m.id != author.id:
                await comments.post_comment(actor=m, idea_id=idea.id, body=rng.choice(MEMBER_COMMENTS))
        if journey or rng.random() < 0.4:
            reply = await comments.post_comment(actor=staff, idea_id=idea.id, body=rng.choice(STAFF_COMMENTS))
            if journey:
                await comments.mark_official(actor=staff, comment_id=reply.id)
        for status, message in journey:
            await service.change_status(actor=staff, idea_id=idea.id, status=status, message=message)
        await _age(idea.id, created, now)
    await fill_changelog()


async def _age(idea_id: int, created, now) -> None:  # type: ignore[no-untyped-def]
    """Spreads an idea's history over its (made-up) lifetime, so lists and figures look real."""
    span = now - created
    await Idea.filter(id=idea_id).update(
        created_at=created, trending_score=ranking.weight("idea", created), last_activity_at=created
    )
    events = await Comment.filter(idea_id=idea_id).order_by("id").values_list("id", flat=True)
    changes = await StatusChange.filter(idea_id=idea_id).order_by("id").values_list("id", flat=True)
    steps = len(events) + len(changes) + 1
    last = created
    score = ranking.weight("idea", created)
    for i, comment_id in enumerate(events, start=1):
        at = created + span * i / steps
        await Comment.filter(id=comment_id).update(created_at=at)
        score += ranking.weight("comment", at)
        last = at
    for j, change_id in enumerate(changes, start=len(events) + 1):
        at = created + span * j / steps
        await StatusChange.filter(id=change_id).update(created_at=at)
        last = max(last, at)
    first_staff = (
        await Comment.filter(idea_id=idea_id, by_staff=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    first_change = (
        await StatusChange.filter(idea_id=idea_id).order_by("created_at").values_list("created_at", flat=True)
    )
    firsts = [t for t in (first_staff[:1] + first_change[:1]) if t is not None]
    decided = (
        await StatusChange.filter(idea_id=idea_id, to_status__not_in=service.OPEN_STATUSES)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    await Idea.filter(id=idea_id).update(
        trending_score=score,
        last_activity_at=last,
        first_response_at=min(firsts) if firsts else None,
        decided_at=decided[0] if decided else None,
    )


async def fill_changelog() -> None:
    """A changelog entry for the demo's shipped ideas."""
    from ideas import changelog
    from ideas.models import Board

    staff = await User.get(email="pm@example.com")
    public = await Board.filter(visibility="public").values_list("id", flat=True)
    shipped = (
        await Idea.filter(status_id="shipped", board_id__in=public)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if shipped:
        await changelog.create_entry(
            actor=staff,
            title="November release: your most requested improvements",
            body="Thank you for every vote and comment. This release ships the ideas below.",
            idea_ids=list(shipped),
        )
