"""`hearken rewards rebuild`."""

from __future__ import annotations

import argparse
from typing import Any


def add(sub: argparse._SubParsersAction[Any]) -> None:
    rewards = sub.add_parser("rewards", help="the insider program's maintenance commands")
    rewards_sub = rewards.add_subparsers(dest="rewards_command", required=True, metavar="ACTION")
    rebuild = rewards_sub.add_parser(
        "rebuild", help="recompute point balances and lifetime totals from the ledger; print the drift fixed"
    )
    rebuild.add_argument("--dry-run", action="store_true", help="report the drift without fixing it")
    rebuild.set_defaults(func=_rebuild)


def _rebuild(args: argparse.Namespace) -> int:
    from portal.cli import run_with_db
    from rewards.rebuild import rebuild

    async def work(_settings: Any) -> int:
        drift = await rebuild(dry_run=args.dry_run)
        for name in ("balance", "lifetime"):
            for user_id, (was, should) in sorted(getattr(drift, name).items()):
                print(f"member {user_id}: {name} {was} -> {should}")
        verb = "found" if args.dry_run else "fixed"
        counts = f"{len(drift.balance)} balances, {len(drift.lifetime)} lifetimes"
        print(f"drift {verb}: {drift.total} total(s) ({counts})")
        return 0

    return run_with_db(work)
