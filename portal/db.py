"""The database: Tortoise configuration, migrations and a liveness probe."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as tortoise_migrate

from portal.features import Feature
from portal.settings import Settings

PORTAL_APP: dict[str, Any] = {"models": ["portal.models"], "migrations": "portal.migrations"}


def tortoise_config(settings: Settings, features: Sequence[Feature]) -> dict[str, Any]:
    apps: dict[str, Any] = {"portal": dict(PORTAL_APP)}
    for feature in features:
        if feature.models:
            apps[feature.name] = {
                "models": list(feature.models),
                "migrations": feature.migrations,
            }
    connection: str | dict[str, Any] = settings.database_url
    if settings.database_dialect == "postgres":
        connection = expand_db_url(settings.database_url)
        connection["engine"] = "portal.pg"
    return {
        "connections": {"default": connection},
        "apps": apps,
        "use_tz": True,
        "timezone": "UTC",
    }


async def migrate(config: dict[str, Any]) -> list[str]:
    """Applies every pending migration; returns the names applied."""
    applied: list[str] = []

    def progress(event: str, app_label: str, name: str) -> None:
        if event == "apply_done":
            applied.append(f"{app_label}.{name}")

    try:
        await tortoise_migrate(config=config, progress=progress)
    finally:
        await Tortoise.close_connections()
    return applied


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:
        return False
    return True


async def close() -> None:
    await Tortoise.close_connections()
