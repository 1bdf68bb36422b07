"""Reading ideas: lists with keyset paging, full-text search, the idea page, home and roadmap.

Every function takes the reader and applies `visibility` in the query itself, so private, insider
and hidden ideas never reach a list, a count or a search result. Each page costs a fixed number of
queries, whatever the number of ideas on it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.functions import Count

from ideas import catalog, extensions, rows
from ideas.events import ContentUnhidden, IdeaPosted
from ideas.models import Board, Idea, Status
from ideas.service import ensure_visible, load_idea, visible_idea
from ideas.visibility import visible_boards
from portal import events, permissions, sql
from portal.cache import TTLCache
from portal.errors import Invalid
from portal.fragments import key_part
from portal.models import User

SORTS = {
    "trending": "trending_score",
    "top": "vote_count",
    "new": "created_at",
    "active": "last_activity_at",
}
PAGE_SIZE = 20
RANK_CANDIDATES = 300
MAX_PAGE_SIZE = 100
ROADMAP_COLUMNS = ("planned", "in_progress", "shipped")
LIST_FIELDS = rows.FIELDS
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass
class IdeaFilter:
    board: str | None = None
    status: str | None = None
    tag: str | None = None
    author: int | None = None
    sort: str = "trending"
    q: str | None = None
    cursor: str | None = None
    limit: int = PAGE_SIZE


@dataclass
class IdeaPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    boards: list[Board] = field(default_factory=list)
    board: Board | None = None
    # Given `keeping=True`: the digest of the rows (see `rows.fetch_unless`), and whether it was the
    # `unless` digest, in which case `items` and `next_cursor` are left empty: the caller kept them.
    digest: Hashable | None = None
    unchanged: bool = False


def parse_filter(params: Any) -> IdeaFilter:
    """Reads list parameters (a query string or a JSON body); every bad one is named at once."""
    errors: dict[str, str] = {}
    sort = (params.get("sort") or "").strip() or "trending"
    if sort not in SORTS:
        errors["sort"] = f"Choose one of {', '.join(SORTS)}."
    limit = PAGE_SIZE
    raw_limit = params.get("limit")
    if raw_limit not in (None, ""):
        try:
            limit = int(raw_limit)
        except (TypeError, ValueError):
            limit = 0
        if not 1 <= limit <= MAX_PAGE_SIZE:
            errors["limit"] = f"Give a number from 1 to {MAX_PAGE_SIZE}."
    author = None
    raw_author = params.get("author")
    if raw_author not in (None, ""):
        try:
            author = int(raw_author)
        except (TypeError, ValueError):
            errors["author"] = "Give a member's number."
    status = (params.get("status") or "").strip() or None
    q = (params.get("q") or "").strip() or None
    if q is not None and len(q) > 200:
        errors["q"] = "Search for at most 200 characters."
    cursor = (params.get("cursor") or "").strip() or None
    if cursor is not None and not errors.get("sort"):
        try:
            _decode_cursor(cursor, sort, searching=q is not None)
        except ValueError:
            errors["cursor"] = "This page link is not valid; start again from the first page."
    if errors:
        raise Invalid(errors)
    return IdeaFilter(
        board=(params.get("board") or "").strip() or None,
        status=status,
        tag=(params.get("tag") or "").strip().lower() or None,
        author=author,
        sort=sort,
        q=q,
        cursor=cursor,
        limit=limit,
    )


def _encode_cursor(payload: list[Any]) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, *, searching: bool) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValueError("bad cursor") from exc
    if not isinstance(payload, list) or len(payload) != 3 or payload[0] != ("q" if searching else sort):
        raise ValueError("bad cursor")
    value, last_id = payload[1], payload[2]
    if not isinstance(last_id, int) or isinstance(last_id, bool):
        raise ValueError("bad cursor")
    if searching:
        if not isinstance(value, int) or value < 0 or value > 10_000:
            raise ValueError("bad cursor")
    elif SORTS[sort] in ("created_at", "last_activity_at"):
        if not isinstance(value, str):
            raise ValueError("bad cursor")
        payload[1] = datetime.fromisoformat(value)
    elif not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError("bad cursor")
    return payload


async def list_ideas(
    user: User | None, flt: IdeaFilter, *, keeping: bool = False, unless: Hashable | None = None
) -> IdeaPage:
    """A page of ideas. `keeping`: the caller keeps what it draws with the page's digest, and passes
    the digest it kept as `unless` (see `IdeaPage.unchanged`)."""
    boards = await visible_boards(user)
    board = None
    board_ids = [b.id for b in boards]
    if flt.board:
        board = next((b for b in boards if b.slug == flt.board), None)
        if board is None:
            raise Invalid({"board": "There is no such board."})
        board_ids = [board.id]
    if flt.status and flt.status not in await catalog.status_keys():
        raise Invalid({"status": "There is no such status."})
    if not board_ids:
        return IdeaPage([], None, boards, board)
    query = rows.Query()
    query.add(query.one_of("i.board_id", board_ids))
    query.add("i.hidden_at IS NULL AND i.merged_into_id IS NULL")
    if flt.status:
        query.add(f"i.status_id = {query.param(flt.status)}")
    if flt.author is not None:
        query.add(f"i.author_id = {query.param(flt.author)}")
    if flt.tag:
        query.add(
            "i.id IN (SELECT it.idea_id FROM idea_tags it JOIN tags t ON t.id = it.tag_id "  # noqa: S608 - a placeholder
            f"WHERE t.slug = {query.param(flt.tag)})"
        )
    if flt.q:
        return await _search(user, query, board_ids, flt, boards, board, keeping=keeping, unless=unless)
    column = SORTS[flt.sort]
    if flt.cursor:
        _, value, last_id = _decode_cursor(flt.cursor, flt.sort, searching=False)
        query.add(f"(i.{column}, i.id) < ({query.param(value)}, {query.param(last_id)})")
    order = f"i.{column} DESC, i.id DESC"
    digest, found = await _read(query, user, keeping, unless, order=order, limit=flt.limit + 1)
    if found is None:
        return IdeaPage([], None, boards, board, digest=digest, unchanged=True)
    next_cursor = None
    if len(found) > flt.limit:
        found = found[: flt.limit]
        last = found[-1]
        value = last[column].isoformat() if isinstance(last[column], datetime) else last[column]
        next_cursor = _encode_cursor([flt.sort, value, last["id"]])
    return IdeaPage(await decorate(user, found, joined=True), next_cursor, boards, board, digest=digest)


async def _read(
    query: rows.Query,
    user: User | None,
    keeping: bool,
    unless: Hashable | None,
    *,
    order: str = "",
    limit: int | None = None,
) -> tuple[Hashable | None, list[dict[str, Any]] | None]:
    """The rows of a page of ideas; when `keeping`, with their digest (and None for rows unchanged
    since `unless`)."""
    if not keeping:
        return None, await rows.fetch(query, order=order, limit=limit, reader=_id(user))
    return await rows.fetch_unless(query, order=order, limit=limit, reader=_id(user), unless=unless)


async def _search(
    user: User | None,
    query: rows.Query,
    board_ids: list[int],
    flt: IdeaFilter,
    boards: list[Board],
    board: Board | None,
    *,
    keeping: bool = False,
    unless: Hashable | None = None,
) -> IdeaPage:
    offset = 0
    if flt.cursor:
        _, offset, _ = _decode_cursor(flt.cursor, flt.sort, searching=True)
    key = (flt.q, tuple(board_ids), flt.status, flt.author, flt.tag, flt.limit, offset)
    ranked = await _search_results.get_or_compute(
        key,
        lambda: search_ids(
            flt.q or "",
            board_ids,
            limit=flt.limit + 1,
            offset=offset,
            status=flt.status,
            author=flt.author,
            tag=flt.tag,
        ),
    )
    if not ranked:
        return IdeaPage([], None, boards, board)
    query.add(query.one_of("i.id", ranked))
    # The rows' digest is taken in id order: the page's is that and the ranking.
    kept_rows = unless[0] if isinstance(unless, tuple) and unless[1:] == (tuple(ranked),) else None
    rows_digest, found = await _read(query, user, keeping, kept_rows)
    digest = (rows_digest, tuple(ranked)) if keeping else None
    if found is None:
        return IdeaPage([], None, boards, board, digest=digest, unchanged=True)
    order = {idea_id: i for i, idea_id in enumerate(ranked)}
    found.sort(key=lambda r: order[r["id"]])
    next_cursor = None
    if len(ranked) > flt.limit:
        found = found[: flt.limit]
        next_cursor = _encode_cursor(["q", offset + flt.limit, 0])
    return IdeaPage(await decorate(user, found, joined=True), next_cursor, boards, board, digest=digest)


# The ranked ids of a search, for half a minute: popular searches repeat (a launch brings many
# readers typing the same words), and ranking costs the database more than anything else a reader
# asks. Only ids are kept, per set of visible boards: the rows are read fresh and filtered again by
# `query` (hidden, merged, boards), so a stale entry can be late to list a new idea, never leak one.
_search_results = TTLCache(30, max_entries=2048)


async def forget_searches(_event: object = None) -> None:
    """A new (or unhidden) idea is searchable at once in this process; others catch up within
    the half minute."""
    _search_results.clear()


def install() -> None:
    events.listen(IdeaPosted)(forget_searches)
    events.listen(ContentUnhidden)(forget_searches)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)][:12]


async def search_ids(
    text: str,
    board_ids: list[int],
    *,
    limit: int,
    offset: int = 0,
    any_word: bool = False,
    status: str | None = None,
    author: int | None = None,
    tag: str | None = None,
) -> list[int]:
    """Ids of visible, live ideas matching `text`, best first (PostgreSQL tsvector or SQLite FTS5).

    The list filters (`status`, `author`, `tag`) apply here, before LIMIT/OFFSET: applied after, a
    page of the best matches could lose all its rows to the filter and come back empty.
    """
    words = _words(text)
    if not words or not board_ids:
        return []
    query = rows.Query()
    postgres, param = query.postgres, query.param

    if postgres:
        if any_word:
            tsquery = "to_tsquery('english', $1)"
            term = " | ".join(f"{w}:*" for w in words)
        else:
            tsquery = "websearch_to_tsquery('english', $1)"
            term = text
        # `idea_search` holds each idea's board and liveness too (migration 0006), so choosing the
        # candidates joins `ideas` only for the rarer filters on status, author or tag.
        match = f"s.search_vector @@ {tsquery}"
        rank = f"ts_rank(s.search_vector, {tsquery}) DESC"
        board, live = "s.board_id", "s.live"
        join_ideas = status is not None or author is not None or tag is not None
        source = "idea_search s JOIN ideas ON ideas.id = s.idea_id" if join_ideas else "idea_search s"
    else:
        # Each word quoted, so FTS5 operators typed by a visitor are searched as text.
        joiner = " OR " if any_word else " "
        term = joiner.join(f'"{w}"*' for w in words)
        match = "ideas_fts MATCH $1"
        rank = "bm25(ideas_fts, 10.0, 1.0, 5.0)"
        board, live = "ideas.board_id", "ideas.hidden_at IS NULL AND ideas.merged_into_id IS NULL"
        source = "ideas_fts JOIN ideas ON ideas.id = ideas_fts.rowid"
    param(term)
    conditions = [match, f"{board} IN ({', '.join(param(b) for b in board_ids)})", live]
    if status is not None:
        conditions.append(f"ideas.status_id = {param(status)}")
    if author is not None:
        conditions.append(f"ideas.author_id = {param(author)}")
    if tag is not None:
        conditions.append(
            "ideas.id IN (SELECT idea_tags.idea_id FROM idea_tags JOIN tags ON tags.id = idea_tags.tag_id "  # noqa: S608
            f"WHERE tags.slug = {param(tag)})"
        )
    # Only placeholders and fixed SQL are interpolated below. Equal ranks: the newest idea first.
    where = " AND ".join(conditions)
    if postgres:
        # Ranking reads every match's tsvector: a word found in 16,000 of 100,000 ideas cost 650 ms
        # ranked in full, 25 ms over 2,000 candidates, 4 ms over 300. A search matching at most
        # RANK_CANDIDATES ideas (nearly every real search: several words, or a rare one) is ranked
        # exactly; a broader one ranks the first RANK_CANDIDATES matches the scan finds.
        statement = (
            f"SELECT idea_id AS id FROM (SELECT s.idea_id, s.search_vector FROM {source} "  # noqa: S608
            f"WHERE {where} LIMIT {RANK_CANDIDATES}) AS s "
            f"ORDER BY {rank}, s.idea_id DESC "
            f"LIMIT {param(limit)} OFFSET {param(offset)}"
        )
    else:
        statement = (
            f"SELECT ideas.id AS id FROM {source} WHERE {where} "  # noqa: S608
            f"ORDER BY {rank}, ideas.id DESC "
            f"LIMIT {param(limit)} OFFSET {param(offset)}"
        )
    return [r["id"] for r in await sql.fetch(statement, *query.params)]


async def similar_ideas(user: User | None, title: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """Ideas whose words resemble a title being typed, to head off duplicates."""
    if len(title.strip()) < 3:
        return []
    board_ids = [b.id for b in await visible_boards(user)]
    ids = await search_ids(title, board_ids, limit=limit, any_word=True)
    if not ids:
        return []
    query = rows.Query()
    query.add(query.one_of("i.id", ids))
    order = {idea_id: i for i, idea_id in enumerate(ids)}
    return sorted(await rows.fetch(query), key=lambda r: order[r["id"]])


def _id(user: User | None) -> int | None:
    return user.id if user is not None else None


async def decorate(
    user: User | None, items: list[dict[str, Any]], *, joined: bool = False
) -> list[dict[str, Any]]:
    """Adds what other packages know about each idea (voting: `voted`), one query per package;
    `joined`: the rows were read with `rows.fetch(..., reader=)`, which gave the `ReaderColumns`."""
    for row in items:
        row["tags"] = row["tags_text"].split() if row.get("tags_text") else []
        row["url"] = f"/ideas/{row['id']}-{row['slug']}" if row.get("slug") else f"/ideas/{row['id']}"
    ids = [r["id"] for r in items]
    for decorator in extensions.idea_decorators:
        if joined and decorator in extensions.reader_columns:
            continue
        extra = await decorator(user, ids) if ids else {}
        for row in items:
            row.update(extra.get(row["id"], {}))
    return items


@dataclass
class IdeaView:
    idea: Idea
    row: dict[str, Any]
    history: list[dict[str, Any]]
    following: bool
    follower_count: int
    duplicates: list[dict[str, Any]]
    statuses: list[Status]


async def idea_view(user: User | None, idea_id: int) -> IdeaView:
    """Everything the idea page shows but its comments (`comment_thread`), in one statement (plain
    SQL) for an ordinary idea."""
    idea, facts = await load_idea(idea_id, _page_facts(), _id(user) or 0)
    await ensure_visible(user, idea)
    row = (await decorate(user, [await rows.of_idea(idea)]))[0]
    history = await catalog.name_statuses(_history_of(facts["history"]))
    following, follower_count = bool(facts["following"]), int(facts["follower_count"])
    duplicates: list[dict[str, Any]] = []
    if facts["merged_here"]:  # most ideas have no duplicates: then no statement for them
        query = rows.Query()
        query.add(f"merged_into_id = {query.param(idea.id)}")
        head = "SELECT id, title, slug, board_id, hidden_at FROM ideas"
        duplicates = await rows.select(head, query, order="id", datetimes=("hidden_at",))
        # A duplicate keeps its own visibility: a hidden or private one must not show its title here.
        board_ids = {b.id for b in await visible_boards(user)}
        moderator = permissions.can(user, "idea.moderate")
        duplicates = [
            d for d in duplicates if d["board_id"] in board_ids and (d["hidden_at"] is None or moderator)
        ]
    statuses = await catalog.statuses() if permissions.can(user, "idea.change_status", idea) else []
    return IdeaView(idea, row, history, following, follower_count, duplicates, statuses)


# A comment as the idea page and the API read it. Every column the page draws is here: a thread's
# digest (`comment_thread`) is taken over these columns, so a change to any of them changes it.
_COMMENT_HEAD = (
    "SELECT c.id, c.parent_id, c.author_id, u.name AS author__name, c.body_html, c.by_staff, "
    "c.internal, c.helpful_at, c.hidden_at, c.hidden_reason, c.merged_from_id, c.created_at "
    "FROM comments c JOIN users u ON u.id = c.author_id LEFT JOIN ideas m ON m.id = c.merged_from_id"
)
_COMMENT_ORDER = "c.created_at, c.id"
_COMMENT_DATETIMES = ("helpful_at", "hidden_at", "created_at")
_COMMENT_BOOLEANS = ("by_staff", "internal")


async def _visible_comments_query(user: User | None, idea_id: int) -> rows.Query:
    staff = permissions.can(user, "comment.internal")
    query = rows.Query()
    query.add(f"c.idea_id = {query.param(idea_id)}")
    if not staff:
        query.add("c.internal = FALSE AND c.hidden_at IS NULL")
    origin = query.one_of("m.board_id", [b.id for b in await visible_boards(user)] or [0])
    if not permissions.can(user, "idea.moderate"):
        origin += " AND m.hidden_at IS NULL"
    query.add(f"(c.merged_from_id IS NULL OR ({origin}))")
    return query


async def visible_comments(user: User | None, idea_id: int) -> list[dict[str, Any]]:
    """The idea's comments this reader may see, oldest first.

    Comments moved here by a merge keep the visibility of the idea they were written on: those of a
    private, insider or hidden duplicate show only to whoever may see that duplicate.
    """
    return await rows.select(
        _COMMENT_HEAD,
        await _visible_comments_query(user, idea_id),
        order=_COMMENT_ORDER,
        datetimes=_COMMENT_DATETIMES,
        booleans=_COMMENT_BOOLEANS,
    )


async def comment_thread(
    user: User | None, idea_id: int, *, unless: Hashable | None = None
) -> tuple[Hashable, list[dict[str, Any]] | None]:
    """(digest, comments): the comments this reader may see (as `visible_comments`) and a digest of
    them, equal for equal comments; the comments are None when the digest is `unless`.

    A page keeps the markup it drew for a digest and passes it as `unless`: while the thread is
    unchanged, PostgreSQL sends one short row instead of every comment, and the page does not read
    fifty comments to learn that. On SQLite the comments are always read (the digest is their
    values)."""
    query = await _visible_comments_query(user, idea_id)
    if not query.postgres:
        comments = await visible_comments(user, idea_id)
        digest = key_part(comments)
        return digest, (None if digest == unless else comments)
    return await sql.fetch_unless(
        f"{_COMMENT_HEAD} WHERE {' AND '.join(query.where)}",
        *query.params,
        order="t.created_at, t.id",
        unless=unless if isinstance(unless, str) else None,
    )


# Read with the idea itself: who follows it (and whether the reader does, $2), whether any idea
# was merged into it, and its status history (as JSON: a statement's round trip cost the page more
# than the few changes an idea has). The history holds what `status_history` returns.
_PAGE_FACTS = (
    ", (SELECT COUNT(*) FROM follows f WHERE f.idea_id = i.id) AS follower_count"
    ", EXISTS (SELECT 1 FROM follows f WHERE f.idea_id = i.id AND f.user_id = $2) AS following"
    ", EXISTS (SELECT 1 FROM ideas d WHERE d.merged_into_id = i.id) AS merged_here"
    ", (SELECT {array}({object}({fields})) FROM status_changes s"
    " LEFT JOIN users u ON u.id = s.actor_id WHERE s.idea_id = i.id) AS history"
)
# A status change as `status_history` reads it and as the idea page's JSON holds it.
_HISTORY_COLUMNS = {
    "id": "s.id",
    "actor_id": "s.actor_id",
    "actor__name": "u.name",
    "from_status": "s.from_status",
    "to_status": "s.to_status",
    "message_html": "s.message_html",
    "created_at": "s.created_at",
}
_HISTORY_SELECT = (
    f"SELECT {', '.join(f'{e} AS {n}' for n, e in _HISTORY_COLUMNS.items())}"  # noqa: S608 - constants
    " FROM status_changes s LEFT JOIN users u ON u.id = s.actor_id"
)
_HISTORY_FIELDS = ", ".join(f"'{name}', {expression}" for name, expression in _HISTORY_COLUMNS.items())
_PAGE_FACTS_POSTGRES = _PAGE_FACTS.format(
    array="json_agg", object="json_build_object", fields=_HISTORY_FIELDS
)
_PAGE_FACTS_SQLITE = _PAGE_FACTS.format(
    array="json_group_array", object="json_object", fields=_HISTORY_FIELDS
)


def _page_facts() -> str:
    return _PAGE_FACTS_POSTGRES if sql.is_postgres() else _PAGE_FACTS_SQLITE


def _history_of(found: str | None) -> list[dict[str, Any]]:
    """The history column's changes, oldest first, with datetimes (JSON holds them as text)."""
    history: list[dict[str, Any]] = json.loads(found) if found else []
    for change in history:
        # As asyncpg gives it, in UTC, whatever the database session's time zone wrote.
        change["created_at"] = datetime.fromisoformat(change["created_at"]).astimezone(UTC)
    history.sort(key=lambda change: (change["created_at"], change["id"]))
    return history


