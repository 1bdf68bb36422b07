"""The PostgreSQL engine Tortoise uses for the portal: its own asyncpg client, without one
round trip per statement.

asyncpg's pool sends a reset statement (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
RESET ALL`) every time a connection goes back to the pool, that is after every statement run
outside a transaction and after every transaction: a second round trip for each. The portal sets
no session state on pooled connections (no SET, no advisory locks, no cursors left open, no
LISTEN: cache invalidation listens on a connection of its own), so there is nothing to reset.
asyncpg still rolls back a transaction left open, whatever the reset statement says.
"""

from __future__ import annotations

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


class PortalConnection(asyncpg.Connection):  # type: ignore[misc]
    def get_reset_query(self) -> str:
        return ""


class PortalAsyncpgClient(AsyncpgDBClient):
    connection_class = PortalConnection


client_class = PortalAsyncpgClient
