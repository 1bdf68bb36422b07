"""The voting API in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from portal.openapi import op, ref

ID = [("id", "path", "integer")]
PRIORITY = {"type": ["string", "null"], "enum": ["nice", "important", "must", None]}

SCHEMAS: dict[str, Any] = {
    "VoteState": {
        "type": "object",
        "properties": {"voted": {"type": "boolean"}, "vote_count": {"type": "integer"}, "priority": PRIORITY},
    },
    "Voter": {
        "type": "object",
        "properties": {
            "user": {"type": "object"},
            "priority": PRIORITY,
            "on_behalf_by": {"type": ["string", "null"]},
            "source_note": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/ideas/{id}/vote": {
        "put": op(
            "Vote for an idea (idempotent)",
            params=ID,
            body={"type": "object", "properties": {"priority": PRIORITY}},
            response=ref("VoteState"),
            auth=True,
            errors=[404, 409, 429],
        ),
        "delete": op(
            "Remove your vote (idempotent)",
            params=ID,
            response=ref("VoteState"),
            auth=True,
            errors=[404, 429],
        ),
    },
    "/ideas/{id}/votes/on-behalf": {
        "post": op(
            "Record a customer's vote (staff)",
            ok=201,
            params=ID,
            body={
                "type": "object",
                "required": ["email", "note"],
                "properties": {
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                    "priority": PRIORITY,
                    "note": {"type": "string"},
                },
            },
            response=ref("VoteState"),
            auth=True,
            errors=[404, 409],
        )
    },
    "/ideas/{id}/voters": {
        "get": op(
            "Voters of an idea (staff)",
            params=ID,
            response={"type": "array", "items": ref("Voter")},
            auth=True,
        )
    },
}


def describe() -> tuple[dict[str, Any], dict[str, Any]]:
    return PATHS, SCHEMAS
