"""The audit log: every staff action, who did it, to what, and why."""

from __future__ import annotations

from typing import Any

from portal.models import AuditEntry, User


async def record(
    actor: User | None, action: str, *, kind: str = "", object_id: int | None = None, **detail: Any
) -> None:
    await AuditEntry.create(actor=actor, action=action, object_kind=kind, object_id=object_id, detail=detail)


async def recent(limit: int = 100, before: int | None = None) -> list[AuditEntry]:
    query = AuditEntry.all().select_related("actor").order_by("-id")
    if before is not None:
        query = query.filter(id__lt=before)
    return await query.limit(limit)
