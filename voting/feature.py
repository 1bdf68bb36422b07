"""How the `voting` package plugs into the portal."""

from __future__ import annotations

from portal.features import Feature

FEATURE = Feature(name="voting")
