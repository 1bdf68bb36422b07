"""Demo content, so a newcomer's first look at the portal shows a living community."""

from __future__ import annotations

from collections.abc import Sequence

from portal import accounts
from portal.features import Feature
from portal.models import User

DEMO_PASSWORD = "hearken-demo"  # documented demo credential, local use only
DEMO_USERS = (
    ("admin@example.com", "Ada Admin", "admin"),
    ("pm@example.com", "Priya Product", "staff"),
    ("community@example.com", "Cam Community", "community_manager"),
    ("member@example.com", "Mo Member", "member"),
    ("lena@example.com", "Lena Lindqvist", "member"),
    ("tomas@example.com", "Tomás Ortega", "member"),
    ("aiko@example.com", "Aiko Tanaka", "member"),
    ("sam@example.com", "Sam Okafor", "member"),
)


async def fill(features: Sequence[Feature]) -> bool:
    """Fills an empty database; returns False (and writes nothing) when it holds users already."""
    if await User.exists():
        return False
    for email, name, role in DEMO_USERS:
        await accounts.create_user(actor=None, email=email, name=name, role=role, password=DEMO_PASSWORD)
    for feature in features:
        if feature.demo is not None:
            await feature.demo()
    return True
