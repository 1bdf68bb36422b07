"""The list's plain SQL gives exactly what the ORM gave: same keys, values and Python types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ideas import catalog, rows
from ideas.models import Idea, Status
from tests.factories import make_board, make_idea


async def test_rows_match_the_orm_on_this_backend(app) -> None:  # type: ignore[no-untyped-def]
    board = await make_board(name="Mobile")
    merged_into = await make_idea(board=board, title="Offline mode", tags="sync, offline")
    await make_idea(
        board=board,
        title="Dark theme",
        comments_locked=True,
        hidden_at=datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC),
        merged_into_id=merged_into.id,
        trending_score=12.5,
        vote_count=7,
        status="planned",
    )
    query = rows.Query()
    query.add(query.one_of("i.board_id", [board.id]))
    got = await rows.fetch(query, order="i.id")
    want = await Idea.filter(board_id=board.id).order_by("id").values(*rows.FIELDS)
    assert got == want
    assert {k: type(v) for k, v in got[1].items()} == {k: type(v) for k, v in want[1].items()}
    assert got[1]["comments_locked"] is True
    assert got[1]["hidden_at"] == datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)


async def test_a_renamed_status_shows_at_once(app) -> None:  # type: ignore[no-untyped-def]
    idea = await make_idea()
    query = rows.Query()
    query.add(f"i.id = {query.param(idea.id)}")
    assert (await rows.fetch(query))[0]["status__name"] == "Open"
    await Status.filter(key="open").update(name="New")  # a bulk update: the caller says so
    await catalog.changed()
    assert (await rows.fetch(query))[0]["status__name"] == "New"
    status = await Status.get(key="open")
    status.name = "Fresh"
    await status.save()  # through the model: its signal says so
    assert (await rows.fetch(query))[0]["status__name"] == "Fresh"


async def test_the_row_of_a_loaded_idea_is_the_row_fetched(app) -> None:  # type: ignore[no-untyped-def]
    from ideas.service import get_idea

    made = await make_idea(tags="export, csv", comments_locked=True, status="planned")
    query = rows.Query()
    query.add(f"i.id = {query.param(made.id)}")
    [fetched] = await rows.fetch(query)
    assert await rows.of_idea(await get_idea(made.id)) == fetched


async def test_counter_updates_leave_the_search_index_alone(backend: str, app) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the vector lives in `idea_search`, rewritten only when the text changes."""
    if backend != "postgres":
        pytest.skip("SQLite's FTS5 triggers fire only on the text columns (see migration 0002)")
    from tortoise import connections

    from ideas import queries

    idea = await make_idea(title="Calendar sync", body="Two-way sync with calendars.")
    conn = connections.get("default")

    async def version() -> str:
        [row] = await conn.execute_query_dict(
            "SELECT xmin::text AS v FROM idea_search WHERE idea_id = $1", [idea.id]
        )
        return str(row["v"])

    before = await version()
    await Idea.filter(id=idea.id).update(vote_count=5, comment_count=2, trending_score=3.5)
    assert await version() == before
    await Idea.filter(id=idea.id).update(title="Outlook agenda")
    assert await version() != before
    assert await queries.search_ids("agenda", [idea.board_id], limit=5) == [idea.id]
    assert await queries.search_ids("calendar", [idea.board_id], limit=5) == [idea.id]  # still in the body


async def test_search_candidates_follow_board_moves_hiding_and_merges(app) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL the candidates come from `idea_search` alone (its board and liveness kept by a
    trigger); on SQLite from the join. Either way a moved, hidden or merged idea is found where,
    and only while, it should be."""
    from ideas import queries

    first, second = await make_board(), await make_board()
    idea = await make_idea(board=first, title="Gantt chart export")
    target = await make_idea(board=first, title="Timeline view")

    async def found_in(board_id: int) -> bool:
        return idea.id in await queries.search_ids("gantt", [board_id], limit=5)

    assert await found_in(first.id) and not await found_in(second.id)
    await Idea.filter(id=idea.id).update(board_id=second.id)
    assert not await found_in(first.id) and await found_in(second.id)
    await Idea.filter(id=idea.id).update(hidden_at=datetime.now(UTC))
    assert not await found_in(second.id)
    await Idea.filter(id=idea.id).update(hidden_at=None)
    assert await found_in(second.id)
    await Idea.filter(id=idea.id).update(merged_into_id=target.id)
    assert not await found_in(second.id)


async def test_the_search_index_takes_new_entries_at_once(backend: str, app) -> None:  # type: ignore[no-untyped-def]
    """A GIN pending list would be scanned by every search until a vacuum (migration 0006)."""
    if backend != "postgres":
        pytest.skip("PostgreSQL's GIN index only; SQLite's FTS5 has no pending list")
    from tortoise import connections

    [row] = await connections.get("default").execute_query_dict(
        "SELECT reloptions FROM pg_class WHERE relname = 'idea_search_idx'"
    )
    assert "fastupdate=off" in row["reloptions"]


async def test_a_new_idea_is_found_at_once_by_a_search_made_a_moment_before(app) -> None:  # type: ignore[no-untyped-def]
    from ideas import queries

    board = await make_board()
    flt = queries.parse_filter({"q": "kanban"})
    assert (await queries.list_ideas(None, flt)).items == []  # now cached
    idea = await make_idea(board=board, title="Kanban view")
    assert [r["id"] for r in (await queries.list_ideas(None, flt)).items] == [idea.id]
    # A cached search still reads rows fresh: an idea hidden since is not listed.
    await Idea.filter(id=idea.id).update(hidden_at=datetime.now(UTC))
    assert (await queries.list_ideas(None, flt)).items == []


async def test_postgresql_keeps_one_plan_for_the_list_statement(backend: str, app) -> None:  # type: ignore[no-untyped-def]
    """With its LIMIT as a parameter, the list was planned afresh on every execution (PostgreSQL's
    generic plan looked costlier than it was): 0.26 ms of database CPU a time instead of 0.15 ms."""
    if backend != "postgres":
        pytest.skip("plan caching of prepared statements is PostgreSQL's")
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from ideas import queries

    idea = await make_idea(board=await make_board())
    conn = connections.get("default")
    # Enough ideas for the planner's estimates to matter, as in a real portal.
    await conn.execute_query(
        "INSERT INTO ideas (board_id, author_id, title, slug, body_md, body_html, status_id, tags_text,"
        " vote_count, comment_count, trending_score, comments_locked, created_at, updated_at,"
        " last_activity_at) SELECT board_id, author_id, title, slug, body_md, body_html, status_id,"
        " tags_text, n % 50, 0, n, FALSE, created_at, updated_at, last_activity_at"
        " FROM ideas, generate_series(1, 20000) AS n WHERE id = $1",
        [idea.id],
    )
    await conn.execute_script("ANALYZE ideas")
    async with in_transaction():  # one connection, so its prepared statements can be read back
        for _ in range(12):
            await queries.list_ideas(None, queries.parse_filter({}))
        found = await connections.get("default").execute_query_dict(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE 'SELECT i.id, i.title%ORDER BY i.trending_score DESC%'"
        )
    assert len(found) == 1
    assert found[0]["custom_plans"] <= 5 and found[0]["generic_plans"] >= 7
