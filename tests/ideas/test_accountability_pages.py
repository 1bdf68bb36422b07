"""The accountability pages: /api/v1/stats, public figures, promises, the triage queue, the dashboard."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from ideas import responsiveness
from ideas.models import Board, Idea, StatusChange
from tests.browser import Client
from tests.factories import make_board, make_idea, make_user
from tests.ideas.conftest import SignedIn
from tests.ideas.pages import between, problem
from voting.service import cast_vote

FIGURE_KEYS = {
    "window_days",
    "median_first_response_s",
    "p90_first_response_s",
    "answered_within_target_pct",
    "waiting",
    "shipped",
    "median_decision_s",
    "decided_within_target_pct",
    "promises_kept",
    "promises_late",
    "promises_open",
}


@pytest.fixture(autouse=True)
def _fresh_figures() -> Iterator[None]:
    responsiveness.clear_cache()
    yield
    responsiveness.clear_cache()


def now() -> datetime:
    return datetime.now(UTC)


async def answered_idea(board: Board, *, after_h: float, **fields: object) -> Idea:
    created = now() - timedelta(days=1)
    return await make_idea(
        board=board,
        created_at=created,
        last_activity_at=created,
        first_response_at=created + timedelta(hours=after_h),
        **fields,
    )


async def waiting_idea(board: Board, *, age: timedelta = timedelta(days=1), **fields: object) -> Idea:
    created = now() - age
    return await make_idea(board=board, created_at=created, last_activity_at=created, **fields)


def shown_figures(html: str) -> dict[str, str]:
    """The figure card of a page: its labels and values as shown."""
    card = between(html, 'class="card figures"', "</section>")
    return dict(re.findall(r"<dt>([^<]*)</dt><dd>(.*?)</dd>", card, re.S))


async def test_stats_api_answers_figures_and_names_bad_parameters(anon: Client) -> None:
    web = await make_board(slug="web", response_target_hours=24)
    await answered_idea(web, after_h=2)
    await waiting_idea(web)
    await make_board(slug="secret", visibility="private")

    response = await anon.get("/api/v1/stats")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    figures = response.json()
    assert set(figures) == FIGURE_KEYS
    assert figures["window_days"] == 30
    assert figures["median_first_response_s"] == figures["p90_first_response_s"] == 7200.0
    assert figures["answered_within_target_pct"] == 50.0  # the waiting one is 24 h old: past its target
    assert figures["waiting"] == 1
    assert figures["shipped"] == 0

    week = (await anon.get("/api/v1/stats?board=web&window=7")).json()
    assert week["window_days"] == 7 and week["waiting"] == 1

    for bad in ("0", "abc", "-1", "1.5", "3651"):
        body = problem(await anon.get(f"/api/v1/stats?window={bad}"))
        assert set(body["errors"]) == {"window"}, bad
    # An unknown board, and one the reader may not see, are answered alike.
    for slug in ("nope", "secret"):
        body = problem(await anon.get(f"/api/v1/stats?board={slug}"))
        assert set(body["errors"]) == {"board"}, slug


async def test_private_and_insider_ideas_stay_out_of_public_figures(anon: Client, browser: SignedIn) -> None:
    public = await make_board(slug="public", name="Public")
    await answered_idea(public, after_h=1)
    await waiting_idea(public)
    private = await make_board(slug="private", visibility="private")
    await answered_idea(private, after_h=10)
    await waiting_idea(private)
    await waiting_idea(private)
    insiders = await make_board(slug="insiders", visibility="insiders")
    await waiting_idea(insiders)
    hidden = await waiting_idea(public, hidden_at=now())
    member_client, _ = await browser()
    staff_client, _ = await browser(role="staff")
    assert hidden.hidden_at is not None

    for reader in (anon, member_client):
        figures = (await reader.api("GET", "/api/v1/stats")).json()
        assert figures["waiting"] == 1
        assert figures["median_first_response_s"] == figures["p90_first_response_s"] == 3600.0
        home = shown_figures((await reader.get("/")).text)
        assert home["Waiting for an answer"] == "1"
        assert home["Median first answer"] == "1 h"
        assert home["90% answered within"] == "1 h"
        listed = shown_figures((await reader.get("/ideas?board=public")).text)
        assert listed["Waiting for an answer"] == "1"
        assert set(problem(await reader.api("GET", "/api/v1/stats?board=private"))["errors"]) == {"board"}

    staff = (await staff_client.api("GET", "/api/v1/stats")).json()
    assert staff["waiting"] == 4
    assert staff["median_first_response_s"] == 3600.0
    assert staff["p90_first_response_s"] == 36000.0
    assert shown_figures((await staff_client.get("/")).text)["Waiting for an answer"] == "4"
    assert (await staff_client.api("GET", "/api/v1/stats?board=private")).json()["waiting"] == 2
    assert (
        shown_figures((await staff_client.get("/ideas?board=private")).text)["Waiting for an answer"] == "2"
    )


async def test_a_promise_is_kept_when_planning_and_checked(anon: Client, browser: SignedIn) -> None:
    board = await make_board(slug="roadmap")
    idea = await make_idea(board=board, title="Offline mode for the app")
    staff_client, _ = await browser(role="staff")
    await staff_client.get(f"/ideas/{idea.id}")

    bad = [
        ({"status": "planned", "promise": "2027-13"}, "Give a month"),
        ({"status": "planned", "promise": "next year"}, "Give a month"),
        ({"status": "planned", "promise": "2027-Q5"}, "Give a month"),
        ({"status": "under_review", "promise": "2027-Q1"}, "when planning"),
        ({"status": "planned", "promise": "2025-12"}, "in the future"),
    ]
    for values, message in bad:
        response = await staff_client.post_form(f"/ideas/{idea.id}/status", values)
        assert response.status_code == 422, values
        assert "<strong>promise</strong>" in response.text and message in response.text, values
        body = problem(await staff_client.api("POST", f"/api/v1/ideas/{idea.id}/status", json=values))
        assert set(body["errors"]) == {"promise"}, values
    unchanged = await Idea.get(id=idea.id)
    assert unchanged.status_id == "open" and unchanged.promised_by is None and unchanged.promise_label == ""
    assert await StatusChange.filter(idea_id=idea.id).count() == 0

    response = await staff_client.post_form(
        f"/ideas/{idea.id}/status", {"status": "planned", "promise": "2027-q1", "message": "Next quarter."}
    )
    assert response.status_code == 303, response.text
    planned = await Idea.get(id=idea.id)
    assert planned.status_id == "planned"
    assert planned.promised_by == date(2027, 3, 31)
    assert planned.promise_label == "2027-Q1"
    page = await anon.get(f"/ideas/{idea.id}-offline-mode-for-the-app")
    assert "Promised for 2027-Q1" in page.text

    # A month promise while in progress; the last day of that month.
    response = await staff_client.api(
        "POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "in_progress", "promise": "2028-02"}
    )
    assert response.status_code == 200, response.text
    moved = await Idea.get(id=idea.id)
    assert (moved.promised_by, moved.promise_label) == (date(2028, 2, 29), "2028-02")
    figures = (await anon.get("/api/v1/stats")).json()
    assert (figures["promises_kept"], figures["promises_late"], figures["promises_open"]) == (0, 0, 1)

    response = await staff_client.api("POST", f"/api/v1/ideas/{idea.id}/status", json={"status": "shipped"})
    assert response.status_code == 200, response.text
    responsiveness.clear_cache()
    figures = (await anon.get("/api/v1/stats")).json()
    assert (figures["promises_kept"], figures["promises_late"], figures["promises_open"]) == (1, 0, 0)
    assert figures["shipped"] == 1


def triage_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="idea-card triage-item" id="triage-(\d+)">', html)]


async def test_triage_queue_lists_ideas_past_or_near_their_target_by_demand(browser: SignedIn) -> None:
    board = await make_board(slug="queue")  # answer within 72 h: in the queue from 54 h
    private = await make_board(slug="inner", visibility="private", response_target_hours=24)
    must = await waiting_idea(board, age=timedelta(days=10), title="One customer must have it")
    many = await waiting_idea(board, age=timedelta(days=5), title="Two customers would like it")
    near = await waiting_idea(board, age=timedelta(hours=60), title="Due in twelve hours")
    inner = await waiting_idea(private, age=timedelta(days=2), title="Staff-only board idea")
    answered = await waiting_idea(board, age=timedelta(days=10), title="Answered already")
    await Idea.filter(id=answered.id).update(first_response_at=now() - timedelta(days=9))
    fresh = await waiting_idea(board, age=timedelta(hours=1), title="Posted an hour ago")
    shipped = await waiting_idea(board, age=timedelta(days=10), status="shipped", title="Shipped idea")
    hidden = await waiting_idea(board, age=timedelta(days=10), hidden_at=now(), title="Hidden idea")
    for priority in ("nice", None):
        await cast_vote(actor=await make_user(), idea_id=many.id, priority=priority)  # demand 2, 2 votes
    await cast_vote(actor=await make_user(), idea_id=must.id, priority="must")  # demand 3, 1 vote

    staff_client, _ = await browser(role="staff")
    page = await staff_client.get("/staff/triage")
    assert page.status_code == 200
    ids = triage_ids(page.text)
    # demand 3, then 2 (though it has more votes), then no demand by due time: inner was due a day ago
    assert ids == [must.id, many.id, inner.id, near.id]
    for absent in (answered, fresh, shipped, hidden):
        assert absent.id not in ids
    card = between(page.text, f'id="triage-{must.id}"', "</article>")
    assert "Needs an answer" in card and "overdue since" in card and "⚖ 3" in card
    assert f'action="/ideas/{must.id}/comments"' in card
    assert '<input type="hidden" name="next" value="/staff/triage">' in card
    assert "due <time" in between(page.text, f'id="triage-{near.id}"', "</article>")

    # The inline answer posts a public staff comment and comes back to the queue, without the idea.
    response = await staff_client.post_form(
        f"/ideas/{must.id}/comments", {"body": "We are looking into it.", "next": "/staff/triage"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/triage"
    assert (await Idea.get(id=must.id)).first_response_at is not None
    queue = (await staff_client.get("/staff/triage")).text
    assert f"Your comment is posted on idea #{must.id}." in queue
    after = triage_ids(queue)
    assert must.id not in after and many.id in after

    member_client, _ = await browser()
    assert (await member_client.get("/staff/triage")).status_code == 403
    assert (await member_client.get("/staff/dashboard")).status_code == 403


async def test_dashboard_draws_its_charts_for_staff(browser: SignedIn) -> None:
    board = await make_board(slug="dash", name="Dashboard board")
    idea = await answered_idea(board, after_h=3, title="Charts for everything", tags="charts")
    await Idea.filter(id=idea.id).update(decided_at=now() - timedelta(hours=2))
    await waiting_idea(board, tags=["charts", "export"])
    await cast_vote(actor=await make_user(), idea_id=idea.id, priority="important")
    staff_client, _ = await browser(role="staff")
    page = await staff_client.get("/staff/dashboard")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 3
    assert "Charts for everything" in page.text
    assert "Dashboard board" in page.text
    assert shown_figures(page.text)["Waiting for an answer"] == "1"
    week = between(page.text, 'id="weeks-h"', "</section>")
    rows = re.findall(r"<tr><td>[^<]*</td><td>(\d+)</td><td>(\d+)</td></tr>", week)
    assert len(rows) == 12
    assert sum(int(a) for a, _ in rows) == 1 and sum(int(d) for _, d in rows) == 1
    distribution = between(page.text, 'id="dist-h"', "</section>")
    assert "(1 idea, 90 days)" in distribution
    # Each bar chart has its figures as a table too.
    assert '<tr><td>1–4 h</td><td class="num">1</td></tr>' in distribution.replace("&lt;", "<")
    demand = between(page.text, 'id="board-h"', "</section>")
    assert demand.count("<summary>As a table</summary>") == 2
    assert '<tr><td>Dashboard board</td><td class="num">1</td></tr>' in demand
