"""How the `rewards` package plugs into the portal."""

from __future__ import annotations

from portal.features import Feature, deferred


def _routes():  # type: ignore[no-untyped-def]
    from rewards import routes

    return routes.routes()


def _setup() -> None:
    from rewards import data_rights, listeners, policy, webhook_payloads  # noqa: F401 - registers policies

    listeners.install()
    webhook_payloads.install()
    data_rights.install()


FEATURE = Feature(
    name="rewards",
    models=("rewards.models",),
    migrations="rewards.migrations",
    routes=_routes,
    api_routes=deferred("rewards.api:routes"),
    setup=_setup,
    demo=deferred("rewards.demo:fill"),
    add_commands=deferred("rewards.commands:add"),
    nav=(("/insiders", "Insiders"),),
    openapi=deferred("rewards.openapi:describe"),
)
