"""`/healthz` answers 200 while the database answers, and 503 (quickly) when it does not."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tortoise import connections

from tests.browser import Client
from tests.portal.conftest import AppBuilder


async def test_healthy(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_health_needs_no_sign_in_and_starts_no_session(client: Client) -> None:
    response = await client.get("/healthz")
    assert "set-cookie" not in response.headers


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A local port on which nothing listens (bound, never listening, so no one else takes it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture(params=["postgres", "sqlite"])
def unreachable_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        port = request.getfixturevalue("closed_port")
        return f"postgres://postgres@127.0.0.1:{port}/hearken"
    return f"sqlite://{tmp_path / 'no-such-folder' / 'hearken.sqlite3'}"


async def test_unavailable_when_the_database_cannot_be_reached(
    build_app: AppBuilder, unreachable_database: str
) -> None:
    before = set(threading.enumerate())
    async with asyncio.timeout(20), build_app(database_url=unreachable_database) as app, Client(app) as c:
        response = await c.get("/healthz")
    assert response.status_code == 503
    # aiosqlite stops its worker thread after a failed connect, and that thread reports back to this
    # event loop: let it finish while the loop is still open.
    # (Joining blocks the loop, which is fine: the thread only queues a callback on it.)
    for thread in set(threading.enumerate()) - before:
        if "_connection_worker_thread" in thread.name:
            thread.join(timeout=10)
    assert response.json() == {"status": "unavailable", "detail": "database does not answer"}


async def test_unavailable_when_the_database_stops_answering(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await client.get("/healthz")).status_code == 200

    async def broken(*args: object, **kwargs: object) -> None:
        raise OSError("connection reset by peer")

    monkeypatch.setattr(connections.get("default"), "execute_query", broken)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


async def test_health_is_plain_json_for_load_balancers(client: Client) -> None:
    response = await client.http.get("/healthz", headers={"Accept": "text/html"})
    assert response.headers["content-type"] == "application/json"


async def test_every_page_names_its_icon_and_the_icon_is_served(client: Client) -> None:
    page = (await client.get("/")).text
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
