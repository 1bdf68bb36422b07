"""Public accountability: how fast the company answers and decides, measured in the database.

Definitions (over the ideas a reader may see, not hidden, not merged, on the chosen boards):
- cohort: ideas posted in the window (the last `window` days);
- time to first answer: first staff comment or status change minus posting time;
  median and 90th percentile use the nearest-rank method (the smallest value whose rank is at
  least p x n), over the cohort's answered ideas;
- answered within target: answered ideas whose first answer came within their board's target,
  as a share of the cohort ideas that are answered or already past their target (ideas still
  inside their target and unanswered are not yet decided either way);
- waiting: ideas of any age with no answer yet;
- shipped: ideas moved to `shipped` during the window;
- decision: first move out of open/under review; median time to decision over the cohort;
- promises: planned ideas with a promised date; kept when shipped by the end of that day, late
  when shipped after it or still unshipped past it, open otherwise.
Each figure set is one SQL statement, the same on SQLite and PostgreSQL but for the duration
expression, and is cached for a minute.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections

from ideas.visibility import visible_boards
from portal.cache import TTLCache
from portal.errors import Invalid
from portal.models import User

CACHE_SECONDS = 60
MAX_WINDOW_DAYS = 3650
_cache = TTLCache(CACHE_SECONDS)


@dataclass(frozen=True)
class Figures:
    window_days: int
    median_first_response_s: float | None
    p90_first_response_s: float | None
    answered_within_target_pct: float | None
    waiting: int
    shipped: int
    median_decision_s: float | None
    decided_within_target_pct: float | None
    promises_kept: int
    promises_late: int
    promises_open: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_window(raw: Any) -> int:
    if raw in (None, ""):
        return 30
    try:
        days = int(raw)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise Invalid({"window": f"Give a number of days from 1 to {MAX_WINDOW_DAYS}."})
    return days


def _duration(dialect: str, later: str, earlier: str) -> str:
    if dialect == "postgres":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def _param(dialect: str, n: int) -> str:
    # Numbered parameters on both: PostgreSQL $1, SQLite ?1, so one value can be used twice.
    return f"${n}" if dialect == "postgres" else f"?{n}"


def _bind(dialect: str, value: Any) -> Any:
    if isinstance(value, datetime) and dialect != "postgres":
        return str(value)  # the text form Tortoise stores, so comparisons are like for like
    return value


async def figures_for(user: User | None, *, board: str | None = None, window: int = 30) -> Figures:
    boards = await visible_boards(user)
    if board is not None:
        boards = [b for b in boards if b.slug == board]
        if not boards:
            raise Invalid({"board": "There is no such board."})
    return await compute([b.id for b in boards], window=window)


async def compute(board_ids: list[int], *, window: int = 30, at: datetime | None = None) -> Figures:
    """The figures, cached for a minute and computed once however many readers ask at once."""
    key = (tuple(sorted(board_ids)), window, at)
    moment = at or datetime.now(UTC)
    return await _cache.get_or_compute(key, lambda: _compute(board_ids, window=window, at=moment))


def clear_cache() -> None:
    _cache.clear()


async def _compute(board_ids: list[int], *, window: int, at: datetime) -> Figures:
    if not board_ids:
        return Figures(window, None, None, None, 0, 0, None, None, 0, 0, 0)
    conn = connections.get("default")
    d = conn.capabilities.dialect
    since = at - timedelta(days=window)
    p_at, p_since = _param(d, 1), _param(d, 2)
    if d == "postgres":
        p_at, p_since = f"CAST({p_at} AS timestamptz)", f"CAST({p_since} AS timestamptz)"
    boards = ", ".join(_param(d, i + 3) for i in range(len(board_ids)))
    live = f"i.board_id IN ({boards}) AND i.hidden_at IS NULL AND i.merged_into_id IS NULL"
    first = _duration(d, "i.first_response_at", "i.created_at")
    decide = _duration(d, "i.decided_at", "i.created_at")
    age = _duration(d, p_at, "i.created_at")
    # Figures are built from placeholders and fixed expressions only.
    sql = f"""
    WITH cohort AS (
        SELECT {first} AS s, {decide} AS ds, {age} AS age,
               b.response_target_hours * 3600.0 AS target, b.decision_target_days * 86400.0 AS dtarget
        FROM ideas i JOIN boards b ON b.id = i.board_id
        WHERE {live} AND i.created_at >= {p_since} AND i.created_at <= {p_at}
    ),
    answered AS (
        SELECT s, ROW_NUMBER() OVER (ORDER BY s) AS rn, COUNT(*) OVER () AS n
        FROM cohort WHERE s IS NOT NULL
    ),
    decided AS (
        SELECT ds, ROW_NUMBER() OVER (ORDER BY ds) AS rn, COUNT(*) OVER () AS n
        FROM cohort WHERE ds IS NOT NULL
    )
    SELECT
        (SELECT MIN(s) FROM answered WHERE rn >= 0.5 * n) AS median_s,
        (SELECT MIN(s) FROM answered WHERE rn >= 0.9 * n) AS p90_s,
        (SELECT COUNT(*) FROM cohort WHERE s IS NOT NULL AND s <= target) AS in_target,
        (SELECT COUNT(*) FROM cohort WHERE s IS NOT NULL OR age > target) AS decidable,
        (SELECT COUNT(*) FROM ideas i
          WHERE {live} AND i.first_response_at IS NULL AND i.created_at <= {p_at}) AS waiting,
        (SELECT COUNT(DISTINCT sc.idea_id) FROM status_changes sc JOIN ideas i ON i.id = sc.idea_id
          WHERE {live} AND sc.to_status = 'shipped' AND sc.created_at >= {p_since}
            AND sc.created_at <= {p_at}) AS shipped,
        (SELECT MIN(ds) FROM decided WHERE rn >= 0.5 * n) AS median_ds,
        (SELECT COUNT(*) FROM cohort WHERE ds IS NOT NULL AND ds <= dtarget) AS d_in_target,
        (SELECT COUNT(*) FROM cohort WHERE ds IS NOT NULL OR age > dtarget) AS d_decidable
    """  # noqa: S608
    params = [_bind(d, at), _bind(d, since), *board_ids]
    row = (await conn.execute_query_dict(sql, params))[0]
    promises = await _promises(conn, d, board_ids, at)

    def pct(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    def secs(value: Any) -> float | None:
        return None if value is None else round(float(value), 1)

    return Figures(
        window_days=window,
        median_first_response_s=secs(row["median_s"]),
        p90_first_response_s=secs(row["p90_s"]),
        answered_within_target_pct=pct(int(row["in_target"]), int(row["decidable"])),
        waiting=int(row["waiting"]),
        shipped=int(row["shipped"]),
        median_decision_s=secs(row["median_ds"]),
        decided_within_target_pct=pct(int(row["d_in_target"]), int(row["d_decidable"])),
        **promises,
    )


async def _promises(conn: Any, d: str, board_ids: list[int], at: datetime) -> dict[str, int]:
    boards = ", ".join(_param(d, i + 1) for i in range(len(board_ids)))
    live = f"i.board_id IN ({boards}) AND i.hidden_at IS NULL AND i.merged_into_id IS NULL"
    today = at.date()
    # A promise is kept when the idea shipped on or before the promised day (compared as dates).
    shipped_on = "MIN(sc.created_at)"
    sql = f"""
    SELECT i.id AS id, i.promised_by AS promised_by, {shipped_on} AS shipped_at
    FROM ideas i LEFT JOIN status_changes sc ON sc.idea_id = i.id AND sc.to_status = 'shipped'
    WHERE {live} AND i.promised_by IS NOT NULL
    GROUP BY i.id, i.promised_by
    """  # noqa: S608
    rows = await conn.execute_query_dict(sql, [*board_ids])
    kept = late = open_ = 0
    for r in rows:
        promised = r["promised_by"]
        if isinstance(promised, str):
            promised = datetime.fromisoformat(promised).date()
        shipped = r["shipped_at"]
        if isinstance(shipped, str):
            shipped = datetime.fromisoformat(shipped)
        if shipped is not None and shipped > at:
            shipped = None  # not yet shipped at the moment of the figures
        if shipped is not None:
            if shipped.date() <= promised:
                kept += 1
            else:
                late += 1
        elif today > promised:
            late += 1
        else:
            open_ += 1
    return {"promises_kept": kept, "promises_late": late, "promises_open": open_}


def human(seconds: float | None) -> str:
    """A duration as people say it: 45 min, 5 h, 3 days."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600, 1):g} h"
    return f"{round(seconds / 86400, 1):g} days"
