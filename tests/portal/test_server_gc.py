"""The served app freezes what it loaded at start, so full collections stop walking it, and collects
young objects less often; tests' apps (many per process) leave the collector alone."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.app import create_app
from portal.settings import Settings


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("unfrozen_afterwards")
async def test_only_a_served_app_freezes_its_startup_objects(settings: Settings) -> None:
    EXECUTOR_CACHE.clear()
    plain = create_app(settings, migrate=False)
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0
        assert gc.get_threshold()[0] < 10_000

    served = create_app(settings, migrate=False, freeze_gc=True)
    async with served.router.lifespan_context(served):
        assert gc.get_freeze_count() > 10_000  # modules, models and templates, loaded at start
        assert gc.get_threshold() == (10_000, 10, 10)
