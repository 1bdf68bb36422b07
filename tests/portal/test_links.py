"""E-mailed links (portal/links.py, portal/link_routes.py, portal/tokens.py): sign-in by link, change
of address, and what happens to expired, tampered, reused and superseded links. Every request for a
link answers the same whether or not the address has an account."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from portal import accounts, links, tokens
from portal.models import ApiToken, Identity, User
from portal.settings import Settings
from tests.browser import Client
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_user
from tests.portal.conftest import AppBuilder, deliver_mail, link_in


async def mails_to(settings: Settings, address: str) -> list[str]:
    return [m.text for m in await deliver_mail(settings) if m.recipient == address]


async def test_sign_in_by_link(client: Client, settings: Settings) -> None:
    user = await make_user(email="ann@example.com", verified=False)
    page = await client.get("/auth/link")
    assert '<label for="f-email">E-mail</label>' in page.text
    response = await client.post_form("/auth/link", {"email": " Ann@Example.com"})
    assert response.headers["location"] == "/auth/check-mail"
    assert "ann@example.com" in (await client.get("/auth/check-mail")).text
    [text] = await mails_to(settings, "ann@example.com")
    url = link_in(text, "/auth/link")
    confirm = await client.get(url)
    assert confirm.status_code == 200 and "Sign in as" in confirm.text
    assert (await client.get("/api/v1/me")).status_code == 401, "opening the link signs nobody in"
    response = await client.post_form(url)
    assert response.status_code == 303
    assert (await client.get("/api/v1/me")).json()["id"] == user.id
    assert (await User.get(id=user.id)).email_verified_at is not None, "the link proved the address"


async def test_the_owner_of_an_address_claims_an_account_a_squatter_made_with_it(
    app: Starlette, settings: Settings
) -> None:
    # Someone signs up with Ann's address before she comes, sets a password, makes an API token and
    # links their own sign-in provider, all while the address is unproven.
    async with Client(app) as squatter:
        response = await squatter.post_form(
            "/auth/signup", {"email": "ann@example.com", "name": "Ann", "password": "squatter-secret"}
        )
        assert response.status_code == 303
        await deliver_mail(settings)  # the verification link goes to Ann, who ignores it
        assert (await squatter.sign_in("ann@example.com", "squatter-secret")).status_code == 303
        account = await User.get(email="ann@example.com")
        token = await accounts.create_token(actor=account, owner=account, name="squatter's")
        await Identity.create(provider="google", subject="squatter", user=account, email="x@example.com")
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await squatter.get("/api/v1/me", headers=bearer)).status_code == 200
        assert (await squatter.get("/api/v1/me")).json()["id"] == account.id

        # Ann asks for a sign-in link and opens it: the address is hers, and so is the account.
        async with Client(app) as ann:
            await ann.post_form("/auth/link", {"email": "ann@example.com"})
            _verification, text = await mails_to(settings, "ann@example.com")
            response = await ann.post_form(link_in(text, "/auth/link"))
            assert response.status_code == 303
            page = (await ann.get(response.headers["location"])).text
            assert "is removed" in page and "choose one on your account page" in page
            assert "Choose a password" in (await ann.get("/account")).text
            assert (await ann.get("/api/v1/me")).json()["id"] == account.id

        claimed = await User.get(id=account.id)
        assert claimed.email_verified_at is not None and claimed.password_hash is None
        assert (await squatter.get("/api/v1/me")).status_code == 401, "the squatter's session is over"
        assert (await squatter.get("/api/v1/me", headers=bearer)).status_code == 401, "and their token"
        assert not await Identity.filter(user_id=account.id).exists(), "and their provider"
        squatter._csrf = None
        refused = await squatter.post_form(
            "/auth/signin", {"email": "ann@example.com", "password": "squatter-secret"}
        )
        assert refused.status_code == 422 and "wrong" in refused.text.lower(), "and their password"


async def _sign_up(browser: Client, email: str, password: str = "signer-secret") -> None:
    response = await browser.post_form("/auth/signup", {"email": email, "name": "Pat", "password": password})
    assert response.status_code == 303


async def _password_works(app: Starlette, email: str, password: str = "signer-secret") -> bool:
    async with Client(app) as other:
        response = await other.post_form("/auth/signin", {"email": email, "password": password})
        return response.status_code == 303


async def test_the_verification_link_opened_where_the_sign_up_was_made_just_confirms(
    app: Starlette, settings: Settings
) -> None:
    async with Client(app) as browser:
        await _sign_up(browser, "pat@example.com")
        [mail] = [m for m in await deliver_mail(settings) if m.recipient == "pat@example.com"]
        url = link_in(mail.text, "/auth/verify")
        page = (await browser.get(url)).text
        assert "Confirm my address" in page and "Was it you?" not in page
        response = await browser.post_form(url, {"choice": "mine"})
        assert response.status_code == 303
        assert "your address pat@example.com is confirmed" in (await browser.get("/")).text
    account = await User.get(email="pat@example.com")
    assert account.email_verified_at is not None and await _password_works(app, account.email)


async def test_the_owner_of_an_address_disowns_a_sign_up_from_the_verification_link(
    app: Starlette, settings: Settings
) -> None:
    async with Client(app) as squatter:
        await _sign_up(squatter, "ann@example.com", "squatter-secret")
        assert (await squatter.sign_in("ann@example.com", "squatter-secret")).status_code == 303
        account = await User.get(email="ann@example.com")
        token = await accounts.create_token(actor=account, owner=account)
        [mail] = [m for m in await deliver_mail(settings) if m.recipient == "ann@example.com"]
        assert "choose “It wasn’t me” to make the account yours" in " ".join(mail.text.split())
        async with Client(app) as ann:  # Ann reads her mail elsewhere
            url = link_in(mail.text, "/auth/verify")
            page = (await ann.get(url)).text
            assert "Someone signed up as <strong>Pat</strong>" in page and "Was it you?" in page
            assert 'value="not-me"' in page
            response = await ann.post_form(url, {"choice": "not-me"})
            assert response.status_code == 303 and response.headers["location"] == "/"
            assert "The account is yours" in (await ann.get("/")).text
            assert (await ann.get("/api/v1/me")).json()["id"] == account.id
        assert (await squatter.get("/api/v1/me")).status_code == 401
        assert (
            await squatter.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        ).status_code == 401
    claimed = await User.get(id=account.id)
    assert claimed.email_verified_at is not None and claimed.password_hash is None
    assert not await _password_works(app, "ann@example.com", "squatter-secret")


async def test_a_member_who_signed_up_on_one_device_confirms_on_another(
    app: Starlette, settings: Settings
) -> None:
    async with Client(app) as laptop:
        await _sign_up(laptop, "pat@example.com")
    [mail] = [m for m in await deliver_mail(settings) if m.recipient == "pat@example.com"]
    async with Client(app) as phone:
        response = await phone.post_form(link_in(mail.text, "/auth/verify"), {"choice": "mine"})
        assert response.status_code == 303
        assert "The account is yours" not in (await phone.get("/")).text
    assert await _password_works(app, "pat@example.com"), "it was them: the password stays"


async def test_a_staff_address_confirmed_away_from_the_sign_up_keeps_nothing_set_before(
    build_app: AppBuilder, make_settings: Any
) -> None:
    """Staff rights come with the address (HEARKEN_STAFF_EMAIL_DOMAINS): never to a stranger's password."""
    settings = make_settings(staff_email_domains=("acme.example",))
    async with build_app(staff_email_domains=("acme.example",)) as app:
        async with Client(app) as squatter:
            await _sign_up(squatter, "cto@acme.example", "squatter-secret")
        async with Client(app) as signer:
            await _sign_up(signer, "dev@acme.example")
            mails = {m.recipient: m.text for m in await deliver_mail(settings)}
            # The owner of cto@ presses "It was me" without reading: staff, but the password is gone.
            async with Client(app) as owner:
                response = await owner.post_form(
                    link_in(mails["cto@acme.example"], "/auth/verify"), {"choice": "mine"}
                )
                assert response.status_code == 303
            cto = await User.get(email="cto@acme.example")
            assert (cto.role, cto.password_hash) == ("staff", None)
            assert not await _password_works(app, "cto@acme.example", "squatter-secret")
            # Who signed up and confirms in the same browser keeps the password they chose.
            response = await signer.post_form(
                link_in(mails["dev@acme.example"], "/auth/verify"), {"choice": "mine"}
            )
            assert response.status_code == 303
        assert (await User.get(email="dev@acme.example")).role == "staff"
        assert await _password_works(app, "dev@acme.example")


