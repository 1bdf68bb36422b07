"""CSRF protection for every state-changing request that a cookie authenticates.

Two checks, both required: the browser's Fetch-Metadata/Origin headers must not say the request
came from another site, and a synchronizer token kept in the session must come back, either as the
`X-CSRF-Token` header (htmx and API clients) or as the `csrf_token` form field (plain forms, so that
pages work without JavaScript). API requests that carry a bearer token are not cookie-authenticated
and need neither. Nor do paths under `exempt_prefixes`, which must authorise by something in the request
itself that another site cannot know (the signed token of an RFC 8058 one-click unsubscribe link).
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.errors import Forbidden

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"
_SESSION_KEY = "csrf"
_MAX_BODY = 12 * 1024 * 1024


def token_for(request: Request) -> str:
    """The session's token, made on first use."""
    token = request.session.get(_SESSION_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[_SESSION_KEY] = token
    return token


class CSRFMiddleware:
    def __init__(
        self, app: ASGIApp, *, trusted_origins: tuple[str, ...] = (), exempt_prefixes: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.trusted_origins = {o.rstrip("/") for o in trusted_origins}
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in SAFE_METHODS
            or (self.exempt_prefixes and scope["path"].startswith(self.exempt_prefixes))
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["path"].startswith("/api/") and "cookie" not in headers:
            # No cookie, no ambient credentials to forge: the API answers 401 for anonymity itself.
            await self.app(scope, receive, send)
            return
        bearer = headers.get("authorization", "").lower().startswith("bearer ")
        if bearer and scope["path"].startswith("/api/"):  # only the API takes tokens (`auth`)
            await self.app(scope, receive, send)
            return
        self._check_origin(scope, headers)
        expected = scope.get("session", {}).get(_SESSION_KEY)
        supplied = headers.get(HEADER)
        if supplied is None:
            body = await _read_body(receive)
            supplied = _form_token(headers.get("content-type", ""), body)
            receive = _replay(body)
        if not expected or not supplied or not hmac.compare_digest(expected, supplied):
            raise Forbidden(
                "The form has expired or did not come from this site. Reload the page and try again."
            )
        await self.app(scope, receive, send)

    def _check_origin(self, scope: Scope, headers: Headers) -> None:
        if headers.get("sec-fetch-site") == "cross-site":
            raise Forbidden("Cross-site requests may not change anything here.")
        origin = headers.get("origin")
        if origin is None or (origin == "null" and "sec-fetch-site" not in headers):
            return
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        if origin.rstrip("/") not in self.trusted_origins | {own}:
            raise Forbidden("Cross-site requests may not change anything here.")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            break
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _form_token(content_type: str, body: bytes) -> str | None:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        values = parse_qs(body.decode("latin-1"), max_num_fields=2000).get(FIELD)
        return values[0] if values else None
    if kind == "multipart/form-data":
        return _multipart_field(content_type, body, FIELD)
    return None


def _multipart_field(content_type: str, body: bytes, name: str) -> str | None:
    boundary = None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        return None
    marker = f'name="{name}"'.encode()
    for section in body.split(b"--" + boundary.encode()):
        head, sep, content = section.partition(b"\r\n\r\n")
        if sep and marker in head and b"filename=" not in head:
            return content.rstrip(b"\r\n").decode("utf-8", "replace")
    return None


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
