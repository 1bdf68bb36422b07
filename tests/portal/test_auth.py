"""Personal API tokens as bearer credentials on `/api/v1/me`."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from portal import accounts
from portal.models import ApiToken, User
from tests.browser import Client
from tests.factories import make_user


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


async def test_a_valid_token_identifies_its_owner(anon: Client) -> None:
    user = await make_user(role="staff", name="Pat Staff", email="pat@example.com")
    await make_user()  # someone else, so the answer is not "the only user"
    token = await accounts.create_token(actor=None, owner=user)
    response = await anon.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200
    body = response.json()
    # The portal's own fields; feature packages add theirs (rewards: points and tier).
    assert {k: body[k] for k in ("id", "name", "email", "role")} == {
        "id": user.id,
        "name": "Pat Staff",
        "email": "pat@example.com",
        "role": "staff",
    }
    assert "set-cookie" not in response.headers, "a token request starts no session"


async def test_the_bearer_scheme_is_case_insensitive(anon: Client) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    response = await anon.get("/api/v1/me", headers={"Authorization": f"bearer {token}"})
    assert response.json()["id"] == user.id


async def test_a_bearer_token_wins_over_the_session_cookie(client: Client) -> None:
    signed_in = await make_user()
    other = await make_user()
    await client.sign_in_as(signed_in)
    token = await accounts.create_token(actor=None, owner=other)
    response = await client.get("/api/v1/me", headers=bearer(token))
    assert response.json()["id"] == other.id


async def test_no_credentials_is_a_401_problem(anon: Client) -> None:
    body = assert_problem(await anon.get("/api/v1/me"), 401)
    assert body["title"] == "Sign-in required"


async def test_a_revoked_token_is_refused(client: Client, anon: Client) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    assert (await anon.get("/api/v1/me", headers=bearer(token))).status_code == 200
    await client.sign_in_as(user)
    row = await ApiToken.get(user_id=user.id)
    assert (await client.post_form(f"/account/tokens/{row.id}/revoke")).status_code == 303
    body = assert_problem(await anon.get("/api/v1/me", headers=bearer(token)), 401)
    assert body["detail"] == "The API token is invalid or revoked."


async def test_a_token_of_a_banned_user_is_refused(anon: Client) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    await User.filter(id=user.id).update(banned_at=datetime.now(UTC))
    assert_problem(await anon.get("/api/v1/me", headers=bearer(token)), 401)


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer    ",
        "Basic eHl6OmFiYw==",
        "xyz",
        "hk_abcdefghijklmnopqrstuvwxyz",
        "Bearer not-a-token",
        "Bearer hk_wrongwrongwrongwrongwrongwrongwrongwrong",
        "Bearer hk_" + "a" * 200,
        "Token {token}",
        "Bearer {token}x",
        "Bearer {token_without_prefix}",
        "Bearer xx{token_without_prefix}",
    ],
)
async def test_malformed_or_wrong_authorization_is_a_401_problem(anon: Client, header: str) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=None, owner=user)
    value = header.format(token=token, token_without_prefix=token.removeprefix(accounts.TOKEN_PREFIX))
    response = await anon.get("/api/v1/me", headers={"Authorization": value})
    assert_problem(response, 401)
    assert "email" not in response.json()


async def test_a_malformed_header_is_refused_even_with_a_session(client: Client) -> None:
    """A broken Authorization header is an error, not a reason to fall back to the cookie."""
    await client.sign_in_as(await make_user())
    assert_problem(await client.get("/api/v1/me", headers={"Authorization": "Basic eHl6"}), 401)


async def test_token_made_on_the_account_page_is_shown_once_and_works(client: Client, anon: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    assert (await client.post_form("/account/tokens", {"name": "  CRM sync  "})).status_code == 303
    page = await client.get("/account")
    shown = re.search(r'<code class="token">(hk_[^<]+)</code>', page.text)
    assert shown, "the new token is shown after creating it"
    token = shown.group(1)
    assert token not in (await client.get("/account")).text, "and never again"
    row = await ApiToken.get(user_id=user.id)
    assert row.name == "CRM sync"
    assert token not in (row.token_hash, row.prefix)
    assert token.startswith(row.prefix)
    response = await anon.get("/api/v1/me", headers=bearer(token))
    assert response.json()["id"] == user.id


async def test_tokens_are_unique(client: Client) -> None:
    user = await make_user()
    tokens = {await accounts.create_token(actor=None, owner=user) for _ in range(5)}
    assert len(tokens) == 5
    assert await ApiToken.filter(user_id=user.id).count() == 5
