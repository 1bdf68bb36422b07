"""One fixture, two backends: every test that uses the database runs on SQLite and on PostgreSQL.

PostgreSQL runs when HEARKEN_TEST_POSTGRES_URL is set (CI sets it), in a private database made
beside the one named there and dropped at the end; if it is set and the server does
not answer, the whole run fails rather than quietly testing half. Each backend is migrated once per
run; each test then gets an empty database (a copy of the migrated SQLite file, or truncated
PostgreSQL tables) and a fresh application over it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal import db
from portal.app import create_app
from portal.features import load_features, setup_features
from portal.settings import Settings
from tests.browser import Client

POSTGRES_URL = os.environ.get("HEARKEN_TEST_POSTGRES_URL", "").strip()
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
TEST_SECRET = "test-secret-" + "x" * 40


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_URL:
        return f"database backends: sqlite, postgres ({POSTGRES_URL})"
    return "database backends: sqlite only (set HEARKEN_TEST_POSTGRES_URL to run the PostgreSQL half)"


def base_settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        env="development",
        webhook_private_addresses=True,  # the tests' receivers listen on loopback
    )


async def _pg_create_private_database(url: str) -> str:
    """A database of this run's own, made beside the one named, so parallel runs never collide."""
    name = f"hearken_test_{os.getpid()}_{secrets.token_hex(3)}"
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + (("?" + query) if query else "")


async def _pg_drop_database(server_url: str, private_url: str) -> None:
    name = private_url.partition("?")[0].rsplit("/", 1)[1]
    conn = await asyncpg.connect(_asyncpg_dsn(server_url), timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _asyncpg_dsn(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]


async def _pg_snapshot(url: str) -> dict[str, list[asyncpg.Record]]:
    """Rows the migrations seeded (statuses, ...), to restore after each test's truncation."""
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        seeded = {}
        for name in await _pg_tables(conn):
            rows = await conn.fetch(f'SELECT * FROM "{name}"')  # noqa: S608 - names from pg_tables
            if rows:
                seeded[name] = rows
        return seeded
    finally:
        await conn.close()


async def _pg_tables(conn: asyncpg.Connection) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
    )
    return [r["tablename"] for r in rows]


async def _pg_truncate(url: str, seeded: dict[str, list[asyncpg.Record]]) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=10)
    try:
        names = ", ".join(f'"{t}"' for t in await _pg_tables(conn))
        async with conn.transaction():
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            for table, rows in seeded.items():
                await conn.copy_records_to_table(table, records=rows, columns=list(rows[0].keys()))
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The backend name; migrates that backend once for the whole run."""
    name: str = request.param
    features = load_features(Settings.features)
    setup_features(features)
    if name == "sqlite":
        template = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
        url = f"sqlite://{template}"
    else:
        try:
            url = asyncio.run(_pg_create_private_database(POSTGRES_URL))
        except (OSError, asyncpg.PostgresError) as exc:
            pytest.exit(f"HEARKEN_TEST_POSTGRES_URL is set but PostgreSQL does not answer: {exc}", 3)
    asyncio.run(db.migrate(db.tortoise_config(base_settings(url), features)))
    if name == "postgres":
        request.config.stash[_SEEDED] = asyncio.run(_pg_snapshot(url))
    request.config.stash.setdefault(_TEMPLATES, {})[name] = url
    yield name
    if name == "postgres":
        asyncio.run(_pg_drop_database(POSTGRES_URL, url))


_TEMPLATES = pytest.StashKey[dict[str, str]]()
_SEEDED = pytest.StashKey[dict[str, list[asyncpg.Record]]]()


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database of the current backend, private to this test."""
    template = request.config.stash[_TEMPLATES][backend]
    if backend == "sqlite":
        target = tmp_path / "hearken.sqlite3"
        shutil.copyfile(template.removeprefix("sqlite://"), target)
        return f"sqlite://{target}"
    await _pg_truncate(template, request.config.stash[_SEEDED])
    return template


@pytest.fixture
def settings(database_url: str) -> Settings:
    return base_settings(database_url)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Starlette]:
    # Tortoise caches compiled SQL per connection name, and both backends are called "default":
    # forget it, or PostgreSQL receives SQLite's placeholders after a SQLite test.
    EXECUTOR_CACHE.clear()
    application = create_app(settings, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[Client]:
    async with Client(app) as c:
        yield c


@pytest.fixture
async def anon(app: Starlette) -> AsyncIterator[Client]:
    """A second, separate browser (no shared cookies with `client`)."""
    async with Client(app) as c:
        yield c


@pytest.fixture
def make_settings(database_url: str):  # type: ignore[no-untyped-def]
    def make(**changes: object) -> Settings:
        return replace(base_settings(database_url), **changes)  # type: ignore[arg-type]

    return make


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def live_server(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A real `uvicorn` serving the portal over this test's database, in its own process.

    For tests that need real concurrent HTTP requests. Limits are lifted unless a test sets
    HEARKEN_*_LIMIT itself; the base URL is returned.
    """
    port = _free_port()
    url = database_url
    if url.startswith("postgres") and "maxsize" not in url:
        url += ("&" if "?" in url else "?") + "minsize=2&maxsize=20"
    env = {
        **os.environ,
        "HEARKEN_DATABASE_URL": url,
        "HEARKEN_SECRET_KEY": TEST_SECRET,
        "HEARKEN_BASE_URL": f"http://127.0.0.1:{port}",
        "HEARKEN_MEDIA_DIR": str(tmp_path / "media"),
    }
    for name in ("VOTE_LIMIT", "VOTE_LIMIT_PER_ADDRESS", "WRITE_LIMIT", "WRITE_LIMIT_PER_ADDRESS"):
        env.setdefault(f"HEARKEN_{name}", "100000/minute")
    log = (tmp_path / "server.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "portal.app:create_served_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        env=env,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as probe:
            for _ in range(200):
                if process.returncode is not None:
                    break
                try:
                    if (await probe.get(base + "/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the live server did not start in 10 s")
        if process.returncode is not None:
            raise RuntimeError("the live server exited: " + (tmp_path / "server.log").read_text()[-2000:])
        yield base
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


class QueryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.queries.append(message)

    @property
    def count(self) -> int:
        return len(self.queries)


@pytest.fixture
def count_queries() -> Iterator[QueryCounter]:
    """Counts the SQL statements Tortoise sends while the test runs (reset with `.queries.clear()`)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = QueryCounter()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


__all__ = ["Client", "httpx"]
