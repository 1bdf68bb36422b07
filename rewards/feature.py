"""How the `rewards` package plugs into the portal."""

from __future__ import annotations

import argparse
from typing import Any

from portal.features import Feature


def _routes():  # type: ignore[no-untyped-def]
    from rewards import routes

    return routes.routes()


def _api_routes():  # type: ignore[no-untyped-def]
    from rewards import api

    return api.routes()


def _setup() -> None:
    from rewards import data_rights, listeners, policy, webhook_payloads  # noqa: F401 - registers policies

    listeners.install()
    webhook_payloads.install()
    data_rights.install()


async def _demo() -> None:
    from rewards import demo

    await demo.fill()


def _commands(sub: argparse._SubParsersAction[Any]) -> None:
    from rewards import commands

    commands.add(sub)


def _openapi():  # type: ignore[no-untyped-def]
    from rewards import openapi

    return openapi.describe()


FEATURE = Feature(
    name="rewards",
    models=("rewards.models",),
    migrations="rewards.migrations",
    routes=_routes,
    api_routes=_api_routes,
    setup=_setup,
    demo=_demo,
    add_commands=_commands,
    nav=(("/insiders", "Insiders"),),
    openapi=_openapi,
)
