"""Sign-in with OpenID Connect (portal/oidc.py): the whole authorization-code flow, with Authlib's real
Starlette client in the portal and a real provider on 127.0.0.1 (tests/portal/oidc_provider.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from starlette.applications import Starlette

from portal.models import Identity, User
from portal.settings import OIDCProvider, Settings, SettingsError
from tests.browser import Client
from tests.factories import PASSWORD, make_user
from tests.portal.conftest import AppBuilder
from tests.portal.oidc_provider import CLIENT_ID, CLIENT_SECRET, Person, Provider


def acme(provider: Provider, **changes: object) -> OIDCProvider:
    values: dict[str, object] = {
        "name": "acme",
        "issuer": provider.issuer,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "label": "Acme ID",
        **changes,
    }
    return OIDCProvider(**values)  # type: ignore[arg-type]


@pytest.fixture
async def portal(build_app: AppBuilder, provider: Provider) -> AsyncIterator[Starlette]:
    async with build_app(oidc_providers=(acme(provider),)) as app:
        yield app


async def start(browser: Client, next_url: str = "/") -> str:
    """Starts sign-in at the portal and lets the provider approve; returns the callback URL."""
    response = await browser.get("/auth/oidc/acme", params={"next": next_url})
    assert response.status_code == 302, response.text
    authorize = response.headers["location"]
    assert authorize.startswith("http://127.0.0.1:")
    query = parse_qs(urlsplit(authorize).query)
    assert query["redirect_uri"] == ["http://testserver/auth/oidc/acme/callback"]
    assert query["nonce"] and query["state"] and query["code_challenge_method"] == ["S256"]
    async with httpx.AsyncClient() as user_agent:  # the browser visiting the provider, for real
        approved = await user_agent.get(authorize)
    assert approved.status_code == 302
    return approved.headers["location"]


async def callback(browser: Client, url: str) -> httpx.Response:
    parts = urlsplit(url)
    assert parts.netloc == "testserver"
    return await browser.get(f"{parts.path}?{parts.query}")


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


async def me(browser: Client) -> httpx.Response:
    return await browser.get("/api/v1/me")


async def test_first_sign_in_creates_a_verified_account_and_later_ones_find_it(
    portal: Starlette, provider: Provider
) -> None:
    provider.behaviour.person = Person("sub-42", "Pat@Example.com", name="Pat Provider")
    async with Client(portal) as browser:
        page = await browser.get("/auth/signin")
        assert 'href="/auth/oidc/acme?next=/"' in page.text
        assert "Sign in with Acme ID" in page.text
        response = await callback(browser, await start(browser, "/account"))
        assert response.status_code == 303, response.text
        assert response.headers["location"] == "/account"
        body = (await me(browser)).json()
    user = await User.get(email="pat@example.com")
    assert body["id"] == user.id and body["name"] == "Pat Provider"
    assert user.email_verified_at is not None
    assert user.password_hash is None
    identity = await Identity.get(provider="acme", subject="sub-42")
    assert identity.user_id == user.id
    assert provider.token_requests == 1
    # Next time the provider's subject decides, even when the address there changed.
    provider.behaviour.person = Person("sub-42", "pat.new@example.com")
    async with Client(portal) as browser:
        assert (await callback(browser, await start(browser))).status_code == 303
        assert (await me(browser)).json()["id"] == user.id
    assert await User.all().count() == 1


async def test_claims_in_the_id_token_are_enough(portal: Starlette, provider: Provider) -> None:
    provider.behaviour.email_in_id_token = True
    async with Client(portal) as browser:
        assert (await callback(browser, await start(browser))).status_code == 303
        assert (await me(browser)).json()["email"] == "pat@example.com"


async def assert_refused(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert "text/html" in response.headers["content-type"]
    for word in words:
        assert word in response.text
    assert await User.all().count() == 0
    assert await Identity.all().count() == 0


async def test_a_wrong_state_is_refused(portal: Starlette, provider: Provider) -> None:
    async with Client(portal) as browser:
        url = await start(browser)
        response = await callback(browser, with_query(url, state="forged-state"))
        await assert_refused(response, 400, "Sign-in did not work", "state differs")
        assert (await me(browser)).status_code == 401
    assert provider.token_requests == 0, "the code is not even exchanged"


async def test_a_callback_from_another_browser_is_refused(portal: Starlette, provider: Provider) -> None:
    """Login CSRF: an attacker's callback URL, opened in the victim's browser, has no state there."""
    async with Client(portal) as attacker, Client(portal) as victim:
        url = await start(attacker)
        await assert_refused(await callback(victim, url), 400, "state differs")


async def test_a_replayed_code_is_refused(portal: Starlette, provider: Provider) -> None:
    async with Client(portal) as browser:
        first = await start(browser)
        assert (await callback(browser, first)).status_code == 303
        await browser.post_form("/auth/signout")
        # The same answer again: its state was used up with the first sign-in.
        replay = await callback(browser, first)
        assert replay.status_code == 400 and "state differs" in replay.text
        # An old code smuggled into a fresh sign-in's answer: the provider refuses it.
        fresh = await start(browser)
        old_code = parse_qs(urlsplit(first).query)["code"][0]
        response = await callback(browser, with_query(fresh, code=old_code))
        assert response.status_code == 400
        assert "refused the sign-in code" in response.text
        assert (await me(browser)).status_code == 401


async def test_a_wrong_nonce_is_refused(portal: Starlette, provider: Provider) -> None:
    provider.behaviour.id_token_nonce = "a-nonce-from-another-sign-in"
    async with Client(portal) as browser:
        response = await callback(browser, await start(browser))
        await assert_refused(response, 400, "nonce differs")
        assert (await me(browser)).status_code == 401


async def test_an_id_token_from_another_issuer_is_refused(portal: Starlette, provider: Provider) -> None:
    provider.behaviour.id_token_issuer = "http://127.0.0.1:1/evil"
    async with Client(portal) as browser:
        await assert_refused(await callback(browser, await start(browser)), 400, "issuer differs")


async def test_a_provider_describing_another_issuer_is_refused(
    build_app: AppBuilder, provider: Provider
) -> None:
    provider.behaviour.discovery_issuer = "https://accounts.example.com"
    async with build_app(oidc_providers=(acme(provider),)) as app, Client(app) as browser:
        response = await browser.get("/auth/oidc/acme")
        await assert_refused(response, 400, "another issuer")


async def test_an_id_token_signed_with_another_key_is_refused(portal: Starlette, provider: Provider) -> None:
    provider.behaviour.sign_with_other_key = True
    async with Client(portal) as browser:
        await assert_refused(await callback(browser, await start(browser)), 400, "could not be verified")


async def test_an_unverified_email_makes_no_account(portal: Starlette, provider: Provider) -> None:
    provider.behaviour.person = Person("sub-7", "maybe@example.com", email_verified=False)
    async with Client(portal) as browser:
        response = await callback(browser, await start(browser))
        await assert_refused(response, 403, "Sign-in refused", "has not confirmed")
        assert (await me(browser)).status_code == 401


async def test_an_unverified_email_never_takes_over_an_account(portal: Starlette, provider: Provider) -> None:
    owner = await make_user(email="victim@example.com")
    provider.behaviour.person = Person("sub-8", "victim@example.com", email_verified=False)
    async with Client(portal) as browser:
        response = await callback(browser, await start(browser))
        assert response.status_code == 403
        assert (await me(browser)).status_code == 401
    assert not await Identity.exists(user_id=owner.id)


async def test_a_verified_email_links_the_verified_account_with_it(
    portal: Starlette, provider: Provider
) -> None:
    owner = await make_user(email="pat@example.com")
    async with Client(portal) as browser:
        assert (await callback(browser, await start(browser))).status_code == 303
        assert (await me(browser)).json()["id"] == owner.id
    assert (await Identity.get(provider="acme")).user_id == owner.id
    assert await User.all().count() == 1


async def test_an_unconfirmed_local_account_is_not_linked(portal: Starlette, provider: Provider) -> None:
    """Someone may have signed up with another's address without confirming it: no takeover."""
    squatter = await make_user(email="pat@example.com", verified=False)
    async with Client(portal) as browser:
        response = await callback(browser, await start(browser))
        assert response.status_code == 403
        assert "has not confirmed its address" in response.text and "e-mailed link first" in response.text
        assert (await me(browser)).status_code == 401
    assert not await Identity.exists(user_id=squatter.id)


