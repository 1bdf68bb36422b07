"""Demo insider program: points from the demo activity, a few grants, deals and a beta program."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ideas.models import Board
from portal.models import User
from rewards import ledger, perks


async def fill() -> None:
    manager = await User.get(email="community@example.com")
    members = await User.filter(role="member", email_verified_at__not_isnull=True).order_by("id")
    # Thank the founding members, so the demo shows every tier.
    for member, points in zip(members, (1200, 320, 140, 60, 20), strict=False):
        await ledger.grant(
            actor=manager, user_id=member.id, points=points, reason="Founding member of the community"
        )
    lab = await Board.get_or_none(slug="insiders-lab")
    now = datetime.now(UTC)
    await perks.create_perk(
        actor=manager,
        data={
            "kind": "deal",
            "title": "40% off the annual plan",
            "description": "A thank-you for our insiders: 40% off your next annual renewal.",
            "min_tier": "insider",
            "codes": [f"INSIDER-{n:04d}" for n in range(1, 26)],
            "ends_at": (now + timedelta(days=60)).isoformat(),
        },
    )
    await perks.create_perk(
        actor=manager,
        data={
            "kind": "deal",
            "title": "Free conference ticket",
            "description": "Join us at our user conference. Costs 100 points.",
            "min_tier": "contributor",
            "cost": 100,
            "shared_code": "HEARKEN-CONF-2027",
            "quantity": 10,
        },
    )
    await perks.create_perk(
        actor=manager,
        data={
            "kind": "early_access",
            "title": "Beta: the new navigation",
            "description": "Try the redesigned navigation before anyone else and tell us what you think.",
            "min_tier": "contributor",
            "capacity": 3,
            "board_id": lab.id if lab else None,
            "private_notes": "Thanks for joining! Switch the beta on under Settings → Labs.",
        },
    )
