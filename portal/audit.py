"""The audit log: every staff action, who did it, to what, and why."""

from __future__ import annotations

import operator
from functools import reduce
from typing import Any

from tortoise.expressions import Q

from portal.models import AuditEntry, User
from portal.permissions import is_active, is_staff


async def record(
    actor: User | None, action: str, *, kind: str = "", object_id: int | None = None, **detail: Any
) -> None:
    await AuditEntry.create(actor=actor, action=action, object_kind=kind, object_id=object_id, detail=detail)


# What each role other than staff may read of the log, by action prefix. Community managers run the
# rewards programme, not the boards: the rest of the log names private boards, why content was
# hidden and customers' addresses. Feature packages register their own actions.
_readable: dict[str, set[str]] = {}


def readable_by(role: str, *prefixes: str) -> None:
    """Lets `role` read the entries whose action starts with one of `prefixes` (e.g. "perk.")."""
    _readable.setdefault(role, set()).update(prefixes)


async def recent(reader: User | None, limit: int = 100, before: int | None = None) -> list[AuditEntry]:
    """The latest entries `reader` may read, newest first (all of them for staff)."""
    query = AuditEntry.all().select_related("actor").order_by("-id")
    if not is_staff(reader):
        prefixes = sorted(_readable.get(reader.role, ())) if is_active(reader) else []  # type: ignore[union-attr]
        if not prefixes:
            return []
        query = query.filter(reduce(operator.or_, (Q(action__startswith=p) for p in prefixes)))
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.limit(limit)
