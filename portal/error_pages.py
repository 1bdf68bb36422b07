"""One table that turns errors into answers: problem documents under /api/, pages elsewhere."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.errors import HearkenError, Invalid, RateLimited, Unauthorized

log = logging.getLogger("hearken")


def wants_json(request: HTTPConnection) -> bool:
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return "json" in accept and "html" not in accept


def problem(
    status: int, detail: str, *, title: str | None = None, errors: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def error_response(request: Request, status: int, detail: str, **extra: Any) -> Response:
    headers: dict[str, str] = extra.pop("headers", {}) or {}
    errors: dict[str, str] | None = extra.pop("errors", None)
    title = extra.pop("title", None) or HTTPStatus(status).phrase
    if wants_json(request):
        response: Response = problem(status, detail, title=title, errors=errors)
    else:
        from portal.templating import render  # late: templating needs the app state

        response = render(
            request,
            "error.html",
            {"status": status, "title": title, "detail": detail, "errors": errors or {}},
            status_code=status,
        )
    response.headers.update(headers)
    return response


async def hearken_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HearkenError)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, Unauthorized) and not wants_json(request) and request.method == "GET":
        from starlette.responses import RedirectResponse

        return RedirectResponse(f"/auth/signin?next={request.url.path}", status_code=303)
    errors = exc.errors if isinstance(exc, Invalid) else None
    return error_response(request, exc.status, exc.detail, title=exc.title, errors=errors, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = (
        exc.detail
        if exc.detail != HTTPStatus(exc.status_code).phrase
        else _DETAILS.get(exc.status_code, exc.detail)
    )
    return error_response(request, exc.status_code, detail, headers=dict(exc.headers or {}))


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client closed the connection while its request was being read: nobody is there to
    answer, and nothing went wrong on our side (no error in the log, no transaction begun)."""
    log.info("client disconnected, request %s", request.scope.get("request_id", "-"))
    return Response(status_code=400)


async def server_error(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("request_id", "-")
    log.exception("unhandled error, request %s", request_id, exc_info=exc)
    return error_response(
        request,
        500,
        f"Something went wrong on our side. The error was logged as {request_id}.",
    )


_DETAILS = {
    404: "There is nothing at this address.",
    405: "This address does not accept that method.",
}


# On every answer: no page of the portal may be framed by another site (clickjacking a vote or a
# claim), no answer sniffed into another type, and no full address sent to other sites as Referer.
_PROTECTIVE_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


class ErrorMiddleware:
    """Outermost of ours: gives each request an id, and answers errors raised by middleware."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:12]
        scope["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = message.setdefault("headers", [])
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(_PROTECTIVE_HEADERS)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except HearkenError as exc:
            if started:
                raise
            response = await hearken_error(Request(scope, receive), exc)
            await response(scope, receive, send_with_id)
