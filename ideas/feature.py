"""How the `ideas` package plugs into the portal."""

from __future__ import annotations

from portal.features import Feature, deferred


def _routes():  # type: ignore[no-untyped-def]
    from ideas import exports, routes

    return [*routes.routes(), *exports.routes()]


def _setup() -> None:
    from ideas import (  # noqa: F401 - registers policies and the catalogue's signals
        catalog,
        data_rights,
        exports,
        policy,
        queries,
        visibility,
        webhook_payloads,
    )
    from portal import notifications

    queries.install()
    _install_template_globals()
    notifications.register_notice_filter(visibility.readable_notices)
    webhook_payloads.install()
    data_rights.install()


def _install_template_globals() -> None:
    from ideas import extensions
    from portal.templating import templates

    templates.env.globals["card_reader"] = extensions.card_reader


FEATURE = Feature(
    name="ideas",
    models=("ideas.models",),
    migrations="ideas.migrations",
    routes=_routes,
    api_routes=deferred("ideas.api:routes"),
    setup=_setup,
    demo=deferred("ideas.demo:fill"),
    nav=(("/ideas", "Ideas"), ("/roadmap", "Roadmap"), ("/changelog", "Changelog")),
    openapi=deferred("ideas.openapi:describe"),
)