async def test_a_sign_up_refused_for_a_taken_address_does_not_make_this_browser_the_signer(
    build_app: AppBuilder, make_settings: Any
) -> None:
    """The sign-up's mark is secret and travels in the link: a second sign-up with the address (no
    account made, the same answer) leaves a mark the first link does not carry."""
    settings = make_settings(staff_email_domains=("acme.example",))
    async with build_app(staff_email_domains=("acme.example",)) as app:
        async with Client(app) as squatter:
            await _sign_up(squatter, "cto@acme.example", "squatter-secret")
        [verify] = [m.text for m in await deliver_mail(settings) if m.recipient == "cto@acme.example"]
        async with Client(app) as owner:  # puzzled by the mail, the owner signs up too, then opens it
            await _sign_up(owner, "cto@acme.example", "owner-secret-1")
            url = link_in(verify, "/auth/verify")
            assert "Was it you?" in (await owner.get(url)).text
            assert (await owner.post_form(url, {"choice": "mine"})).status_code == 303
        cto = await User.get(email="cto@acme.example")
        assert (cto.role, cto.password_hash) == ("staff", None)
        assert not await _password_works(app, "cto@acme.example", "squatter-secret")


async def test_a_change_of_address_asked_before_the_owner_claims_the_account_dies_with_the_claim(
    app: Starlette, settings: Settings
) -> None:
    async with Client(app) as squatter:
        await _sign_up(squatter, "ann@example.com", "squatter-secret")
        await deliver_mail(settings)
        await squatter.sign_in("ann@example.com", "squatter-secret")
        response = await squatter.post_form(
            "/account/email", {"email": "mallory@evil.example", "password": "squatter-secret"}
        )
        assert response.status_code == 303
        pending = {m.recipient: m.text for m in await deliver_mail(settings)}["mallory@evil.example"]
    async with Client(app) as ann:
        await ann.post_form("/auth/link", {"email": "ann@example.com"})
        text = (await mails_to(settings, "ann@example.com"))[-1]
        assert (await ann.post_form(link_in(text, "/auth/link"))).status_code == 303
    async with Client(app) as squatter:  # the link asked for before the claim is good for two days
        response = await squatter.post_form(link_in(pending, "/auth/email"))
        assert response.status_code == 400 and "account changed after it was sent" in response.text
    assert (await User.get(email="ann@example.com")).password_hash is None


