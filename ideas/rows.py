"""Idea rows for lists and pages, read with one plain SQL statement.

Lists are the portal's hottest path. Through the ORM, building the query and turning its rows into
dicts cost more CPU than PostgreSQL spent answering; here the statement is written once and the
board and status columns come from the in-memory catalogue instead of two joins. Every row has the
keys of `FIELDS`, with the same Python types on both backends (SQLite hands back datetimes as
text and booleans as integers: converted here).
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from datetime import datetime
from typing import Any

from ideas import catalog, extensions
from ideas.models import Idea
from portal import sql
from portal.fragments import key_part

FIELDS = (
    "id",
    "title",
    "slug",
    "board_id",
    "board__slug",
    "board__name",
    "status_id",
    "status__name",
    "status__color",
    "status__is_closed",
    "author_id",
    "author__name",
    "vote_count",
    "comment_count",
    "trending_score",
    "tags_text",
    "comments_locked",
    "merged_into_id",
    "hidden_at",
    "created_at",
    "last_activity_at",
    "updated_at",
)
_COLUMNS = (
    "i.id, i.title, i.slug, i.board_id, i.status_id, i.author_id, u.name AS author__name, "
    "i.vote_count, i.comment_count, i.trending_score, i.tags_text, i.comments_locked, "
    "i.merged_into_id, i.hidden_at, i.created_at, i.last_activity_at, i.updated_at"
)
_DATETIMES = ("hidden_at", "created_at", "last_activity_at", "updated_at")
_MODEL_FIELDS = tuple(f for f in FIELDS if "__" not in f)


class Query:
    """Conditions and parameters of one statement, in `portal.sql`'s `$n` placeholders."""

    def __init__(self) -> None:
        self.postgres = sql.is_postgres()
        self.params: list[Any] = []
        self.where: list[str] = []

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def one_of(self, column: str, values: Sequence[Any]) -> str:
        if self.postgres:  # one parameter, so the statement's text (and prepared plan) stays the same
            return f"{column} = ANY({self.param(list(values))})"
        return f"{column} IN ({', '.join(self.param(v) for v in values)})"

    def add(self, condition: str) -> None:
        self.where.append(condition)


def _statement(head: str, query: Query, order: str, limit: int | None) -> str:
    statement = head
    if query.where:
        statement += " WHERE " + " AND ".join(query.where)
    if order:
        statement += " ORDER BY " + order
    if limit is not None:
        # Written into the statement, not passed: with LIMIT as a parameter PostgreSQL's generic plan
        # looked costlier than it was, so it planned the list afresh on every execution (0.26 ms of
        # its CPU a time, against 0.15 ms with the kept plan).
        statement += f" LIMIT {int(limit)}"
    return statement


async def select(
    head: str,
    query: Query,
    *,
    order: str = "",
    limit: int | None = None,
    datetimes: Iterable[str] = (),
    booleans: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """Rows of `head` (a SELECT ... FROM ...) meeting `query`, with SQLite's text and integers
    turned into the datetimes and booleans PostgreSQL gives."""
    found = await sql.fetch(_statement(head, query, order, limit), *query.params)
    if not query.postgres:
        for row in found:
            for key in booleans:
                row[key] = bool(row[key])
            for key in datetimes:
                if isinstance(row[key], str):
                    row[key] = datetime.fromisoformat(row[key])
    return found


def _columns(query: Query, reader: int | None) -> tuple[str, list[str]]:
    columns, booleans = _COLUMNS, ["comments_locked"]
    if reader is not None:
        mark = query.param(reader)
        for extra in extensions.reader_columns.values():
            for name, expression in extra.columns.items():
                columns += f", {expression.format(reader=mark)} AS {name}"
            booleans += extra.booleans
    return columns, booleans


_HEAD = "SELECT {columns} FROM ideas i JOIN users u ON u.id = i.author_id"
_IDEA_ALIAS = re.compile(r"\bi\.")


async def _read(query: Query, order: str, limit: int | None, reader: int | None) -> list[dict[str, Any]]:
    columns, booleans = _columns(query, reader)
    head = _HEAD.format(columns=columns)
    return await select(head, query, order=order, limit=limit, datetimes=_DATETIMES, booleans=booleans)


async def fetch(
    query: Query, *, order: str = "", limit: int | None = None, reader: int | None = None
) -> list[dict[str, Any]]:
    """Rows of `ideas` (alias `i`) meeting `query`, with their author's name, board and status; given
    a `reader` (a member's id), also the fields of every decorator's `ReaderColumns` for them."""
    return await complete(await _read(query, order, limit, reader))


async def fetch_unless(
    query: Query,
    *,
    order: str = "",
    limit: int | None = None,
    reader: int | None = None,
    unless: Hashable | None = None,
) -> tuple[Hashable, list[dict[str, Any]] | None]:
    """(digest, rows): `fetch`'s rows and a digest of them as read from the database, or (digest,
    None) when the digest is `unless` (see `portal.kept`). Without `order`, the digest is taken in
    id order. The catalogue's board and status fields are not in the digest: a caller keeping
    markup keeps `catalog.maps()` with it. On SQLite the rows are always read (the digest is their
    values)."""
    if not query.postgres:
        found = await _read(query, order, limit, reader)
        digest = key_part(found)
        return digest, (None if digest == unless else await complete(found))
    columns, _ = _columns(query, reader)
    statement = _statement(_HEAD.format(columns=columns), query, order, limit)
    outer = _IDEA_ALIAS.sub("t.", order) if order else "t.id"
    digest, found = await sql.fetch_unless(
        statement, *query.params, order=outer, unless=unless if isinstance(unless, str) else None
    )
    return digest, (None if found is None else await complete(found))


async def of_idea(idea: Idea) -> dict[str, Any]:
    """The row `fetch` would give for an idea already loaded with its author (no statement)."""
    row = {key: getattr(idea, key) for key in _MODEL_FIELDS}
    row["author__name"] = idea.author.name
    return (await complete([row]))[0]


async def complete(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    boards, statuses = await catalog.maps_covering(
        {r["board_id"] for r in found}, {r["status_id"] for r in found}
    )
    for row in found:
        board = boards[row["board_id"]]
        status = statuses[row["status_id"]]
        row["board__slug"] = board.slug
        row["board__name"] = board.name
        row["status__name"] = status.name
        row["status__color"] = status.color
        row["status__is_closed"] = status.is_closed
    return found
