"""CSRF: a write that a cookie authenticates needs the session's token and must not come from another site.

Every refused request must also write nothing, so each test counts rows after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from portal import accounts, permissions
from portal.auth import current_user
from portal.models import ApiToken, User
from tests.browser import Client
from tests.factories import make_user
from tests.portal.conftest import AppBuilder

SIGNUP = {"email": "new@example.com", "name": "New Person", "password": "long enough password"}


async def signed_in(client: Client) -> User:
    user = await make_user()
    await client.sign_in_as(user)
    return user


# Forms: sign-up as the anonymous write, token creation as the signed-in one.


async def test_signup_without_a_token_is_refused(client: Client) -> None:
    response = await client.post_form("/auth/signup", SIGNUP, csrf=False)
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert "did not come from this site" in response.text
    assert await User.all().count() == 0


async def test_signup_without_a_token_but_with_a_session_is_refused(client: Client) -> None:
    await client.csrf_token()  # the session has a token; the request does not carry it
    response = await client.post_form("/auth/signup", SIGNUP, csrf=False)
    assert response.status_code == 403
    assert await User.all().count() == 0


@pytest.mark.parametrize("token", ["wrong", "", " "])
async def test_signup_with_a_wrong_token_is_refused(client: Client, token: str) -> None:
    await client.csrf_token()
    response = await client.post_form("/auth/signup", {**SIGNUP, "csrf_token": token})
    assert response.status_code == 403
    assert await User.all().count() == 0


async def test_a_token_from_another_session_is_refused(client: Client, anon: Client) -> None:
    await client.csrf_token()
    response = await client.post_form("/auth/signup", {**SIGNUP, "csrf_token": await anon.csrf_token()})
    assert response.status_code == 403
    assert await User.all().count() == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Origin": "https://testserver"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_cross_site_signup_is_refused_even_with_the_token(
    client: Client, headers: dict[str, str]
) -> None:
    response = await client.post_form("/auth/signup", SIGNUP, headers=headers)
    assert response.status_code == 403
    assert "Cross-site requests may not change anything here." in response.text
    assert await User.all().count() == 0


@pytest.mark.usefixtures("cheap_hashing")
async def test_signup_with_the_form_token_works(client: Client) -> None:
    response = await client.post_form(
        "/auth/signup", SIGNUP, headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    )
    assert response.status_code == 303
    assert await User.filter(email="new@example.com").count() == 1


@pytest.mark.usefixtures("cheap_hashing")
async def test_signup_as_multipart_with_the_form_token_works(client: Client) -> None:
    fields = {**SIGNUP, "csrf_token": await client.csrf_token()}
    response = await client.http.post(
        "/auth/signup", files={name: (None, value) for name, value in fields.items()}
    )
    assert response.status_code == 303
    assert await User.filter(email="new@example.com").count() == 1


async def test_signin_without_a_token_is_refused(client: Client) -> None:
    user = await make_user()
    response = await client.post_form(
        "/auth/signin", {"email": user.email, "password": "correct horse battery"}, csrf=False
    )
    assert response.status_code == 403
    assert (await client.get("/api/v1/me")).status_code == 401


async def test_token_creation_without_a_token_is_refused(client: Client) -> None:
    await signed_in(client)
    response = await client.post_form("/account/tokens", {"name": "ci"}, csrf=False)
    assert response.status_code == 403
    assert await ApiToken.all().count() == 0


async def test_token_creation_from_another_site_is_refused(client: Client) -> None:
    await signed_in(client)
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
        response = await client.post_form("/account/tokens", {"name": "ci"}, headers=headers)
        assert response.status_code == 403
    assert await ApiToken.all().count() == 0


async def test_token_creation_with_the_form_token_works(client: Client) -> None:
    user = await signed_in(client)
    response = await client.post_form("/account/tokens", {"name": "ci"})
    assert response.status_code == 303
    assert await ApiToken.filter(user_id=user.id, name="ci").count() == 1


async def test_token_creation_with_the_header_works(client: Client) -> None:
    user = await signed_in(client)
    response = await client.http.post(
        "/account/tokens", data={"name": "htmx"}, headers={"X-CSRF-Token": await client.csrf_token()}
    )
    assert response.status_code == 303
    assert await ApiToken.filter(user_id=user.id, name="htmx").count() == 1


async def test_a_wrong_header_is_not_rescued_by_a_right_form_field(client: Client) -> None:
    await signed_in(client)
    response = await client.post_form("/account/tokens", {"name": "x"}, headers={"X-CSRF-Token": "wrong"})
    assert response.status_code == 403
    assert await ApiToken.all().count() == 0


async def test_the_token_of_the_session_before_sign_in_is_worthless_after(client: Client) -> None:
    old_token = await client.csrf_token()
    await signed_in(client)
    response = await client.post_form("/account/tokens", {"name": "x", "csrf_token": old_token})
    assert response.status_code == 403
    assert await ApiToken.all().count() == 0


async def test_revoke_without_a_token_is_refused(client: Client) -> None:
    user = await signed_in(client)
    await accounts.create_token(actor=user, owner=user)
    token = await ApiToken.get(user_id=user.id)
    response = await client.post_form(f"/account/tokens/{token.id}/revoke", csrf=False)
    assert response.status_code == 403
    assert (await ApiToken.get(id=token.id)).revoked_at is None
    response = await client.post_form(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 303
    assert (await ApiToken.get(id=token.id)).revoked_at is not None


async def test_signout_without_a_token_is_refused(client: Client) -> None:
    await signed_in(client)
    response = await client.post_form("/auth/signout", csrf=False)
    assert response.status_code == 403
    assert (await client.get("/api/v1/me")).status_code == 200


async def test_reading_needs_no_token(client: Client) -> None:
    await signed_in(client)
    response = await client.http.get("/api/v1/me", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


# The JSON API: a write route added for the test, since the portal has none of its own yet.


async def _write_probe(request: Request) -> Response:
    user = current_user(request)
    permissions.require(user, "token.manage", user)
    assert user is not None
    await accounts.create_token(actor=user, owner=user, name="probe")
    return JSONResponse({"created": True}, status_code=201)


@pytest.fixture
async def api_app(build_app: AppBuilder) -> AsyncIterator[Starlette]:
    async with build_app(routes=[Route("/api/v1/_probe", _write_probe, methods=["POST"])]) as application:
        yield application


async def test_api_write_with_the_session_cookie_needs_the_header(api_app: Starlette) -> None:
    async with Client(api_app) as browser:
        await signed_in(browser)
        response = await browser.api("POST", "/api/v1/_probe", csrf=False, json={})
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 403
        assert await ApiToken.all().count() == 0

        response = await browser.api("POST", "/api/v1/_probe", json={})
        assert response.status_code == 201
        assert await ApiToken.filter(name="probe").count() == 1


async def test_api_write_with_a_bearer_token_needs_no_csrf_token(api_app: Starlette) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    async with Client(api_app) as tool:
        response = await tool.http.post(
            "/api/v1/_probe", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201
    assert await ApiToken.filter(user_id=user.id, name="probe").count() == 1


async def test_api_write_without_any_credentials_is_refused(api_app: Starlette) -> None:
    async with Client(api_app) as stranger:
        response = await stranger.api("POST", "/api/v1/_probe", json={})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    assert await ApiToken.all().count() == 0


async def test_an_api_write_without_any_cookie_or_token_is_a_401_not_a_csrf_refusal(anon: Client) -> None:
    # A fresh client that never received a cookie: nothing ambient to forge, so authentication answers.
    answer = await anon.http.post("/api/v1/ideas", json={"board": "x", "title": "Hello there"})
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_an_api_write_with_a_session_cookie_but_no_token_is_still_refused(client: Client) -> None:
    await client.get("/auth/signin")  # receives the session cookie
    answer = await client.http.post("/api/v1/ideas", json={"board": "x", "title": "Hello there"})
    assert answer.status_code == 403


async def test_an_anonymous_reader_gets_no_session_cookie_until_a_form_needs_one(client: Client) -> None:
    """Pages with nothing to submit leave the session empty: no cookie is signed or set."""
    for path in ("/", "/ideas", "/roadmap"):
        response = await client.http.get(path)
        assert response.status_code == 200
        assert "set-cookie" not in response.headers, path
        assert "X-CSRF-Token" not in response.text, path
    form = await client.http.get("/auth/signin")
    assert "hearken_session=" in form.headers["set-cookie"]
    token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert len(token) > 30
    answer = await client.http.post("/auth/signup", data=SIGNUP | {"csrf_token": token})
    assert answer.status_code == 303
    assert await User.filter(email=SIGNUP["email"]).exists()


async def test_a_signed_in_page_carries_the_token_for_htmx(client: Client) -> None:
    await signed_in(client)
    page = await client.http.get("/ideas")
    assert f'hx-headers=\'{{"X-CSRF-Token": "{await client.csrf_token()}"}}\'' in page.text
