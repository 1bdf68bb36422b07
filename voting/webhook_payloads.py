"""What webhooks receive about votes: the idea with its new count. Who voted is not sent: voters
are shown to staff only, so a payload never names them."""

from __future__ import annotations

from typing import Any

from ideas.webhook_payloads import idea_payload
from portal import webhooks
from voting.events import VoteCast
from voting.models import Vote


async def on_vote_cast(event: VoteCast) -> tuple[dict[str, Any], bool] | None:
    built = await idea_payload(event.idea_id)
    if built is None:
        return None
    at = await Vote.filter(id=event.vote_id).values_list("created_at", flat=True)
    vote = {"id": event.vote_id, "created_at": at[0].isoformat() if at else None}
    return {"idea": built[0], "vote": vote}, built[1]


def install() -> None:
    webhooks.register_payload(VoteCast.name, on_vote_cast)