def arrange_thread(
    comments: list[dict[str, Any]], official_id: int | None
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the pinned official response if the reader may see it, the other comments as threads)."""
    official = next((c for c in comments if c["id"] == official_id), None)
    return official, _thread(c for c in comments if c is not official)


def _thread(comments: Any) -> list[dict[str, Any]]:
    """Top-level comments, each with its `replies` (one level deep)."""
    top: list[dict[str, Any]] = []
    by_id: dict[int, dict[str, Any]] = {}
    orphans: list[dict[str, Any]] = []
    for c in comments:
        c["replies"] = []
        by_id[c["id"]] = c
        if c["parent_id"] is None:
            top.append(c)
        elif c["parent_id"] in by_id:
            by_id[c["parent_id"]]["replies"].append(c)
        else:
            orphans.append(c)  # the parent is hidden from this reader: show the reply on its own
    return top + orphans


async def status_history(idea_id: int) -> list[dict[str, Any]]:
    query = rows.Query()
    query.add(f"s.idea_id = {query.param(idea_id)}")
    changes = await rows.select(_HISTORY_SELECT, query, order="s.created_at, s.id", datetimes=("created_at",))
    return await catalog.name_statuses(changes)


async def comments_for_api(user: User | None, idea_id: int) -> list[dict[str, Any]]:
    idea = await visible_idea(user, idea_id)
    keys = ("id", "parent_id", "author_id", "author__name", "body_html", "by_staff", "internal", "created_at")
    return [{k: c[k] for k in keys} for c in await visible_comments(user, idea.id)]


async def home(user: User | None) -> dict[str, Any]:
    """The home page's boards with their counts and the recent decisions (`TRENDING` apart)."""
    boards = await visible_boards(user, include_archived=False)
    board_ids = [b.id for b in boards]
    # Counting every idea per board reads the whole table: the figure is kept for a minute, per set
    # of visible boards (so what one reader may see never reaches another).
    key = tuple(board_ids)

    async def count() -> dict[int, int]:
        return dict(
            await Idea.filter(board_id__in=board_ids, hidden_at=None, merged_into_id=None)
            .annotate(n=Count("id"))
            .group_by("board_id")
            .values_list("board_id", "n")
        )

    counts = await _board_counts.get_or_compute(key, count)
    changes = await recent_status_changes(board_ids, limit=8)
    return {"boards": boards, "counts": counts, "changes": changes}


