"""The application factory: it only wires the parts together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from tortoise.contrib.starlette import RegisterTortoise

from portal import (
    api,
    cache,
    data_rights_routes,
    db,
    error_pages,
    link_routes,
    mail_routes,
    media,
    notification_routes,
    oidc,
    outbox,
    routes,
    webhook_routes,
    webhooks,
)
from portal.auth import PortalAuthBackend
from portal.csrf import CSRFMiddleware, origin_of
from portal.errors import HearkenError
from portal.features import Feature, load_features, setup_features
from portal.ratelimit import RateLimits
from portal.settings import Settings
from portal.storage import storage_for

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "hearken_session"
SESSION_MAX_AGE = 14 * 24 * 3600
MAX_BODY_SIZE = 12 * 1024 * 1024


def _auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    return error_pages.problem(401, str(exc), title="Invalid credentials")


def _routes(features: Sequence[Feature]) -> list[BaseRoute]:
    api_routes: list[BaseRoute] = [*api.routes(), *notification_routes.api_routes()]
    page_routes: list[BaseRoute] = [
        *routes.routes(),
        *link_routes.routes(),
        *oidc.routes(),
        *notification_routes.routes(),
        *mail_routes.routes(),
        *webhook_routes.routes(),
        *data_rights_routes.routes(),
    ]
    for feature in features:
        api_routes.extend(feature.api_routes())
        page_routes.extend(feature.routes())
    return [
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        Mount("/api/v1", routes=api_routes),
        *media.routes(),
        *page_routes,
        *routes.fallback_routes(),
    ]


@contextlib.asynccontextmanager
async def _background_worker(settings: Settings) -> AsyncIterator[None]:
    """Delivers the outbox from inside the server process while it runs (development)."""
    stop = asyncio.Event()
    task = asyncio.create_task(outbox.Worker(settings).run(stop, interval=1.0), name="hearken-outbox")
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            task.cancel()  # rows it had claimed are delivered again once their lease runs out


def _freeze_startup_objects() -> None:
    """What is loaded by now (modules, models, compiled templates) lives as long as the process.
    Frozen, it is no longer walked by the collector's full collections, each of which had stopped a
    worker for tens of milliseconds, with every request on it waiting: the idea list's p99 at 32
    connections went from about 80 ms to under 50 ms."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_GC_THRESHOLDS)


# A young collection every 10,000 new containers, not every 700: nearly all of a request's objects
# are freed by reference counting before one runs, so each collection runs for the few still in
# use, and at 700 one ran after every page or two (100 a second per worker under load).
_GC_THRESHOLDS = (10_000, 10, 10)


def create_app(
    settings: Settings | None = None,
    *,
    migrate: bool | None = None,
    background_worker: bool = False,
    freeze_gc: bool = False,
) -> Starlette:
    """The portal for `settings`. `migrate` runs pending migrations at start (default: in development);
    `background_worker` delivers the outbox inside this process (`hearken serve` in development);
    `freeze_gc`: see `_freeze_startup_objects` (the served app only: a test process makes many apps)."""
    settings = settings or Settings.from_env()
    webhooks.configure(settings)
    features = load_features(settings.features)
    setup_features(features)
    config = db.tortoise_config(settings, features)
    run_migrations = (not settings.production) if migrate is None else migrate

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        cache.clear_all()
        if run_migrations:
            await db.migrate(config)
        async with RegisterTortoise(app, config=config), contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(
                cache.synchronised(settings.database_url, postgres=settings.database_dialect == "postgres")
            )
            if background_worker:
                await stack.enter_async_context(_background_worker(settings))
            if freeze_gc:
                _freeze_startup_objects()
            yield

    app = Starlette(
        debug=False,
        routes=_routes(features),
        middleware=[
            Middleware(error_pages.ErrorMiddleware),
            Middleware(
                SessionMiddleware,
                secret_key=settings.secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                same_site="lax",
                https_only=settings.production,
            ),
            Middleware(
                CSRFMiddleware,
                trusted_origins=(origin_of(settings.base_url),),
                exempt_prefixes=("/unsubscribe/",),
            ),
            Middleware(AuthenticationMiddleware, backend=PortalAuthBackend(), on_error=_auth_error),
        ],
        exception_handlers={
            HearkenError: error_pages.hearken_error,
            HTTPException: error_pages.http_error,
            ClientDisconnect: error_pages.client_gone,
            Exception: error_pages.server_error,
        },
        lifespan=lifespan,
        max_body_size=MAX_BODY_SIZE,
    )
    app.state.settings = settings
    app.state.features = features
    app.state.tortoise_config = config
    app.state.rate_limits = RateLimits(settings.redis_url)
    app.state.oidc = oidc.registry(settings)
    app.state.storage = storage_for(settings)
    app.state.nav = [item for feature in features for item in feature.nav]
    return app


def create_served_app() -> Starlette:
    """The app `hearken serve` runs; the command has migrated already. HEARKEN_SERVE_WORKER (which
    `hearken serve` sets in development) delivers the outbox in the server process too."""
    settings = Settings.from_env()
    return create_app(settings, migrate=False, background_worker=settings.serve_worker, freeze_gc=True)
