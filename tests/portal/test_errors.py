"""Errors become pages under HTML paths and problem documents under /api/, never stack traces."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from portal import accounts
from tests.browser import Client
from tests.factories import make_user
from tests.portal.conftest import AppBuilder

SECRET_DETAIL = "kaboom-internal-detail-4711"


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_html(response: httpx.Response, status: int) -> str:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().lower().startswith("<!doctype html>")
    return response.text


async def test_unknown_page_is_a_404_page(client: Client) -> None:
    text = assert_html(await client.get("/no/such/page"), 404)
    assert "Not Found" in text
    assert "There is nothing at this address." in text
    assert (await client.get("/no/such/page")).headers["x-request-id"]


@pytest.mark.parametrize("path", ["/", "/ideas", "/no/such/page", "/api/v1/me", "/static/css/hearken.css"])
async def test_no_answer_may_be_framed_by_another_site(client: Client, path: str) -> None:
    headers = (await client.get(path)).headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/", "/api/v2/me"])
async def test_unknown_api_path_is_a_404_problem(client: Client, path: str) -> None:
    body = assert_problem(await client.get(path), 404)
    assert body["title"] == "Not Found"
    assert body["detail"] == "There is nothing at this address."


async def test_a_client_asking_for_json_gets_a_problem_outside_the_api_too(client: Client) -> None:
    assert_problem(await client.get("/no/such/page", headers={"Accept": "application/json"}), 404)


async def test_wrong_method_on_the_api_is_a_405_problem(client: Client) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    response = await client.http.delete("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 405)
    assert body["detail"] == "This address does not accept that method."


async def test_wrong_method_on_a_page_is_a_405_page(client: Client) -> None:
    text = assert_html(await client.http.get("/auth/signout"), 405)
    assert "This address does not accept that method." in text


async def test_forbidden_as_a_problem_under_the_api(client: Client) -> None:
    await client.csrf_token()
    body = assert_problem(await client.http.post("/api/v1/me"), 403)
    assert body["title"] == "Forbidden"


async def test_invalid_input_as_a_page_lists_the_fields(client: Client) -> None:
    """A validation error raised outside a form's own handling still names the field."""
    text = assert_html(
        await client.post_form("/auth/signup", {"email": "x", "name": "", "password": ""}), 422
    )
    assert "email" in text


# Unexpected exceptions


async def _boom(request: Request) -> Response:
    raise RuntimeError(SECRET_DETAIL)


@pytest.fixture
async def boom_app(build_app: AppBuilder) -> AsyncIterator[Starlette]:
    routes = [Route("/boom", _boom), Route("/api/v1/boom", _boom)]
    async with build_app(routes=routes) as application:
        yield application


@pytest.fixture
async def raw(boom_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    # Starlette re-raises after answering (so servers can log it); a real server keeps the answer.
    transport = httpx.ASGITransport(app=boom_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def assert_no_internals(text: str) -> None:
    for leak in (SECRET_DETAIL, "Traceback", "RuntimeError", 'File "', "_boom", ".py"):
        assert leak not in text


async def test_an_exception_in_a_page_is_a_500_page_without_internals(
    raw: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="hearken"):
        response = await raw.get("/boom")
    text = assert_html(response, 500)
    assert "Something went wrong on our side." in text
    assert_no_internals(text)
    # The page names an id under which the full error was logged.
    logged = [r for r in caplog.records if r.name == "hearken" and r.exc_info]
    assert len(logged) == 1
    assert SECRET_DETAIL in str(logged[0].exc_info[1])  # type: ignore[index]
    request_id = str(logged[0].args[0])  # type: ignore[index]
    assert request_id and request_id != "-"
    assert f"logged as {request_id}" in text


async def test_an_exception_in_the_api_is_a_500_problem_without_internals(raw: httpx.AsyncClient) -> None:
    body = assert_problem(await raw.get("/api/v1/boom"), 500)
    assert body["title"] == "Internal Server Error"
    assert_no_internals(str(body))


async def test_a_failing_service_is_a_500_problem(
    anon: Client, app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)

    def broken(u: object) -> dict[str, object]:
        raise ValueError(SECRET_DETAIL)

    monkeypatch.setattr("portal.api.user_json", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    body = assert_problem(response, 500)
    assert_no_internals(response.text)
    assert set(body) >= {"type", "title", "status", "detail"}


async def test_a_client_that_hangs_up_mid_request_is_not_a_server_error(  # type: ignore[no-untyped-def]
    app, caplog: pytest.LogCaptureFixture
) -> None:
    from portal import accounts
    from tests.factories import make_idea, make_user

    idea = await make_idea()
    member = await make_user()
    token = await accounts.create_token(actor=None, owner=member, name="t")
    sent: list[dict] = []  # type: ignore[type-arg]

    async def receive() -> dict:  # type: ignore[type-arg]
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "PUT",
        "scheme": "http", "path": f"/api/v1/ideas/{idea.id}/vote", "raw_path": b"", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode()),
                    (b"content-type", b"application/json"), (b"content-length", b"2")],
        "state": {}, "app": app,
    }  # fmt: skip
    with caplog.at_level("INFO", logger="hearken"):
        await app(scope, receive, send)
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert "client disconnected" in caplog.text


async def test_an_invalid_address_names_each_field_once(client: Client) -> None:
    response = await client.get("/ideas?sort=zzz")
    assert response.status_code == 422
    assert response.text.count("Choose one of") == 1
    assert "<li><strong>sort</strong>: Choose one of" in response.text
