"""Events the voting package raises, in the transaction of the vote."""

from __future__ import annotations

from dataclasses import dataclass

from portal.events import Event


@dataclass(frozen=True)
class VoteCast(Event):
    name = "vote.cast"
    vote_id: int
    idea_id: int
    voter_id: int
    author_id: int


@dataclass(frozen=True)
class VoteRemoved(Event):
    name = "vote.removed"
    vote_id: int
    idea_id: int
    voter_id: int
    author_id: int
