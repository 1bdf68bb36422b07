"""voting.repair.repair_counters and `hearken repair-counters`: drift is found, reported and fixed."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from starlette.applications import Starlette
from tortoise import Tortoise
from tortoise.backends.base.executor import EXECUTOR_CACHE

from ideas import comments
from ideas.models import Idea
from portal import cli
from portal.app import create_app
from tests.conftest import TEST_SECRET, base_settings
from tests.factories import make_user
from tests.voting.helpers import make_idea
from voting import service
from voting.repair import repair_counters

T = TypeVar("T")


async def corrupt(idea_id: int, **values: float) -> None:
    """A direct UPDATE, behind the services' back (as a bad migration or a manual fix would)."""
    assert all(isinstance(v, int | float) for v in values.values())
    assignments = ", ".join(f"{column} = {value!r}" for column, value in values.items())
    sql = f"UPDATE ideas SET {assignments} WHERE id = {int(idea_id)}"  # noqa: S608 - numbers and our names
    await Tortoise.get_connection("default").execute_script(sql)


async def test_repair_reports_then_fixes_every_kind_of_drift(app: Starlette) -> None:
    first, second = await make_idea(), await make_idea()
    voters = [await make_user() for _ in range(3)]
    for voter in voters:
        await service.cast_vote(actor=voter, idea_id=first.id)
    await service.cast_vote(actor=voters[0], idea_id=second.id)
    await comments.post_comment(actor=voters[1], idea_id=second.id, body="Yes please.")
    assert (await repair_counters(dry_run=True)).total == 0
    good = {
        i["id"]: i for i in await Idea.all().values("id", "vote_count", "comment_count", "trending_score")
    }

    await corrupt(first.id, vote_count=42)
    await corrupt(second.id, comment_count=0, trending_score=0)
    found = await repair_counters(dry_run=True)
    assert found.vote_count == {first.id: (42, 3)}
    assert found.comment_count == {second.id: (0, 1)}
    assert list(found.trending_score) == [second.id]
    assert found.total == 3
    assert (await Idea.get(id=first.id)).vote_count == 42  # a dry run writes nothing

    fixed = await repair_counters()
    assert fixed.total == 3
    now = {i["id"]: i for i in await Idea.all().values("id", "vote_count", "comment_count", "trending_score")}
    assert now.keys() == good.keys()
    for idea_id, row in good.items():
        assert now[idea_id]["vote_count"] == row["vote_count"]
        assert now[idea_id]["comment_count"] == row["comment_count"]
        assert now[idea_id]["trending_score"] == pytest.approx(row["trending_score"], rel=1e-9)
    assert (await repair_counters()).total == 0


# --- the command ----------------------------------------------------------------------------------


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """This test's database, named in the environment the way an operator names it."""
    for name in [n for n in os.environ if n.startswith("HEARKEN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HEARKEN_DATABASE_URL", database_url)
    monkeypatch.setenv("HEARKEN_SECRET_KEY", TEST_SECRET)
    monkeypatch.chdir(tmp_path)
    return database_url


def in_app(url: str, work: Callable[[], Awaitable[T]]) -> T:
    async def go() -> T:
        EXECUTOR_CACHE.clear()
        app = create_app(base_settings(url), migrate=False)
        async with app.router.lifespan_context(app):
            return await work()

    try:
        return asyncio.run(go())
    finally:
        EXECUTOR_CACHE.clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    EXECUTOR_CACHE.clear()
    code = cli.main(list(argv))
    EXECUTOR_CACHE.clear()
    return code, capsys.readouterr().out


def test_the_command_prints_and_fixes_the_drift(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def setup() -> tuple[int, int]:
        idea, untouched = await make_idea(), await make_idea()
        for _ in range(2):
            await service.cast_vote(actor=await make_user(), idea_id=idea.id)
        await corrupt(idea.id, vote_count=7)
        return idea.id, untouched.id

    idea_id, untouched_id = in_app(db, setup)

    def counts() -> dict[int, int]:
        async def read() -> dict[int, int]:
            return dict(await Idea.all().values_list("id", "vote_count"))

        return in_app(db, read)

    code, out = run(capsys, "repair-counters", "--dry-run")
    assert code == 0
    assert f"idea {idea_id}: vote_count 7 -> 2" in out
    assert "drift found: 1 counter(s) (1 vote counts, 0 comment counts, 0 trending scores)" in out
    assert counts() == {idea_id: 7, untouched_id: 0}

    code, out = run(capsys, "repair-counters")
    assert code == 0
    assert out.splitlines() == [
        f"idea {idea_id}: vote_count 7 -> 2",
        "drift fixed: 1 counter(s) (1 vote counts, 0 comment counts, 0 trending scores)",
    ]
    assert counts() == {idea_id: 2, untouched_id: 0}

    code, out = run(capsys, "repair-counters")
    assert (code, out.strip()) == (
        0,
        "drift fixed: 0 counter(s) (0 vote counts, 0 comment counts, 0 trending scores)",
    )
