"""Demo votes, with priorities and a few recorded on behalf of customers."""

from __future__ import annotations

import random

from ideas.models import Board, Idea
from portal.models import User
from voting import service
from voting.listeners import recount
from voting.models import Vote

PRIORITY_CHOICES = (None, "nice", "important", "must")


async def fill() -> None:
    rng = random.Random(11)  # demo data only: reproducible on purpose
    members = await User.filter(role="member").order_by("id")
    staff = await User.get(email="pm@example.com")
    public = await Board.filter(visibility="public").values_list("id", flat=True)
    ideas = await Idea.filter(board_id__in=public).order_by("id").prefetch_related("status")
    closed = []
    for idea in ideas:
        voters = rng.sample(list(members), k=rng.randint(0, len(members)))
        if idea.status.is_closed:
            # Their votes came before the decision, which the rules now refuse: write them directly.
            for m in voters:
                await Vote.create(idea_id=idea.id, user_id=m.id, created_at=idea.created_at)
            closed.append(idea.id)
            continue
        for m in voters:
            await service.cast_vote(actor=m, idea_id=idea.id, priority=rng.choice(PRIORITY_CHOICES))
        if rng.random() < 0.25:
            await service.vote_on_behalf(
                actor=staff,
                idea_id=idea.id,
                email=f"customer{idea.id}@acme.example",
                name=f"ACME buyer {idea.id}",
                priority="must",
                note=f"Support ticket #{4000 + idea.id}",
            )
    await recount(closed)
