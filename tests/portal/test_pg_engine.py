"""On PostgreSQL the portal's pool returns connections without a reset round trip, and still
rolls back a transaction a connection was returned in."""

from __future__ import annotations

import pytest
from tortoise import connections

from portal.pg import PortalConnection


@pytest.fixture
def postgres_only(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the engine is PostgreSQL's; SQLite has no pool")


async def test_pooled_connections_send_no_reset_statement(postgres_only: None, app) -> None:  # type: ignore[no-untyped-def]
    client = connections.get("default")
    async with client.acquire_connection() as conn:
        assert isinstance(conn, PortalConnection)
        assert conn.get_reset_query() == ""


async def test_a_transaction_left_open_is_still_rolled_back(postgres_only: None, app) -> None:  # type: ignore[no-untyped-def]
    client = connections.get("default")
    async with client.acquire_connection() as conn:
        await conn.execute("BEGIN")
        await conn.execute("CREATE TEMP TABLE left_open (n int)")
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    for _ in range(client._pool.get_size()):  # find the same connection again
        async with client.acquire_connection() as conn:
            if await conn.fetchval("SELECT pg_backend_pid()") == pid:
                assert not conn.is_in_transaction()
                assert await conn.fetchval("SELECT to_regclass('pg_temp.left_open')") is None
                return
    pytest.fail("the connection did not come back to the pool")
