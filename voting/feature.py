"""How the `voting` package plugs into the portal."""

from __future__ import annotations

from portal.features import Feature, deferred


def _routes():  # type: ignore[no-untyped-def]
    from voting import exports, routes

    return [*routes.routes(), *exports.routes()]


def _setup() -> None:
    from voting import data_rights, listeners, policy, webhook_payloads  # noqa: F401 - registers policies

    listeners.install()
    webhook_payloads.install()
    data_rights.install()


FEATURE = Feature(
    name="voting",
    models=("voting.models",),
    migrations="voting.migrations",
    routes=_routes,
    api_routes=deferred("voting.api:routes"),
    setup=_setup,
    demo=deferred("voting.demo:fill"),
    add_commands=deferred("voting.commands:add"),
    openapi=deferred("voting.openapi:describe"),
)
