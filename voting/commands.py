"""`hearken repair-counters`."""

from __future__ import annotations

import argparse
from typing import Any


def add(sub: argparse._SubParsersAction[Any]) -> None:
    repair = sub.add_parser(
        "repair-counters",
        help="recompute vote and comment counts and trending scores from the source rows; "
        "print the drift fixed",
    )
    repair.add_argument("--dry-run", action="store_true", help="report the drift without fixing it")
    repair.set_defaults(func=_repair)


def _repair(args: argparse.Namespace) -> int:
    from portal.cli import run_with_db
    from voting.repair import repair_counters

    async def work(_settings: Any) -> int:
        drift = await repair_counters(dry_run=args.dry_run)
        for name in ("vote_count", "comment_count", "trending_score"):
            for idea_id, (was, should) in sorted(getattr(drift, name).items()):
                print(f"idea {idea_id}: {name} {was} -> {should}")
        verb = "found" if args.dry_run else "fixed"
        print(
            f"drift {verb}: {drift.total} counter(s) ({len(drift.vote_count)} vote counts, "
            f"{len(drift.comment_count)} comment counts, {len(drift.trending_score)} trending scores)"
        )
        return 0

    return run_with_db(work)