async def test_an_address_that_gives_staff_rights_is_taken_only_where_the_account_is_signed_in(
    build_app: AppBuilder, make_settings: Any
) -> None:
    """Whoever reads cto@'s mail must not hand staff rights to an account someone else holds."""
    settings = make_settings(staff_email_domains=("acme.example",))
    async with build_app(staff_email_domains=("acme.example",)) as app:
        member = await make_user(email="mallory@evil.example")
        async with Client(app) as browser:
            await browser.sign_in_as(member)
            response = await browser.post_form(
                "/account/email", {"email": "cto@acme.example", "password": PASSWORD}
            )
            assert response.status_code == 303
            url = link_in(
                {m.recipient: m.text for m in await deliver_mail(settings)}["cto@acme.example"], "/auth/email"
            )
            async with Client(app) as elsewhere:
                refused = await elsewhere.post_form(url)
                assert refused.status_code == 422 and "gives staff rights here" in refused.text
            assert (await User.get(id=member.id)).email == "mallory@evil.example"
            assert (await browser.post_form(url)).status_code == 303, "where the account is signed in"
        moved = await User.get(id=member.id)
        assert (moved.email, moved.role) == ("cto@acme.example", "staff")


async def test_outside_the_api_a_token_reads_but_never_acts(client: Client) -> None:
    """A leaked token must not become a session: say, by choosing a password for an account
    that has none on the account page. Reading with one (a staff export, a feed) is fine."""
    user = await make_user(role="staff")
    await User.filter(id=user.id).update(password_hash=None)
    bearer = {"Authorization": f"Bearer {await accounts.create_token(actor=user, owner=user)}"}
    assert (await client.http.get("/api/v1/me", headers=bearer)).status_code == 200
    export = await client.http.get("/staff/exports/ideas.csv", headers=bearer)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    response = await client.http.post(
        "/account/password", data={"new_password": "chosen by a token"}, headers=bearer
    )
    assert response.status_code in (401, 403) and "set-cookie" not in response.headers
    assert (await User.get(id=user.id)).password_hash is None


