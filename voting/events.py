"""Events the voting package raises, in the transaction of the vote."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.events import Event


@dataclass(frozen=True)
class VoteCast(Event):
    name = "vote.cast"
    vote_id: int
    idea_id: int
    voter_id: int
    author_id: int
    # Whether the voter's address is confirmed, as the service knew it (None: not said, so a
    # listener that cares reads it). Not part of the event's identity.
    voter_verified: bool | None = field(default=None, compare=False)


@dataclass(frozen=True)
class VoteRemoved(Event):
    name = "vote.removed"
    vote_id: int
    idea_id: int
    voter_id: int
    author_id: int
