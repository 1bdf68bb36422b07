"""The ideas API in the OpenAPI document."""

from __future__ import annotations

from typing import Any

from portal.openapi import op, ref

ID = [("id", "path", "integer")]

SCHEMAS: dict[str, Any] = {
    "Board": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "visibility": {"type": "string", "enum": ["public", "insiders", "private"]},
            "min_tier": {"type": ["string", "null"]},
        },
    },
    "NewBoard": {
        "type": "object",
        "required": ["slug", "name"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "visibility": {"type": "string", "enum": ["public", "insiders", "private"]},
            "min_tier": {"type": "string"},
            "response_target_hours": {"type": "integer"},
        },
    },
    "Idea": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "board": {"type": "string"},
            "title": {"type": "string"},
            "body_html": {"type": "string"},
            "author": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
            },
            "status": {"type": "string"},
            "vote_count": {"type": "integer"},
            "comment_count": {"type": "integer"},
            "voted": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "url": {"type": "string"},
            "status_history": {"type": "array", "items": ref("StatusChange")},
        },
    },
    "IdeaPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": ref("Idea")},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
    "NewIdea": {
        "type": "object",
        "required": ["board", "title"],
        "properties": {
            "board": {"type": "string", "description": "board slug"},
            "title": {"type": "string", "minLength": 5, "maxLength": 140},
            "body": {"type": "string", "maxLength": 20000},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
        },
    },
    "StatusChange": {
        "type": "object",
        "properties": {
            "from": {"type": ["string", "null"]},
            "to": {"type": "string"},
            "message_html": {"type": "string"},
            "by": {"type": "object"},
            "at": {"type": "string", "format": "date-time"},
        },
    },
    "Comment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "parent": {"type": ["integer", "null"]},
            "author": {"type": "object"},
            "body_html": {"type": "string"},
            "staff": {"type": "boolean"},
            "internal": {"type": "boolean"},
            "created_at": {"type": "string", "format": "date-time"},
        },
    },
    "Stats": {
        "type": "object",
        "properties": {
            "window_days": {"type": "integer"},
            "median_first_response_s": {"type": ["number", "null"]},
            "p90_first_response_s": {"type": ["number", "null"]},
            "answered_within_target_pct": {"type": ["number", "null"]},
            "waiting": {"type": "integer"},
            "shipped": {"type": "integer"},
            "median_decision_s": {"type": ["number", "null"]},
            "decided_within_target_pct": {"type": ["number", "null"]},
            "promises_kept": {"type": "integer"},
            "promises_late": {"type": "integer"},
            "promises_open": {"type": "integer"},
        },
    },
}

LIST_PARAMS = [
    ("board", "query", "string"),
    ("status", "query", "string"),
    ("tag", "query", "string"),
    ("author", "query", "integer"),
    ("sort", "query", "string"),
    ("q", "query", "string"),
    ("cursor", "query", "string"),
    ("limit", "query", "integer"),
]

PATHS: dict[str, Any] = {
    "/boards": {
        "get": op("Boards the caller may see", response={"type": "array", "items": ref("Board")}),
        "post": op("Create a board (admin)", ok=201, body=ref("NewBoard"), response=ref("Board"), auth=True),
    },
    "/ideas": {
        "get": op("List ideas (keyset paging)", params=LIST_PARAMS, response=ref("IdeaPage"), errors=[422]),
        "post": op(
            "Post an idea", ok=201, body=ref("NewIdea"), response=ref("Idea"), auth=True, errors=[429]
        ),
    },
    "/ideas/{id}": {
        "get": op("An idea with its status history", params=ID, response=ref("Idea"), errors=[404])
    },
    "/ideas/{id}/comments": {
        "get": op("Comments on an idea", params=ID, response={"type": "array", "items": ref("Comment")}),
        "post": op(
            "Comment on an idea",
            ok=201,
            params=ID,
            body={
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "string"}, "parent": {"type": "integer"}},
            },
            response=ref("Comment"),
            auth=True,
            errors=[404, 429],
        ),
    },
    "/ideas/{id}/status": {
        "post": op(
            "Change an idea's status with a public message (staff)",
            params=ID,
            body={
                "type": "object",
                "required": ["status"],
                "properties": {
                    "status": {"type": "string"},
                    "message": {"type": "string"},
                    "promise": {"type": "string"},
                },
            },
            response=ref("Idea"),
            auth=True,
            errors=[404],
        )
    },
    "/ideas/{id}/merge": {
        "post": op(
            "Merge a duplicate into another idea (staff)",
            params=ID,
            body={"type": "object", "required": ["into"], "properties": {"into": {"type": "integer"}}},
            response=ref("Idea"),
            auth=True,
            errors=[404, 409],
        )
    },
    "/ideas/{id}/hide": {
        "post": op(
            "Hide an idea (staff)",
            params=ID,
            body={"type": "object", "required": ["reason"], "properties": {"reason": {"type": "string"}}},
            response=ref("Idea"),
            auth=True,
            errors=[404],
        )
    },
    "/ideas/{id}/unhide": {
        "post": op(
            "Show a hidden idea again (staff)",
            params=ID,
            body={"type": "object"},
            response=ref("Idea"),
            auth=True,
        )
    },
    "/stats": {
        "get": op(
            "Responsiveness figures over the ideas the caller may see",
            params=[("board", "query", "string"), ("window", "query", "integer")],
            response=ref("Stats"),
            errors=[422],
        )
    },
}


def describe() -> tuple[dict[str, Any], dict[str, Any]]:
    return PATHS, SCHEMAS