async def test_a_reset_link_on_an_unproven_account_drops_the_tokens_and_providers_set_before(
    client: Client, settings: Settings
) -> None:
    user = await make_user(verified=False)
    token = await accounts.create_token(actor=user, owner=user)
    await Identity.create(provider="google", subject="someone", user=user, email=user.email)
    await client.post_form("/auth/reset", {"email": user.email})
    [text] = await mails_to(settings, user.email)
    response = await client.post_form(link_in(text, "/auth/reset"), {"password": "a brand new password"})
    assert response.status_code == 303
    assert await ApiToken.filter(user_id=user.id, revoked_at=None).count() == 0
    assert not await Identity.filter(user_id=user.id).exists()
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 401


async def test_a_link_for_a_proven_account_keeps_its_password_tokens_and_providers(
    client: Client, settings: Settings
) -> None:
    user = await make_user()
    token = await accounts.create_token(actor=user, owner=user)
    await Identity.create(provider="google", subject="mine", user=user, email=user.email)
    await client.post_form("/auth/link", {"email": user.email})
    [text] = await mails_to(settings, user.email)
    response = await client.post_form(link_in(text, "/auth/link"))
    assert "is removed" not in (await client.get(response.headers["location"])).text
    assert (await User.get(id=user.id)).password_hash == user.password_hash
    assert await Identity.filter(user_id=user.id).exists()
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code == 200


@pytest.mark.parametrize("path", ["/auth/link", "/auth/reset"])
async def test_asking_for_a_link_tells_nothing_about_the_address(
    app: Starlette, settings: Settings, path: str
) -> None:
    await make_user(email="known@example.com")
    pages = []
    for email in ("known@example.com", "unknown@example.com"):
        async with Client(app) as browser:
            response = await browser.post_form(path, {"email": email})
            assert (response.status_code, response.headers["location"]) == (303, "/auth/check-mail")
            page = (await browser.get("/auth/check-mail")).text
            pages.append(page.replace(email, "ADDRESS").replace(browser._csrf or "", "TOKEN"))
    assert pages[0] == pages[1]
    assert [m.recipient for m in await deliver_mail(settings)] == ["known@example.com"]


async def test_a_bad_address_is_named(client: Client) -> None:
    response = await client.post_form("/auth/reset", {"email": "not an address"})
    assert response.status_code == 422
    assert "Enter a valid e-mail address" in response.text


async def test_no_link_for_a_banned_account(client: Client, settings: Settings) -> None:
    await make_user(email="banned@example.com", banned=True)
    await client.post_form("/auth/link", {"email": "banned@example.com"})
    await client.post_form("/auth/reset", {"email": "banned@example.com"})
    assert await deliver_mail(settings) == []


