"""Fixtures for the voting tests: cheap password hashes, a member, an idea."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from tests import factories

# Lowest argon2 cost: a sign-in verifies in well under a millisecond instead of ~100 ms.
_CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(factories.PASSWORD)


@pytest.fixture(autouse=True)
def _cheap_factory_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(factories, "_HASH", _CHEAP_HASH)
