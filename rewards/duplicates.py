"""Duplicate reports: a member says that one idea repeats another; staff merging the two pays them.

The report is only written here. `rewards.outcomes.pay_duplicate_reporters` pays the first reporter
of a pair when staff merge it (the `idea.merged` event), whichever way they merge.
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ideas.service import visible_idea
from portal import permissions
from portal.errors import Conflict, Errors, NotFound
from portal.models import User
from rewards.models import DuplicateReport

FIELDS = ("idea_id", "duplicate_of_id")


async def report_duplicate(*, actor: User | None, idea_id: Any, duplicate_of_id: Any) -> DuplicateReport:
    """Reports that idea `idea_id` duplicates `duplicate_of_id`; once per member and pair."""
    permissions.require(actor, "duplicate.report")
    assert actor is not None
    errors = Errors()
    ids: dict[str, int] = {}
    for field, raw in zip(FIELDS, (idea_id, duplicate_of_id), strict=True):
        try:
            ids[field] = int(str(raw).strip().lstrip("#"))
        except ValueError:
            errors.add(field, "Give the number of an idea, e.g. 42.")
    if len(ids) == 2 and ids["idea_id"] == ids["duplicate_of_id"]:
        errors.add("duplicate_of_id", "An idea cannot duplicate itself: give the number of another one.")
    errors.raise_if_any()
    for field, number in ids.items():
        try:
            idea = await visible_idea(actor, number)
        except NotFound:
            errors.add(field, f"There is no idea #{number}.")
        else:
            if idea.merged_into_id is not None:
                errors.add(field, f"Idea #{number} is merged already, into #{idea.merged_into_id}.")
    errors.raise_if_any()
    source, target = ids["idea_id"], ids["duplicate_of_id"]
    if await DuplicateReport.exists(reporter_id=actor.id, idea_id=target, duplicate_of_id=source):
        raise Conflict("You have reported these two ideas already.")
    try:
        async with in_transaction():
            return await DuplicateReport.create(reporter_id=actor.id, idea_id=source, duplicate_of_id=target)
    except IntegrityError:
        raise Conflict("You have reported these two ideas already.") from None
