"""The staff report (rewards/reports.py): figures from the database against hand-computed values."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from portal.models import User
from rewards import ledger, perks, reports
from rewards.models import Claim, PointEntry
from tests.factories import make_user
from tests.rewards.conftest import SignedIn
from tests.rewards.helpers import make_cm, make_deal, make_program

OLD = timedelta(days=40)


async def backdate(entry: PointEntry | Claim | None, when: datetime) -> None:
    assert entry is not None
    await type(entry).filter(id=entry.id).update(created_at=when)


async def award(user: User, rule: str, source: int) -> PointEntry | None:
    return await ledger.award(user_id=user.id, rule_key=rule, source_kind="idea", source_id=source)


async def ledger_of_the_month() -> None:
    """The entries the figures below are computed from, by hand.

    vote_received (1 point): 3 now and 2 forty days ago; one of each reversed now.
        30 days: 3 - 2 = 1 (a reversal counts when it happens); all time: 5 - 2 = 3.
    idea_planned (20): one now, one forty days ago.     30 days: 20; all time: 40.
    grants: +100 now, -30 forty days ago.               30 days: 100; all time: 70.
    A claim costing 50 points: spending is not paying.  Other rules: 0.
    """
    cm = await make_cm()
    ann, bob = await make_user(), await make_user()
    now = datetime.now(UTC)
    recent = [await award(ann, "vote_received", n) for n in range(3)]
    old = [await award(ann, "vote_received", 10 + n) for n in range(2)]
    for entry in old:
        await backdate(entry, now - OLD)
    await ledger.reverse(recent[0], reason="vote removed")  # type: ignore[arg-type]
    await ledger.reverse(await PointEntry.get(id=old[0].id), reason="vote removed")  # type: ignore[union-attr]
    await award(ann, "idea_planned", 1)
    await backdate(await award(bob, "idea_planned", 2), now - OLD)
    await ledger.grant(actor=cm, user_id=bob.id, points=100, reason="thanks")
    await backdate(await ledger.grant(actor=cm, user_id=bob.id, points=-30, reason="oops"), now - OLD)
    await perks.claim_perk(actor=bob, perk_id=(await make_deal(cm, shared_code="T", cost=50)).id)


@pytest.mark.usefixtures("app")
async def test_points_paid_per_rule() -> None:
    await ledger_of_the_month()
    figures = {row["key"]: (row["recent"], row["all_time"]) for row in await reports.points_per_rule()}
    assert figures == {
        "comment_helpful": (0, 0),
        "duplicate_accepted": (0, 0),
        "idea_planned": (20, 40),
        "idea_posted": (0, 0),
        "idea_shipped": (0, 0),
        "ship_voter_share": (0, 0),
        "vote_received": (1, 3),
        None: (100, 70),
    }
    assert (await reports.overview())["paid_30d"] == 121


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


@pytest.mark.usefixtures("app")
async def test_perks_claimed_per_week() -> None:
    """Weeks start on Monday 00:00 UTC; 12 weeks, the oldest first, empty weeks included."""
    cm = await make_cm()
    deal = await make_deal(cm, shared_code="W", per_member_limit=10)
    program = await make_program(cm, 50)
    at = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)  # a Wednesday
    monday = datetime(2026, 6, 15, tzinfo=UTC)
    member = await make_user()

    async def claim(perk_id: int, when: datetime, user: User = member) -> None:
        await backdate((await perks.claim_perk(actor=user, perk_id=perk_id)).claim, when)

    await claim(deal.id, monday)  # this week, at its first second
    await claim(deal.id, monday + timedelta(days=2))
    await claim(program.id, monday + timedelta(hours=30))
    await claim(deal.id, monday - timedelta(seconds=1))  # Sunday night: the week before
    await claim(deal.id, monday - timedelta(weeks=11))  # the oldest week shown
    await claim(deal.id, monday - timedelta(weeks=11, seconds=1))  # 12 weeks ago: not shown
    other = await make_user()
    await claim(program.id, monday - timedelta(weeks=3, days=-6), other)  # a Sunday, 3 weeks back

    weeks = await reports.claims_per_week(at)
    assert [w["week"] for w in weeks] == [date(2026, 6, 15) - timedelta(weeks=11 - i) for i in range(12)]
    counts = {w["week"]: (w["deals"], w["programs"], w["total"]) for w in weeks}
    assert counts[date(2026, 6, 15)] == (2, 1, 3)
    assert counts[date(2026, 6, 8)] == (1, 0, 1)
    assert counts[date(2026, 5, 25)] == (0, 1, 1)
    assert counts[date(2026, 3, 30)] == (1, 0, 1)
    assert sum(w["total"] for w in weeks) == 6
    assert [w["week"].weekday() for w in weeks] == [0] * 12


async def test_the_report_page_shows_the_figures(browser: SignedIn) -> None:
    await ledger_of_the_month()
    client, _ = await browser(role="community_manager")
    page = await client.get("/admin/rewards/report")
    assert page.status_code == 200

    def row(row_id: str) -> list[str]:
        found = re.search(rf'id="{row_id}">(.*?)</tr>', page.text, re.S)
        assert found, row_id
        return re.findall(r'<td class="num">(-?\d+)</td>', found.group(1))

    assert row("paid-vote_received") == ["1", "3"]
    assert row("paid-idea_planned") == ["20", "40"]
    assert row("paid-grants") == ["100", "70"]
    assert row("paid-comment_helpful") == ["0", "0"]
    this_week = week_of(datetime.now(UTC).date())
    assert row(f"week-{this_week.isoformat()}") == ["1", "0", "1"]  # the 50-point claim
    assert page.text.count('id="week-') == 12
    assert "121" in (await client.get("/admin/rewards")).text
