"""The OpenAPI document covers every API route, and has the shape OpenAPI 3.1 requires."""

from __future__ import annotations

import re

from starlette.applications import Starlette
from starlette.routing import Mount, Route

from tests.browser import Client

METHODS = {"get", "put", "post", "delete", "patch"}


def api_operations(app: Starlette) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount) and route.path == "/api/v1":
            for sub in route.routes:
                assert isinstance(sub, Route)
                path = (
                    re.sub(r"\{(\w+):\w+\}", r"{\1}", sub.path)
                    .replace("{idea_id}", "{id}")
                    .replace("{perk_id}", "{id}")
                    .replace("{notification_id}", "{id}")
                )
                for method in sub.methods or ():
                    if method.lower() in METHODS:
                        found.add((path, method.lower()))
    return found


async def test_every_api_route_is_documented(app: Starlette, anon: Client) -> None:
    answer = await anon.get("/api/v1/openapi.json")
    assert answer.status_code == 200
    doc = answer.json()
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops if method in METHODS}
    routes = api_operations(app)
    assert routes, "no API routes found"
    assert routes - documented == set(), "API routes missing from the OpenAPI document"
    assert documented - routes == set(), "documented operations with no route"


async def test_document_shape(anon: Client) -> None:
    doc = (await anon.get("/api/v1/openapi.json")).json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    schemas = doc["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(doc).replace("'", '"'))
    assert refs
    assert set(refs) <= set(schemas), "a $ref points at a schema that is not defined"
    for path, ops in doc["paths"].items():
        for method, operation in ops.items():
            assert operation["responses"], f"{method} {path} has no responses"
            for param in operation.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path
    assert "/ideas/{id}/vote" in doc["paths"]
    assert {"put", "delete"} <= set(doc["paths"]["/ideas/{id}/vote"])
