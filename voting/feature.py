"""How the `voting` package plugs into the portal."""

from __future__ import annotations

import argparse
from typing import Any

from portal.features import Feature


def _routes():  # type: ignore[no-untyped-def]
    from voting import exports, routes

    return [*routes.routes(), *exports.routes()]


def _api_routes():  # type: ignore[no-untyped-def]
    from voting import api

    return api.routes()


def _setup() -> None:
    from voting import data_rights, listeners, policy, webhook_payloads  # noqa: F401 - registers policies

    listeners.install()
    webhook_payloads.install()
    data_rights.install()


async def _demo() -> None:
    from voting import demo

    await demo.fill()


def _commands(sub: argparse._SubParsersAction[Any]) -> None:
    from voting import commands

    commands.add(sub)


def _openapi():  # type: ignore[no-untyped-def]
    from voting import openapi

    return openapi.describe()


FEATURE = Feature(
    name="voting",
    models=("voting.models",),
    migrations="voting.migrations",
    routes=_routes,
    api_routes=_api_routes,
    setup=_setup,
    demo=_demo,
    add_commands=_commands,
    openapi=_openapi,
)
