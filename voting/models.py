"""Votes: one per member per idea, with an optional priority."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

PRIORITIES = {"nice": "Nice to have", "important": "Important", "must": "Must have"}
# Weighted demand counts a "must have" three times a "nice to have"; a vote without priority as one.
PRIORITY_WEIGHTS = {None: 1, "nice": 1, "important": 2, "must": 3}


class Vote(Model):
    id = fields.BigIntField(primary_key=True)
    idea: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "ideas.Idea", related_name=False, on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    priority = fields.CharField(max_length=10, null=True)
    # A vote staff recorded for a customer (from a support ticket, a call...), and where it came from.
    on_behalf_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    source_note = fields.CharField(max_length=300, default="", db_default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "votes"
        unique_together = (("idea", "user"),)
        indexes = (("user_id", "idea_id"),)


class BoardVoteBudget(Model):
    """Optional: how many votes a member may have on open ideas of a board at once."""

    id = fields.IntField(primary_key=True)
    board: fields.OneToOneRelation = fields.OneToOneField(
        "ideas.Board", related_name=False, on_delete=fields.CASCADE
    )
    votes_per_member = fields.IntField()

    class Meta:
        table = "board_vote_budgets"
