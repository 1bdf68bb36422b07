"""Figures for community managers, each computed in the database with GROUP BY.

- Points paid per rule, over the last 30 days and all time: the net of what the rule earned members
  and what was reversed (a reversal counts when it happens). Manual grants and deductions form one
  more row. Spending and refunds are not payments and are left out.
- Perks claimed per week, over the last 12 weeks (weeks start on Monday, UTC): every claim made in
  the week, whatever became of it, as deals claimed and program places asked for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count, Sum

from ideas.models import Idea
from rewards import ledger
from rewards.models import (
    LIVE_CLAIM_STATES,
    Claim,
    DuplicateReport,
    EarningRule,
    MemberPoints,
    Perk,
    PointEntry,
)

WINDOW = timedelta(days=30)
WEEKS = 12
GRANTS = "Manual grants and deductions"

# The Monday (UTC) starting the week of a claim, as a date.
_WEEK = {
    "postgres": """CAST(date_trunc('week', "claims"."created_at" AT TIME ZONE 'UTC') AS DATE)""",
    "sqlite": """date("claims"."created_at", 'weekday 0', '-6 days')""",
}

# Ledger entries that pay points: earnings and grants, and the reversals of either.
_PAID = Q(kind__in=ledger.LIFETIME_KINDS) | Q(kind="reversal", reverses__kind__in=ledger.LIFETIME_KINDS)


def _now() -> datetime:
    return datetime.now(UTC)


async def points_per_rule(at: datetime | None = None) -> list[dict[str, Any]]:
    """[{key, name, recent, all_time}] for every rule (zeros included), then manual grants."""
    since = (at or _now()) - WINDOW
    rows = await (
        PointEntry.filter(_PAID)
        .annotate(all_time=Sum("delta"), recent=Sum("delta", _filter=Q(created_at__gte=since)))
        .group_by("rule")
        .values("rule", "all_time", "recent")
    )
    paid = {r["rule"]: r for r in rows}
    result = []
    for rule in await EarningRule.all().order_by("key"):
        row = paid.pop(rule.key, {})
        result.append(_figures(rule.key, rule.name, row))
    grants = paid.pop(None, {})
    result.extend(_figures(key, key, row) for key, row in sorted(paid.items()))  # rules since removed
    result.append(_figures(None, GRANTS, grants))
    return result


def _figures(key: str | None, name: str, row: dict[str, Any]) -> dict[str, Any]:
    return {"key": key, "name": name, "recent": row.get("recent") or 0, "all_time": row.get("all_time") or 0}


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


async def claims_per_week(at: datetime | None = None) -> list[dict[str, Any]]:
    """[{week (Monday), deals, programs, total}] for the last 12 weeks, oldest first, zeros included."""
    this_week = week_start((at or _now()).astimezone(UTC).date())
    first = this_week - timedelta(weeks=WEEKS - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    dialect = connections.get("default").capabilities.dialect
    rows = await (
        Claim.filter(created_at__gte=since)
        .annotate(week=RawSQL(_WEEK[dialect]), n=Count("id"))
        .group_by("week", "perk__kind")
        .values("week", "perk__kind", "n")
    )
    weeks = {first + timedelta(weeks=i): {"deals": 0, "programs": 0} for i in range(WEEKS)}
    for row in rows:
        week = date.fromisoformat(str(row["week"])[:10])
        if week in weeks:
            weeks[week]["deals" if row["perk__kind"] == "deal" else "programs"] += row["n"]
    return [{"week": w, **n, "total": n["deals"] + n["programs"]} for w, n in weeks.items()]


async def overview() -> dict[str, Any]:
    """The few numbers the staff start page shows."""
    return {
        "members": await MemberPoints.filter(lifetime__gt=0).count(),
        "paid_30d": sum(row["recent"] for row in await points_per_rule()),
        "perks": await Perk.filter(archived_at=None).count(),
        "pending": await Claim.filter(status="pending").count(),
        "live_claims": await Claim.filter(status__in=LIVE_CLAIM_STATES).count(),
        "duplicate_reports": await open_duplicate_reports(),
    }


async def open_duplicate_reports(limit: int = 20) -> list[dict[str, Any]]:
    """Reported pairs that are not merged yet, most reported first (ids only: the idea pages decide
    who sees what)."""
    pairs = await (
        DuplicateReport.annotate(reports=Count("id"))
        .group_by("idea_id", "duplicate_of_id")
        .order_by("-reports", "idea_id")
        .limit(limit * 2)
        .values("idea_id", "duplicate_of_id", "reports")
    )
    ids = {p["idea_id"] for p in pairs} | {p["duplicate_of_id"] for p in pairs}
    merged = set(await Idea.filter(id__in=ids, merged_into_id__not_isnull=True).values_list("id", flat=True))
    return [p for p in pairs if p["idea_id"] not in merged and p["duplicate_of_id"] not in merged][:limit]
