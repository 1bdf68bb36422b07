"""How the `ideas` package plugs into the portal."""

from __future__ import annotations

from portal.features import Feature


def _routes():  # type: ignore[no-untyped-def]
    from ideas import exports, routes

    return [*routes.routes(), *exports.routes()]


def _api_routes():  # type: ignore[no-untyped-def]
    from ideas import api

    return api.routes()


def _setup() -> None:
    from ideas import data_rights, exports, policy, webhook_payloads  # noqa: F401 - registers policies

    webhook_payloads.install()
    data_rights.install()


async def _demo() -> None:
    from ideas import demo

    await demo.fill()


def _openapi():  # type: ignore[no-untyped-def]
    from ideas import openapi

    return openapi.describe()


FEATURE = Feature(
    name="ideas",
    models=("ideas.models",),
    migrations="ideas.migrations",
    routes=_routes,
    api_routes=_api_routes,
    setup=_setup,
    demo=_demo,
    nav=(("/ideas", "Ideas"), ("/roadmap", "Roadmap"), ("/changelog", "Changelog")),
    openapi=_openapi,
)
