"""Staff CSV exports: ideas (with demand and response times) and votes; streamed in keyset batches,
formulas neutralised, staff only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from starlette.applications import Starlette

from ideas import exports
from ideas.models import Idea
from tests.browser import Client
from tests.conftest import QueryCounter
from tests.factories import make_board, make_idea, make_user
from tests.ideas.conftest import SignedIn
from voting import exports as vote_exports
from voting import service as voting


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_staff_export_every_idea_with_demand_comments_and_response_times(browser: SignedIn) -> None:
    staff_client, staff = await browser(role="staff")
    public = await make_board(slug="public-board")
    private = await make_board(slug="secret-board", visibility="private")
    created = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    answered = await make_idea(
        board=public,
        title="Answered and decided",
        created_at=created,
        first_response_at=created + timedelta(hours=2),
        decided_at=created + timedelta(days=3),
        status="planned",
        comment_count=4,
    )
    waiting = await make_idea(board=public, title="Still waiting")
    secret = await make_idea(board=private, title="Private plan")
    hidden = await make_idea(board=public, title="Spam spam", hidden_at=datetime.now(UTC))
    for priority in ("must", "important", None):
        await voting.cast_vote(actor=await make_user(), idea_id=waiting.id, priority=priority)

    response = await staff_client.get("/staff/exports/ideas.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="ideas.csv"' in response.headers["content-disposition"]
    rows = {int(r["id"]): r for r in rows_of(response.text)}
    assert list(rows) == sorted(rows) == [answered.id, waiting.id, secret.id, hidden.id]
    a = rows[answered.id]
    assert (a["board"], a["title"], a["status"], a["comments"]) == (
        "public-board",
        "Answered and decided",
        "planned",
        "4",
    )
    assert a["created_at"] == created.isoformat()
    assert a["time_to_first_answer_s"] == str(2 * 3600)
    assert a["time_to_decision_s"] == str(3 * 86400)
    assert (a["votes"], a["weighted_demand"]) == ("0", "0")
    w = rows[waiting.id]
    assert (w["votes"], w["weighted_demand"]) == ("3", str(3 + 2 + 1))
    assert (
        w["first_response_at"],
        w["time_to_first_answer_s"],
        w["decided_at"],
        w["time_to_decision_s"],
    ) == (
        "",
        "",
        "",
        "",
    )
    assert rows[secret.id]["board"] == "secret-board"
    assert rows[hidden.id]["hidden"] == "yes"
    assert w["url"] == f"http://testserver/ideas/{waiting.id}-still-waiting"
    assert staff.role == "staff"


@pytest.mark.parametrize(
    "title",
    ['=HYPERLINK("http://evil.example","x")', "+1+2 cmd", "-2 bugs left", "@SUM(A1:A9)"],
)
async def test_spreadsheet_formulas_are_neutralised(browser: SignedIn, title: str) -> None:
    staff_client, _ = await browser(role="staff")
    idea = await make_idea(title=title)
    voter = await make_user(email=f"=cmd{idea.id}@example.com")
    await voting.cast_vote(actor=voter, idea_id=idea.id)
    [row] = rows_of((await staff_client.get("/staff/exports/ideas.csv")).text)
    assert row["title"] == "'" + title
    [vote] = rows_of((await staff_client.get("/staff/exports/votes.csv")).text)
    assert vote["email"] == f"'=cmd{idea.id}@example.com"


async def test_the_export_is_read_in_keyset_batches(
    browser: SignedIn, monkeypatch: pytest.MonkeyPatch, count_queries: QueryCounter
) -> None:
    staff_client, _ = await browser(role="staff")
    monkeypatch.setattr(exports, "BATCH", 3)
    made = [await make_idea(title=f"Idea {n}") for n in range(7)]
    count_queries.queries.clear()
    response = await staff_client.get("/staff/exports/ideas.csv")
    assert [int(r["id"]) for r in rows_of(response.text)] == [i.id for i in made]
    batches = [q for q in count_queries.queries if 'FROM "ideas"' in q and "LIMIT" in q]
    assert len(batches) == 4  # 3 + 3 + 1, then an empty batch ends the export
    assert all(" OFFSET " not in q.upper() for q in batches)


async def test_votes_export_lists_every_vote_with_priority_and_on_behalf_note(
    app: Starlette, browser: SignedIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vote_exports, "BATCH", 2)
    staff_client, staff = await browser(role="staff")
    idea = await make_idea(title="Exports")
    other = await make_idea(title="Other")
    members = [await make_user(email=f"voter{n}@example.com") for n in range(3)]
    await voting.cast_vote(actor=members[0], idea_id=idea.id, priority="must")
    await voting.cast_vote(actor=members[1], idea_id=other.id)
    await voting.cast_vote(actor=members[2], idea_id=idea.id, priority="nice")
    await voting.vote_on_behalf(
        actor=staff, idea_id=other.id, email="customer@example.com", note="-Ticket 42 (phone)"
    )
    response = await staff_client.get("/staff/exports/votes.csv")
    assert response.status_code == 200
    assert 'filename="votes.csv"' in response.headers["content-disposition"]
    rows = rows_of(response.text)
    assert [(int(r["idea_id"]), r["email"], r["priority"]) for r in rows] == [
        (idea.id, "voter0@example.com", "must"),
        (other.id, "voter1@example.com", ""),
        (idea.id, "voter2@example.com", "nice"),
        (other.id, "customer@example.com", ""),
    ]
    assert rows[3]["on_behalf_note"] == "'-Ticket 42 (phone)"
    assert rows[3]["on_behalf_by"] == staff.email
    assert rows[0]["on_behalf_by"] == "" and rows[0]["created_at"]
    assert datetime.fromisoformat(rows[0]["created_at"]).tzinfo is not None
    assert await Idea.filter(id=idea.id).values_list("vote_count", flat=True) == [2]


@pytest.mark.parametrize("path", ["/staff/exports/ideas.csv", "/staff/exports/votes.csv"])
@pytest.mark.parametrize("role", ["member", "community_manager"])
async def test_exports_are_for_staff_only(browser: SignedIn, anon: Client, path: str, role: str) -> None:
    await make_idea(title="Confidential demand")
    member_client, _ = await browser(role=role)
    response = await member_client.get(path)
    assert response.status_code == 403
    assert "Confidential" not in response.text
    answer = await anon.get(path)
    assert answer.status_code in (302, 303, 401)
    assert "Confidential" not in answer.text
    admin_client, _ = await browser(role="admin")
    assert (await admin_client.get(path)).status_code == 200