async def test_a_disabled_provider_cannot_be_used(build_app: AppBuilder, provider: Provider) -> None:
    async with build_app(oidc_providers=(acme(provider, enabled=False),)) as app, Client(app) as browser:
        assert "Acme ID" not in (await browser.get("/auth/signin")).text
        for path in ("/auth/oidc/acme", "/auth/oidc/acme/callback?code=x&state=y", "/auth/oidc/nobody"):
            response = await browser.get(path)
            assert response.status_code == 404
            assert "not available" in response.text
    assert provider.token_requests == 0


async def test_a_member_links_a_provider_from_the_account_page(portal: Starlette, provider: Provider) -> None:
    member = await make_user(email="member@example.com")
    provider.behaviour.person = Person("sub-9", "other-address@example.com")
    async with Client(portal) as browser:
        await browser.sign_in_as(member)
        assert 'href="/auth/oidc/acme?next=/account"' in (await browser.get("/account")).text
        response = await callback(browser, await start(browser, "/account"))
        assert response.headers["location"] == "/account"
        assert "Acme ID (other-address@example.com)" in (await browser.get("/account")).text
    async with Client(portal) as browser:
        await callback(browser, await start(browser))
        assert (await me(browser)).json()["id"] == member.id


async def test_staff_must_use_the_company_provider(build_app: AppBuilder, provider: Provider) -> None:
    async with build_app(oidc_providers=(acme(provider),), staff_signin_provider="acme") as app:
        staff = await make_user(role="staff", email="pat@example.com")
        member = await make_user()
        async with Client(app) as browser:
            response = await browser.post_form("/auth/signin", {"email": staff.email, "password": PASSWORD})
            assert response.status_code == 422
            assert "Staff sign in with Acme ID" in response.text
            assert (await me(browser)).status_code == 401
            await browser.sign_in_as(member)  # members still may use a password
            assert (await me(browser)).json()["id"] == member.id
        async with Client(app) as browser:
            assert (await callback(browser, await start(browser))).status_code == 303
            assert (await me(browser)).json()["id"] == staff.id