# The home page's trending ideas: a list like any other (its cards are kept, ideas/card_pages.py).
TRENDING = IdeaFilter(sort="trending", limit=8)


_board_counts = TTLCache(60)


async def recent_status_changes(board_ids: list[int], *, limit: int) -> list[dict[str, Any]]:
    if not board_ids:
        return []
    query = rows.Query()
    query.add(query.one_of("i.board_id", board_ids))
    query.add("i.hidden_at IS NULL AND i.merged_into_id IS NULL")
    changes = await rows.select(
        "SELECT s.id, s.idea_id, i.title AS idea__title, i.slug AS idea__slug, u.name AS actor__name, "
        "s.from_status, s.to_status, s.created_at FROM status_changes s "
        "JOIN ideas i ON i.id = s.idea_id LEFT JOIN users u ON u.id = s.actor_id",
        query,
        order="s.created_at DESC, s.id DESC",
        limit=limit,
        datetimes=("created_at",),
    )
    return await catalog.name_statuses(changes)


async def roadmap(user: User | None, board: str | None = None) -> dict[str, Any]:
    boards = await visible_boards(user)
    board_ids = [b.id for b in boards if board is None or b.slug == board]
    if board is not None and not board_ids:
        raise Invalid({"board": "There is no such board."})
    statuses = await catalog.status_map()
    columns = []
    for key in ROADMAP_COLUMNS:
        found: list[dict[str, Any]] = []
        if board_ids:
            query = rows.Query()
            query.add(query.one_of("i.board_id", board_ids))
            query.add(
                f"i.hidden_at IS NULL AND i.merged_into_id IS NULL AND i.status_id = {query.param(key)}"
            )
            order = "i.updated_at DESC" if key == "shipped" else "i.vote_count DESC"
            found = await rows.fetch(query, order=order + ", i.id DESC", limit=50)
        columns.append({"status": statuses.get(key), "key": key, "ideas": found})
    all_rows = [r for c in columns for r in c["ideas"]]
    await decorate(user, all_rows)
    return {"columns": columns, "boards": boards}