def old_token(purpose: tokens.Purpose, payload: dict[str, object], age: timedelta) -> str:
    real_time = time.time
    try:
        time.time = lambda: real_time() - age.total_seconds()  # type: ignore[assignment]
        return tokens.make(TEST_SECRET, purpose, payload)
    finally:
        time.time = real_time  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("purpose", "path"),
    [
        (tokens.SIGNIN, "/auth/link"),
        (tokens.VERIFY, "/auth/verify"),
        (tokens.RESET, "/auth/reset"),
        (tokens.CHANGE_EMAIL, "/auth/email"),
    ],
)
async def test_expired_and_tampered_links_are_refused_with_a_clear_page(
    client: Client, purpose: tokens.Purpose, path: str
) -> None:
    user = await make_user(verified=False)
    assert purpose.max_age is not None
    payload = {"u": user.id, "e": user.email, "f": user.email, "v": user.session_version}
    expired = old_token(purpose, payload, purpose.max_age + timedelta(minutes=1))
    fresh = tokens.make(TEST_SECRET, purpose, payload)
    tampered = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    forged = tokens.make("another-secret-" + "y" * 40, purpose, payload)
    wrong_purpose = tokens.make(TEST_SECRET, tokens.UNSUBSCRIBE, payload)
    cases = [
        (expired, "has expired"),
        (tampered, "not valid"),
        (forged, "not valid"),
        (wrong_purpose, "not valid"),
    ]
    for token, words in cases:
        for method in ("GET", "POST"):
            if method == "GET":
                response = await client.get(f"{path}/{token}")
            else:
                response = await client.post_form(f"{path}/{token}", {"password": "a long new password"})
            assert response.status_code == 400, (token, method)
            assert "This link cannot be used" in response.text
            assert words in response.text
    assert (await client.get("/api/v1/me")).status_code == 401
    after = await User.get(id=user.id)
    assert (after.email_verified_at, after.password_hash, after.email) == (
        None,
        user.password_hash,
        user.email,
    )


async def test_a_sign_in_link_works_once(app: Starlette, client: Client, settings: Settings) -> None:
    user = await make_user()
    await client.post_form("/auth/link", {"email": user.email})
    [text] = await mails_to(settings, user.email)
    url = link_in(text, "/auth/link")
    assert (await client.post_form(url)).status_code == 303
    async with Client(app) as other:
        again = await other.post_form(url)
        assert again.status_code == 400 and "used already" in again.text
        assert (await other.get("/api/v1/me")).status_code == 401
        assert "used already" in (await other.get(url)).text


async def test_signing_out_everywhere_kills_unused_sign_in_links(client: Client, settings: Settings) -> None:
    user = await make_user()
    await client.post_form("/auth/link", {"email": user.email})
    [text] = await mails_to(settings, user.email)
    await User.filter(id=user.id).update(session_version=user.session_version + 1)
    response = await client.post_form(link_in(text, "/auth/link"))
    assert response.status_code == 400 and "account changed after it was sent" in response.text


async def test_a_reset_link_dies_with_the_password_it_was_sent_for(
    client: Client, settings: Settings
) -> None:
    user = await make_user()
    await client.post_form("/auth/reset", {"email": user.email})
    [text] = await mails_to(settings, user.email)
    # Another link for the same password (say, asked for an hour earlier).
    other = tokens.make(
        TEST_SECRET, tokens.RESET, {"u": user.id, "h": links.password_fingerprint(user), "x": 1}
    )
    assert (await client.get(f"/auth/reset/{other}")).status_code == 200
    client._csrf = None
    response = await client.post_form(link_in(text, "/auth/reset"), {"password": "the first new password"})
    assert response.status_code == 303
    client._csrf = None
    response = await client.post_form(f"/auth/reset/{other}", {"password": "the second new password"})
    assert response.status_code == 400 and "account changed" in response.text


