"""Plain SQL on both databases, for the few hot paths where building the query is the cost.

Tortoise spends a few hundred microseconds of CPU building and reading each statement; on a path
that runs a thousand times a second (a vote and what it pays) that is most of the work. Statements
here are written once, in SQL both PostgreSQL and SQLite speak (`INSERT ... ON CONFLICT`,
`RETURNING`, SQLite 3.35 or later), with PostgreSQL's numbered placeholders `$1, $2...`: on SQLite
they become `?1, ?2...`, numbered the same way (so a placeholder may appear twice). Rows come back as
dicts keyed by column. SQLite returns datetimes as text and booleans as 0/1: read a model's columns
through `as_model`, which converts them like Tortoise does.

Statements run on the caller's transaction when there is one (Tortoise's connection for "default"
is the transaction's inside `in_transaction()`).
"""

from __future__ import annotations

import contextlib
import re
from contextlib import AbstractAsyncContextManager
from functools import lru_cache
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import TransactionalDBClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

M = TypeVar("M", bound=Model)

_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=512)
def _for_sqlite(statement: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", statement)


def is_postgres() -> bool:
    return bool(connections.get("default").capabilities.dialect == "postgres")


def atomic() -> AbstractAsyncContextManager[Any]:
    """A transaction, or the caller's when there is one, without a savepoint of its own.

    Nested `in_transaction()` blocks cost a SAVEPOINT and a RELEASE (two round trips) each. A block
    that catches no database error inside needs none: if it fails, the caller's transaction fails.
    """
    if isinstance(connections.get("default"), TransactionalDBClient):
        return contextlib.nullcontext()
    return in_transaction()


async def fetch(statement: str, *values: Any) -> list[dict[str, Any]]:
    """Runs one statement (a query, or a write with `RETURNING`) and returns its rows."""
    conn = connections.get("default")
    if conn.capabilities.dialect != "postgres":
        statement = _for_sqlite(statement)
    return await conn.execute_query_dict(statement, list(values))


def as_model(model: type[M], row: dict[str, Any]) -> M:
    """A model instance from a row holding every column of its table (e.g. `RETURNING *`)."""
    return model._init_from_db(**row)


async def fetch_unless(
    statement: str, *values: Any, order: str, unless: str | None
) -> tuple[str, list[dict[str, Any]] | None]:
    """PostgreSQL only: (digest, rows) of a SELECT, where the digest is an md5 over every column of
    every row in `order` (an ORDER BY over the statement's columns, as `t.column`), and the rows are
    None when the digest is `unless`: one short row then travels instead of all of them (see
    `portal.kept`). The digest and the rows come from the same statement, so they always agree."""
    mark = f"${len(values) + 1}"
    found = await fetch(
        f"WITH t AS ({statement}),"  # noqa: S608 - the caller's SQL; values stay parameters
        f" d AS (SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY {order})), '') AS digest FROM t)"
        f" SELECT d.digest AS kept__digest, t.* FROM d LEFT JOIN t ON d.digest <> {mark} ORDER BY {order}",
        *values,
        unless or "",
    )
    digest: str = found[0]["kept__digest"]
    if digest == unless:
        return digest, None
    if not digest:  # no rows: the one row is the digest's, joined to nothing
        return digest, []
    for row in found:
        del row["kept__digest"]
    return digest, found
