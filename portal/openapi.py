"""The OpenAPI 3.1 document of `/api/v1`, assembled from what each package declares.

Each feature lists its operations in its `openapi.py` (`PATHS`, `SCHEMAS`) and names it in its
`Feature`; a test checks that every API route is documented, so the document cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from portal.features import Feature

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def op(
    summary: str,
    *,
    ok: int = 200,
    response: dict[str, Any] | None = None,
    body: dict[str, Any] | None = None,
    params: Sequence[tuple[str, str, str]] = (),
    errors: Sequence[int] = (),
    auth: bool = False,
) -> dict[str, Any]:
    """One operation: its summary, body, query/path parameters, answer and problem answers."""
    operation: dict[str, Any] = {"summary": summary, "responses": {}}
    if params:
        operation["parameters"] = [
            {"name": name, "in": where, "required": where == "path", "schema": {"type": kind}}
            for name, where, kind in params
        ]
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    answer: dict[str, Any] = {"description": "OK" if ok < 300 else "Created"}
    if response is not None:
        answer["content"] = {"application/json": {"schema": response}}
    operation["responses"][str(ok)] = answer
    for status in sorted({*errors, *((401, 403) if auth else ()), 422 if body is not None else 0} - {0}):
        operation["responses"][str(status)] = {
            "description": {401: "Sign-in required", 403: "Forbidden", 404: "Not found", 409: "Conflict",
                            422: "Invalid input", 429: "Too many requests"}.get(status, "Error"),
            "content": {"application/problem+json": {"schema": PROBLEM}},
        }  # fmt: skip
    if auth:
        operation["security"] = [{"bearer": []}, {"session": []}]
    return operation


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


PORTAL_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["status", "title", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    },
    "Me": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "email": {"type": "string"},
            "role": {"type": "string", "enum": ["member", "staff", "community_manager", "admin"]},
            "points": {"type": "integer"},
            "tier": {"type": "string"},
        },
    },
}
PORTAL_PATHS: dict[str, Any] = {
    "/me": {"get": op("The signed-in person", response=ref("Me"), auth=True)},
    "/openapi.json": {"get": op("This document", response={"type": "object"})},
    "/notifications": {
        "get": op("The caller's notifications, newest first", response={"type": "object"}, auth=True)
    },
    "/notifications/{id}/read": {
        "post": op(
            "Mark one notification read",
            params=[("id", "path", "integer")],
            response={"type": "object"},
            auth=True,
        )
    },
    "/notifications/read-all": {
        "post": op("Mark every notification read", response={"type": "object"}, auth=True)
    },
}


def document(settings: Any, features: Sequence[Feature]) -> dict[str, Any]:
    paths = dict(PORTAL_PATHS)
    schemas = dict(PORTAL_SCHEMAS)
    for feature in features:
        if feature.openapi is not None:
            feature_paths, feature_schemas = feature.openapi()
            for path, operations in feature_paths.items():
                paths.setdefault(path, {}).update(operations)
            schemas.update(feature_schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.site_name} API",
            "version": "1",
            "description": "Errors are application/problem+json documents. Writes need a bearer token, "
            "or the session cookie with an X-CSRF-Token header.",
        },
        "servers": [{"url": settings.base_url + "/api/v1"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (hk_…)."},
                "session": {"type": "apiKey", "in": "cookie", "name": "hearken_session"},
            },
        },
    }


async def openapi_json(request: Request) -> Response:
    app = request.app
    if not hasattr(app.state, "openapi"):
        app.state.openapi = document(app.state.settings, app.state.features)
    return JSONResponse(app.state.openapi)
