"""Feature packages plug into the portal by name, so that `portal` never imports them."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from starlette.routing import BaseRoute


@dataclass(frozen=True)
class Feature:
    """What one feature package adds: its tables, pages, API routes, commands and demo data."""

    name: str
    models: tuple[str, ...] = ()
    migrations: str | None = None
    routes: Callable[[], Sequence[BaseRoute]] = lambda: ()
    api_routes: Callable[[], Sequence[BaseRoute]] = lambda: ()
    # Registers event listeners and policies; called once per process.
    setup: Callable[[], None] = lambda: None
    demo: Callable[[], Awaitable[None]] | None = None
    add_commands: Callable[[argparse._SubParsersAction[Any]], None] | None = None
    nav: tuple[tuple[str, str], ...] = field(default=())
    # The OpenAPI paths and schemas of its JSON API (see portal/openapi.py).
    openapi: Callable[[], tuple[dict[str, Any], dict[str, Any]]] | None = None


def deferred(target: str) -> Callable[..., Any]:
    """`"package.module:function"` called on first use: importing a feature's routes, commands or
    demo waits until the portal needs them (and a feature file stays a declaration)."""
    module_name, _, attribute = target.partition(":")

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), attribute)(*args, **kwargs)

    return call


def load_features(names: Sequence[str]) -> list[Feature]:
    features = []
    for name in names:
        module = importlib.import_module(f"{name}.feature")
        features.append(module.FEATURE)
    return features


_setup_done: set[str] = set()


def setup_features(features: Sequence[Feature]) -> None:
    for feature in features:
        if feature.name not in _setup_done:
            feature.setup()
            _setup_done.add(feature.name)