async def test_addresses_at_the_staff_domain_become_staff(build_app: AppBuilder, provider: Provider) -> None:
    provider.behaviour.person = Person("sub-10", "sam@corp.example")
    async with build_app(oidc_providers=(acme(provider),), staff_email_domains=("corp.example",)) as app:
        async with Client(app) as browser:
            await callback(browser, await start(browser))
            assert (await me(browser)).json()["role"] == "staff"
        provider.behaviour.person = Person("sub-11", "guest@elsewhere.example")
        async with Client(app) as browser:
            await callback(browser, await start(browser))
            assert (await me(browser)).json()["role"] == "member"


def test_providers_are_read_from_the_environment() -> None:
    raw = json.dumps(
        [
            {
                "name": "google",
                "issuer": "https://accounts.google.com/",
                "client_id": "id",
                "client_secret": "s",
            },
            {
                "name": "company",
                "issuer": "https://sso.example.com/realms/x",
                "client_id": "c",
                "label": "Corp",
            },
        ]
    )
    env = {"HEARKEN_SECRET_KEY": "k" * 40, "HEARKEN_OIDC_PROVIDERS": raw}
    settings = Settings.from_env(env | {"HEARKEN_STAFF_SIGNIN_PROVIDER": "company"})
    google, company = settings.oidc_providers
    assert (google.issuer, google.display_name, google.enabled) == (
        "https://accounts.google.com",
        "Google",
        True,
    )
    assert company.display_name == "Corp"
    assert "client_secret" not in repr(google), "the secret stays out of logs"
    assert settings.staff_signin_provider == "company"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "JSON list"),
        ('{"name": "x"}', "JSON list"),
        ('[{"name": "Bad Name", "issuer": "https://x.example", "client_id": "c"}]', "needs a name"),
        ('[{"name": "x", "issuer": "ftp://x.example", "client_id": "c"}]', "issuer"),
        ('[{"name": "x", "issuer": "https://x.example"}]', "client_id"),
        ('[{"name": "x", "issuer": "https://x.example", "client_id": "c", "colour": 1}]', "unknown key"),
        ('[{"name": "x", "issuer": "https://x.example", "client_id": "c", "scope": "email"}]', "openid"),
    ],
)
def test_bad_provider_settings_stop_the_start(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"HEARKEN_SECRET_KEY": "k" * 40, "HEARKEN_OIDC_PROVIDERS": raw})


def test_the_staff_provider_must_be_configured() -> None:
    with pytest.raises(SettingsError, match="HEARKEN_STAFF_SIGNIN_PROVIDER"):
        Settings.from_env({"HEARKEN_SECRET_KEY": "k" * 40, "HEARKEN_STAFF_SIGNIN_PROVIDER": "nobody"})
