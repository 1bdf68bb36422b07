"""Administration pages for boards and statuses, and the staff audit log."""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    return []
