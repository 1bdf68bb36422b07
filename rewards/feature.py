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
    from rewards import listeners, policy  # noqa: F401 - registers policies and event listeners

    listeners.install()


async def _demo() -> None:
    from rewards import demo

    await demo.fill()


def _commands(sub: argparse._SubParsersAction[Any]) -> None:
    from rewards import commands

    commands.add(sub)


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
)
