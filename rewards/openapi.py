"""The rewards API in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from portal.openapi import op, ref

ID = [("id", "path", "integer")]

SCHEMAS: dict[str, Any] = {
    "Perk": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["deal", "early_access"]},
            "title": {"type": "string"},
            "description_html": {"type": "string"},
            "min_tier": {"type": ["string", "null"]},
            "cost": {"type": "integer"},
            "remaining": {"type": ["integer", "null"]},
            "ends_at": {"type": ["string", "null"], "format": "date-time"},
            "claimed": {"type": "boolean"},
        },
    },
    "NewPerk": {
        "type": "object",
        "required": ["kind", "title"],
        "properties": {
            "kind": {"type": "string", "enum": ["deal", "early_access"]},
            "title": {"type": "string"},
            "description": {"type": "string"},
            "min_tier": {"type": "string"},
            "cost": {"type": "integer"},
            "quantity": {"type": "integer"},
            "per_member_limit": {"type": "integer"},
            "codes": {"type": "array", "items": {"type": "string"}},
            "shared_code": {"type": "string"},
            "capacity": {"type": "integer"},
        },
    },
    "ClaimResult": {
        "type": "object",
        "properties": {
            "claim": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "status": {"type": "string", "enum": ["claimed", "admitted", "waitlisted", "pending"]},
                    "position": {"type": "integer"},
                },
            },
            "code": {"type": "string"},
        },
    },
}

PATHS: dict[str, Any] = {
    "/perks": {
        "get": op("Perks open to the caller", response={"type": "array", "items": ref("Perk")}, auth=True),
        "post": op(
            "Create a perk (community manager)", ok=201, body=ref("NewPerk"), response=ref("Perk"), auth=True
        ),
    },
    "/perks/{id}/codes": {
        "post": op(
            "Add unique codes to a deal (community manager)",
            ok=201,
            params=ID,
            body={
                "type": "object",
                "required": ["codes"],
                "properties": {"codes": {"type": "array", "items": {"type": "string"}}},
            },
            response={"type": "object", "properties": {"added": {"type": "integer"}}},
            auth=True,
            errors=[404],
        )
    },
    "/perks/{id}/claim": {
        "post": op(
            "Claim a perk or join a program",
            ok=201,
            params=ID,
            response=ref("ClaimResult"),
            auth=True,
            errors=[404, 409],
        ),
        "delete": op(
            "Leave a program (admits the first waiting)",
            params=ID,
            response={"type": "object"},
            auth=True,
            errors=[404],
        ),
    },
}


def describe() -> tuple[dict[str, Any], dict[str, Any]]:
    return PATHS, SCHEMAS
