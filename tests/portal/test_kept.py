"""The store of markup kept with a digest (portal/kept.py) and the statement that feeds it."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from portal import sql
from portal.kept import KeptStore


def test_the_store_stays_within_its_bounds_dropping_the_oldest() -> None:
    kept: KeptStore[str] = KeptStore(max_entries=10, max_characters=1000)
    for n in range(25):
        kept.keep(n, f"digest {n}", "x" * 50, 50)
    assert len(kept) <= 10 and kept.get(24) is not None and kept.get(0) is None
    kept.keep("big", "d", "y" * 960, 960)
    assert kept.get("big") is not None and len(kept) == 1  # 960 of 1,000 characters: alone
    kept.keep("huge", "d", "w" * 1001, 1001)
    assert kept.get("huge") is None  # larger than the whole store: drawn, not kept
    kept.keep("big", "e", "v", 1)  # replaced, and counted once
    assert kept.get("big").digest == "e"  # type: ignore[union-attr]
    for n in range(9):
        kept.keep(("small", n), "d", "s" * 100, 100)
    assert kept.get("big") is not None and len(kept) == 10
    assert kept.drawn == 25 + 1 + 1 + 1 + 9


async def test_fetch_unless_sends_rows_only_when_their_digest_changed(app: Starlette) -> None:
    if not sql.is_postgres():
        pytest.skip("the digest is taken by PostgreSQL (md5); SQLite callers compare the rows")
    statement = "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(id, name) WHERE v.id <= $1"
    digest, rows = await sql.fetch_unless(statement, 2, order="t.id", unless=None)
    assert rows == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    assert await sql.fetch_unless(statement, 2, order="t.id", unless=digest) == (digest, None)
    fewer, rows = await sql.fetch_unless(statement, 1, order="t.id", unless=digest)
    assert fewer != digest and rows == [{"id": 1, "name": "a"}]
    empty, rows = await sql.fetch_unless(statement, 0, order="t.id", unless=digest)
    assert (empty, rows) == ("", [])
    assert await sql.fetch_unless(statement, 0, order="t.id", unless="") == ("", None)
