"""Serves uploaded files from the storage, under headers that keep a browser from running them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from portal.errors import NotFound
from portal.storage import Storage, check_key, content_type_of

# Keys are never reused, so a file under a key never changes: browsers and proxies may keep it.
# (X-Content-Type-Options comes with every answer: `error_pages.ErrorMiddleware`.)
HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'",
}


async def serve(request: Request) -> Response:
    storage: Storage = request.app.state.storage
    key = request.path_params["key"]
    try:
        data = await storage.open(check_key(key))
    except KeyError:
        raise NotFound("There is no file at this address.") from None
    return Response(data, media_type=content_type_of(key), headers=HEADERS)


def routes() -> list[BaseRoute]:
    return [Route("/media/{key:str}", serve, methods=["GET"])]