async def test_change_of_address_with_reverification(
    app: Starlette, client: Client, settings: Settings
) -> None:
    user = await make_user(email="old@example.com")
    await client.sign_in_as(user)
    await client.get("/account")
    wrong = await client.post_form("/account/email", {"email": "new@example.com", "password": "wrong"})
    assert wrong.status_code == 422 and "The password is wrong" in wrong.text
    response = await client.post_form("/account/email", {"email": "New@Example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert "We sent a link to new@example.com" in (await client.get("/account")).text
    assert (await User.get(id=user.id)).email == "old@example.com", "nothing changes before the link"
    mails = {m.recipient: m for m in await deliver_mail(settings)}
    assert "new@example.com" in mails["old@example.com"].text, "the old address is told"
    assert "/auth/email/" not in mails["old@example.com"].text
    url = link_in(mails["new@example.com"].text, "/auth/email")
    async with Client(app) as browser:  # opened wherever the new mailbox is read
        assert "Use new@example.com" in (await browser.get(url)).text
        assert (await browser.post_form(url)).headers["location"] == "/account"
    changed = await User.get(id=user.id)
    assert changed.email == "new@example.com" and changed.email_verified_at is not None
    async with Client(app) as browser:
        await browser.sign_in("new@example.com", PASSWORD)


async def test_moving_to_a_taken_address_changes_nothing_and_tells_that_address(
    client: Client, settings: Settings
) -> None:
    user = await make_user(email="me@example.com")
    await make_user(email="taken@example.com")
    await client.sign_in_as(user)
    await client.get("/account")
    response = await client.post_form("/account/email", {"email": "taken@example.com", "password": PASSWORD})
    assert response.status_code == 303, "the same answer as for a free address"
    mails = await deliver_mail(settings)
    assert [(m.recipient, m.subject.split(" on ")[0]) for m in mails] == [
        ("taken@example.com", "This address already has an account")
    ]
    assert (await User.get(id=user.id)).email == "me@example.com"


async def test_a_verification_link_for_an_address_no_longer_used_is_refused(
    client: Client, settings: Settings
) -> None:
    user = await make_user(email="first@example.com", verified=False)
    token = tokens.make(TEST_SECRET, tokens.VERIFY, {"u": user.id, "e": "first@example.com"})
    await User.filter(id=user.id).update(email="second@example.com")
    response = await client.post_form(f"/auth/verify/{token}")
    assert response.status_code == 400
    assert (await User.get(id=user.id)).email_verified_at is None


async def test_unverified_members_can_ask_for_a_new_verification_link(
    client: Client, settings: Settings
) -> None:
    user = await make_user(verified=False)
    await client.sign_in_as(user)
    page = await client.get("/account")
    assert "Send me a new confirmation link" in page.text
    assert (await client.post_form("/account/verify")).status_code == 303
    [text] = await mails_to(settings, user.email)
    assert (await client.post_form(link_in(text, "/auth/verify"))).headers["location"] == "/account"
    assert (await User.get(id=user.id)).email_verified_at is not None


async def test_requests_for_links_are_throttled(build_app: AppBuilder) -> None:
    async with build_app(signin_limit="2/minute") as app:
        user = await make_user()
        statuses = []
        for _ in range(3):
            async with Client(app) as browser:
                statuses.append((await browser.post_form("/auth/link", {"email": user.email})).status_code)
        assert statuses == [303, 303, 429]


def test_used_token_records_expire() -> None:
    now = datetime.now(UTC)
    assert tokens.RESET.max_age is not None and tokens.RESET.max_age <= timedelta(hours=1)
    assert tokens.UNSUBSCRIBE.max_age is None and not tokens.UNSUBSCRIBE.single_use
    payload = tokens.read(
        TEST_SECRET, tokens.RESET, tokens.make(TEST_SECRET, tokens.RESET, {"u": 1}), now=now
    )
    assert payload == {"u": 1}
    with pytest.raises(tokens.LinkProblem) as caught:
        tokens.read(
            TEST_SECRET,
            tokens.RESET,
            tokens.make(TEST_SECRET, tokens.RESET, {"u": 1}),
            now=now + timedelta(hours=2),
        )
    assert caught.value.reason == "expired"
