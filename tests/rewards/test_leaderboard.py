"""The public leaderboard: 30 days and all time, who is left out, and opting out (rewards/leaderboard.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from portal.models import User
from rewards import leaderboard, ledger, perks
from rewards.models import MemberPoints, PointEntry
from tests.browser import Client
from tests.factories import make_user
from tests.rewards.conftest import SignedIn
from tests.rewards.helpers import make_cm, make_deal, reach


def names(html: str) -> list[str]:
    """Member names in the order the leaderboard table shows them."""
    table = html.split('class="table leaderboard"', 1)[-1].split("</table>", 1)[0]
    return re.findall(r'<a href="/ideas\?author=\d+">([^<]+)</a>', table)


async def earn(user: User, points: int, *, days_ago: int = 0, source: int = 0) -> PointEntry:
    """An earning entry of `points` (a rule with no daily cap), dated `days_ago`."""
    entry = await ledger.award(
        user_id=user.id,
        rule_key="idea_shipped",
        source_kind="idea",
        source_id=source or user.id * 1000 + days_ago,
        points=points,
    )
    assert entry is not None
    if days_ago:
        await PointEntry.filter(id=entry.id).update(created_at=datetime.now(UTC) - timedelta(days=days_ago))
    return entry


async def test_30_days_and_all_time_rank_differently(anon: Client) -> None:
    veteran = await make_user(name="Vera Veteran")
    newcomer = await make_user(name="Nico Newcomer")
    await earn(veteran, 20, days_ago=45)
    await earn(veteran, 3, days_ago=2)
    await earn(newcomer, 10, days_ago=1)

    recent = await anon.get("/insiders/leaderboard?period=30d")
    assert recent.status_code == 200
    assert names(recent.text) == ["Nico Newcomer", "Vera Veteran"]
    alltime = await anon.get("/insiders/leaderboard?period=all")
    assert names(alltime.text) == ["Vera Veteran", "Nico Newcomer"]
    assert names((await anon.get("/insiders/leaderboard")).text) == names(recent.text)  # 30 days by default

    rows = await leaderboard.top("all")
    assert [(r["rank"], r["name"], r["points"]) for r in rows] == [
        (1, "Vera Veteran", 23),
        (2, "Nico Newcomer", 10),
    ]
    assert [(r["name"], r["points"]) for r in await leaderboard.top("30d")] == [
        ("Nico Newcomer", 10),
        ("Vera Veteran", 3),
    ]


@pytest.mark.usefixtures("app")
async def test_30_days_counts_grants_and_reversals_but_not_spending() -> None:
    cm = await make_cm()
    member = await make_user(name="Sam Spender")
    entry = await earn(member, 25)
    await reach(cm, member, 40)  # a grant counts
    await ledger.reverse(entry, reason="hidden")  # a reversal takes it back
    deal = await make_deal(cm, shared_code="X", cost=30)
    await perks.claim_perk(actor=member, perk_id=deal.id)  # spending is not earning less
    assert [(r["name"], r["points"]) for r in await leaderboard.top("30d")] == [("Sam Spender", 40)]
    assert [(r["name"], r["points"]) for r in await leaderboard.top("all")] == [("Sam Spender", 40)]


async def test_staff_banned_and_opted_out_members_are_left_out(anon: Client) -> None:
    shown = await make_user(name="Mia Member")
    hidden = {
        "staff": await make_user(role="staff", name="Pat Staff"),
        "community_manager": await make_user(role="community_manager", name="Cam Manager"),
        "admin": await make_user(role="admin", name="Ada Admin"),
        "banned": await make_user(name="Ben Banned"),
        "opted out": await make_user(name="Olly Optout"),
    }
    for n, user in enumerate([shown, *hidden.values()], start=1):
        await earn(user, 10 * n)
    await User.filter(id=hidden["banned"].id).update(banned_at=datetime.now(UTC))
    await MemberPoints.filter(user_id=hidden["opted out"].id).update(leaderboard_opt_out=True)
    for period in ("30d", "all"):
        assert names((await anon.get(f"/insiders/leaderboard?period={period}")).text) == ["Mia Member"]


@pytest.mark.usefixtures("app")
async def test_the_top_50_are_shown() -> None:
    for n in range(55):
        await earn(await make_user(name=f"Member {n:02}"), n + 1)
    for period in ("30d", "all"):
        rows = await leaderboard.top(period)
        assert len(rows) == 50
        assert rows[0]["name"] == "Member 54" and rows[-1]["name"] == "Member 05"


async def test_a_member_opts_out_and_back_in(browser: SignedIn) -> None:
    client, member = await browser(name="Quinn Quiet")
    await earn(member, 7)
    page = await client.get("/insiders/leaderboard")
    assert names(page.text) == ["Quinn Quiet"]
    assert 'action="/insiders/leaderboard/opt-out"' in page.text

    response = await client.post_form("/insiders/leaderboard/opt-out", {"opt_out": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/insiders/leaderboard"
    page = await client.get("/insiders/leaderboard")
    assert names(page.text) == []
    assert 'name="opt_out" value="1" checked' in page.text
    assert (await MemberPoints.get(user_id=member.id)).leaderboard_opt_out is True

    await client.post_form("/insiders/leaderboard/opt-out", {})  # the box unticked: back in
    assert names((await client.get("/insiders/leaderboard?period=all")).text) == ["Quinn Quiet"]


async def test_visitors_see_the_board_but_cannot_opt_out(anon: Client) -> None:
    page = await anon.get("/insiders/leaderboard")
    assert page.status_code == 200 and "/insiders/leaderboard/opt-out" not in page.text
    assert (await anon.post_form("/insiders/leaderboard/opt-out", {"opt_out": "1"})).status_code == 401
