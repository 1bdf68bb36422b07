"""A test browser over the ASGI app: keeps cookies, reads the CSRF token from pages, posts forms."""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

import httpx
from starlette.types import ASGIApp

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    def __init__(self, app: ASGIApp, base_url: str = "http://testserver") -> None:
        self.http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=base_url, follow_redirects=False
        )
        self._csrf: str | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.http.aclose()

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        response = await self.http.get(url, **kw)
        found = _TOKEN.search(response.text) if "html" in response.headers.get("content-type", "") else None
        if found:
            self._csrf = found.group(1)
        return response

    async def csrf_token(self) -> str:
        if self._csrf is None:
            await self.get("/auth/signin")
        assert self._csrf is not None
        return self._csrf

    async def post_form(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any
    ) -> httpx.Response:
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", await self.csrf_token())
        return await self.http.post(url, data=data, **kw)

    async def api(self, method: str, url: str, *, csrf: bool = True, **kw: Any) -> httpx.Response:
        """A JSON API call with the session cookie (and its CSRF header, unless `csrf=False`)."""
        headers = dict(kw.pop("headers", {}) or {})
        if csrf and method.upper() not in ("GET", "HEAD"):
            headers.setdefault("X-CSRF-Token", await self.csrf_token())
        return await self.http.request(method, url, headers=headers, **kw)

    async def sign_in(self, email: str, password: str) -> httpx.Response:
        response = await self.post_form("/auth/signin", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        self._csrf = None  # the session (and its token) is new after sign-in
        return response

    async def sign_in_as(self, user: Any) -> httpx.Response:
        from tests.factories import PASSWORD

        return await self.sign_in(user.email, PASSWORD)
