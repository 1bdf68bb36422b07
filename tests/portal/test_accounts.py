"""Sign-up (finished by the e-mailed verification link), sign-in and sign-out through HTTP, as a
browser does them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from starlette.applications import Starlette

from portal.models import User
from portal.settings import Settings
from tests.browser import Client
from tests.factories import PASSWORD, make_user
from tests.portal.conftest import AppBuilder, deliver_mail, link_in

GOOD = {"email": "mo@example.com", "name": "Mo Member", "password": "long enough password"}


def invalid_fields(page: str) -> set[str]:
    """The names of the inputs a form page marks invalid."""
    return set(re.findall(r'name="([^"]+)"[^>]*aria-invalid="true"', page))


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-note error" id="f-{field}-note">([^<]*)</p>', page)
    assert found, f"no error shown for {field}"
    return found.group(1)


async def me(client: Client) -> httpx.Response:
    return await client.get("/api/v1/me")


def portal_fields(body: dict[str, object]) -> dict[str, object]:
    """The fields of /api/v1/me that the portal itself answers (features add theirs, e.g. points)."""
    return {k: body[k] for k in ("id", "name", "email", "role") if k in body}


# Sign-up


async def test_signup_page_has_the_form(client: Client) -> None:
    response = await client.get("/auth/signup")
    assert response.status_code == 200
    assert 'action="/auth/signup"' in response.text
    assert {'name="email"', 'name="name"', 'name="password"', 'name="csrf_token"'} <= set(
        re.findall(r'name="[a-z_]+"', response.text)
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter a valid e-mail address"),
        ({"email": "two@@example.com"}, "email", "Enter a valid e-mail address"),
        ({"email": "no-dot@example"}, "email", "Enter a valid e-mail address"),
        ({"email": "spaced out@example.com"}, "email", "Enter a valid e-mail address"),
        ({"email": ""}, "email", "Enter your e-mail address"),
        ({"password": "short"}, "password", "Use at least 10 characters"),
        ({"password": "x" * 257}, "password", "Use at most 256 characters"),
        ({"name": ""}, "name", "Enter a name"),
        ({"name": "   "}, "name", "Enter a name"),
        ({"name": "n" * 81}, "name", "Use at most 80 characters"),
    ],
)
async def test_signup_with_a_bad_field_names_it_and_writes_nothing(
    client: Client, changes: dict[str, str], field: str, message: str
) -> None:
    response = await client.post_form("/auth/signup", {**GOOD, **changes})
    assert response.status_code == 422
    assert "text/html" in response.headers["content-type"]
    assert invalid_fields(response.text) == {field}
    assert field_error(response.text, field).startswith(message)
    assert await User.all().count() == 0
    assert (await me(client)).status_code == 401


async def test_signup_reports_every_bad_field_at_once_and_keeps_the_entries(client: Client) -> None:
    response = await client.post_form("/auth/signup", {"email": "nope", "name": "", "password": "my-secret"})
    assert response.status_code == 422
    assert invalid_fields(response.text) == {"email", "name", "password"}
    assert 'value="nope"' in response.text
    assert "my-secret" not in response.text, "the password is never sent back"
    assert await User.all().count() == 0


def _without_csrf(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", re.sub(r'"X-CSRF-Token": "[^"]*"', "", page))


@pytest.mark.usefixtures("cheap_hashing")
@pytest.mark.parametrize("email", ["mo@example.com", "MO@EXAMPLE.COM", "  Mo@Example.com "])
async def test_signup_with_a_taken_email_answers_like_a_signup_and_mails_the_owner(
    app: Starlette, client: Client, settings: Settings, email: str
) -> None:
    """Sign-up must not tell whether an address has an account: the owner hears of it by mail."""
    owner = await make_user(email="mo@example.com", name="Mo Owner")
    taken = await client.post_form("/auth/signup", {**GOOD, "email": email})
    async with Client(app) as other:
        fresh = await other.post_form("/auth/signup", {**GOOD, "email": "new@example.com"})
        assert taken.status_code == fresh.status_code == 303
        assert taken.headers["location"] == fresh.headers["location"] == "/auth/check-mail"
        taken_page, fresh_page = await client.get("/auth/check-mail"), await other.get("/auth/check-mail")
    assert "Check your mail" in taken_page.text
    assert _without_csrf(taken_page.text).replace("mo@example.com", "X") == _without_csrf(
        fresh_page.text
    ).replace("new@example.com", "X")
    assert await User.filter(email="mo@example.com").count() == 1
    assert (await User.get(email="mo@example.com")).name == "Mo Owner", "nothing about the owner changed"
    assert (await me(client)).status_code == 401
    mails = {m.recipient: m for m in await deliver_mail(settings)}
    assert mails["mo@example.com"].subject.startswith("You already have an account")
    assert "/auth/verify/" not in mails["mo@example.com"].text
    # Its sign-in link works for the owner (who may have forgotten the password).
    signin = link_in(mails["mo@example.com"].text, "/auth/link")
    assert (await client.post_form(signin)).status_code == 303
    assert (await me(client)).json()["id"] == owner.id
    assert mails["new@example.com"].subject.startswith("Confirm your address")


async def test_signup_mails_a_link_that_verifies_and_signs_in(
    app: Starlette, client: Client, settings: Settings
) -> None:
    response = await client.post_form("/auth/signup", {**GOOD, "email": "  Mo.Member@Example.COM "})
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/check-mail"
    page = await client.get("/auth/check-mail")
    assert "Check your mail" in page.text
    assert "mo.member@example.com" in page.text
    user = await User.get(email="mo.member@example.com")
    assert user.name == "Mo Member"
    assert user.role == "member"
    assert user.email_verified_at is None
    assert user.password_hash is not None and user.password_hash.startswith("$argon2")
    assert GOOD["password"] not in user.password_hash
    assert (await me(client)).status_code == 401, "signing up alone does not sign in"
    [mail] = await deliver_mail(settings)
    assert mail.recipient == "mo.member@example.com"
    verify = link_in(mail.text, "/auth/verify")
    page = await client.get(verify)
    assert page.status_code == 200
    assert "Confirm my address" in page.text
    assert (await User.get(id=user.id)).email_verified_at is None, "opening the link changes nothing"
    response = await client.post_form(verify)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await User.get(id=user.id)).email_verified_at is not None
    response = await me(client)
    assert response.status_code == 200
    assert portal_fields(response.json()) == {
        "id": user.id,
        "name": "Mo Member",
        "email": "mo.member@example.com",
        "role": "member",
    }
    # The new account can sign in again with what it signed up with.
    async with Client(app) as again:
        await again.sign_in("MO.MEMBER@example.com", GOOD["password"])
        assert (await me(again)).json()["id"] == user.id


@pytest.mark.usefixtures("cheap_hashing")
async def test_signup_carries_only_a_local_next_through_the_verification_link(
    app: Starlette, client: Client, settings: Settings
) -> None:
    await client.post_form("/auth/signup?next=/account", GOOD)
    async with Client(app) as other:
        await other.post_form(
            "/auth/signup?next=https://evil.example/", {**GOOD, "email": "other@example.com"}
        )
    mails = {m.recipient: m for m in await deliver_mail(settings)}
    local = await client.post_form(link_in(mails[GOOD["email"]].text, "/auth/verify"))
    assert local.headers["location"] == "/account"
    async with Client(app) as other:
        foreign = await other.post_form(link_in(mails["other@example.com"].text, "/auth/verify"))
        assert foreign.status_code == 303
        assert foreign.headers["location"] == "/"


# Sign-in


async def test_sign_in_with_email_in_any_case(client: Client) -> None:
    user = await make_user(email="ann@example.com", name="Ann")
    response = await client.post_form("/auth/signin", {"email": " ANN@Example.com", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert portal_fields((await me(client)).json()) == {
        "id": user.id,
        "name": "Ann",
        "email": "ann@example.com",
        "role": "member",
    }


async def test_wrong_password_and_unknown_email_get_the_same_answer(client: Client) -> None:
    await make_user(email="ann@example.com")
    wrong = await client.post_form(
        "/auth/signin", {"email": "ann@example.com", "password": "not the password"}
    )
    unknown = await client.post_form("/auth/signin", {"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 422
    assert (
        field_error(wrong.text, "password")
        == field_error(unknown.text, "password")
        == ("E-mail or password is wrong.")
    )
    assert invalid_fields(wrong.text) == invalid_fields(unknown.text) == {"password"}
    # Apart from the e-mail echoed into the form, the two pages are the same.
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", wrong.text.replace("ann@example.com", "")) == strip.sub(
        "", unknown.text.replace("nobody@example.com", "")
    )
    assert (await me(client)).status_code == 401


async def test_user_without_a_password_cannot_sign_in(client: Client) -> None:
    user = await make_user(email="nopass@example.com")
    await User.filter(id=user.id).update(password_hash=None)
    response = await client.post_form("/auth/signin", {"email": "nopass@example.com", "password": ""})
    assert response.status_code == 422
    assert field_error(response.text, "password") == "E-mail or password is wrong."
    assert (await me(client)).status_code == 401


async def test_banned_user_is_refused(client: Client) -> None:
    await make_user(email="banned@example.com", banned=True)
    response = await client.post_form("/auth/signin", {"email": "banned@example.com", "password": PASSWORD})
    assert response.status_code == 422
    assert field_error(response.text, "email") == "This account is suspended."
    assert (await me(client)).status_code == 401


async def test_a_ban_ends_existing_sessions(client: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    assert (await me(client)).status_code == 200
    await User.filter(id=user.id).update(banned_at=datetime.now(UTC))
    assert (await me(client)).status_code == 401


async def test_bumping_the_session_version_signs_out_everywhere(client: Client, anon: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    await anon.sign_in_as(user)
    await User.filter(id=user.id).update(session_version=user.session_version + 1)
    assert (await me(client)).status_code == 401
    assert (await me(anon)).status_code == 401


async def test_sign_out_ends_the_session(client: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    assert (await me(client)).status_code == 200
    response = await client.post_form("/auth/signout")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert (await me(client)).status_code == 401
    assert (await client.get("/account")).status_code == 303


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account", "/account"),
        ("/ideas?sort=top#list", "/ideas?sort=top#list"),
        ("https://evil.example/steal", "/"),
        ("//evil.example/steal", "/"),
        ("///evil.example/steal", "/"),
        ("javascript:alert(1)", "/"),
        ("http:/evil.example", "/"),
        ("account", "/"),
        ("", "/"),
    ],
)
async def test_next_only_allows_local_paths(client: Client, target: str, expected: str) -> None:
    user = await make_user()
    response = await client.post_form(
        "/auth/signin", {"email": user.email, "password": PASSWORD}, params={"next": target}
    )
    assert response.status_code == 303
    assert response.headers["location"] == expected


async def test_next_with_a_backslash_stays_on_this_site(client: Client) -> None:
    user = await make_user()
    response = await client.post_form(
        "/auth/signin", {"email": user.email, "password": PASSWORD, "next": "/\\evil.example"}
    )
    location = response.headers["location"]
    assert location.startswith("/")
    assert not location.startswith(("//", "/\\"))
    assert httpx.URL("http://testserver").join(location).host == "testserver"


async def test_next_from_the_form_field_is_checked_too(app: Starlette, client: Client) -> None:
    user = await make_user()
    page = await client.get("/auth/signin", params={"next": "https://evil.example/"})
    assert 'name="next" value="/"' in page.text
    response = await client.post_form(
        "/auth/signin", {"email": user.email, "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.headers["location"] == "/"
    async with Client(app) as other:
        page = await other.get("/auth/signin", params={"next": "/account"})
        assert 'name="next" value="/account"' in page.text
        response = await other.post_form(
            "/auth/signin", {"email": user.email, "password": PASSWORD, "next": "/account"}
        )
        assert response.headers["location"] == "/account"


async def test_account_page_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/signin?next=/account"


# Rate limit


async def test_sign_in_is_rate_limited(build_app: AppBuilder) -> None:
    async with build_app(signin_limit="3/minute") as app, Client(app) as browser:
        user = await make_user()
        for _ in range(3):
            response = await browser.post_form(
                "/auth/signin", {"email": user.email, "password": "wrong one!"}
            )
            assert response.status_code == 422
        response = await browser.post_form("/auth/signin", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429
        assert 1 <= int(response.headers["retry-after"]) <= 60
        assert "text/html" in response.headers["content-type"]
        # The form again, saying when to try, with the address typed kept.
        assert re.search(r'id="f-password"[^>]*aria-invalid="true"', response.text, re.S)
        assert "Too many requests; try again in" in response.text
        assert f'value="{user.email}"' in response.text
        # Even the right password is refused while the limit holds.
        assert (await me(browser)).status_code == 401


async def test_sign_in_limit_counts_per_account_across_addresses(build_app: AppBuilder) -> None:
    """Spreading guesses for one account over many addresses does not escape the limit."""
    async with build_app(signin_limit="2/minute") as app:
        user = await make_user()
        statuses = []
        for n in range(3):
            transport = httpx.ASGITransport(app=app, client=(f"10.0.0.{n + 1}", 1234))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as browser:
                page = await browser.get("/auth/signin")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
                response = await browser.post(
                    "/auth/signin", data={"email": user.email, "password": "wrong one!", "csrf_token": token}
                )
                statuses.append(response.status_code)
        assert statuses == [422, 422, 429]


async def test_sign_up_is_rate_limited(build_app: AppBuilder) -> None:
    async with build_app(signin_limit="2/minute") as app, Client(app) as browser:
        for n in range(2):
            response = await browser.post_form("/auth/signup", {**GOOD, "email": f"bad{n}", "password": "x"})
            assert response.status_code == 422
        response = await browser.post_form(
            "/auth/signup", {**GOOD, "email": "x@example.com", "password": "y"}
        )
        assert response.status_code == 429
        assert "retry-after" in response.headers
        assert "Too many requests; try again in" in response.text and 'value="x@example.com"' in response.text
        assert await User.all().count() == 0


async def test_a_member_changes_the_name_shown_beside_their_posts(client: Client) -> None:
    user = await make_user(name="Ann Old")
    await client.sign_in_as(user)
    page = (await client.get("/account")).text
    assert 'action="/account/name"' in page and 'value="Ann Old"' in page
    response = await client.post_form("/account/name", {"name": "  Ann   New "})
    assert response.status_code == 303
    assert "Your posts are signed “Ann New” now." in (await client.get("/account")).text
    assert (await User.get(id=user.id)).name == "Ann New"
    refused = await client.post_form("/account/name", {"name": "   "})
    assert refused.status_code == 422
    assert re.search(r'id="f-name"[^>]*aria-invalid="true"', refused.text, re.S)
    assert (await User.get(id=user.id)).name == "Ann New"


async def test_a_member_changes_the_password_and_other_sessions_end(app: Starlette, client: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    async with Client(app) as elsewhere:
        await elsewhere.sign_in_as(user)
        wrong = await client.post_form(
            "/account/password", {"current_password": "not it at all", "new_password": "a new long password"}
        )
        assert wrong.status_code == 422 and "The password is wrong." in wrong.text
        short = await client.post_form(
            "/account/password", {"current_password": PASSWORD, "new_password": "short"}
        )
        assert short.status_code == 422 and re.search(
            r'id="f-new_password"[^>]*aria-invalid="true"', short.text, re.S
        )
        assert (await elsewhere.get("/api/v1/me")).status_code == 200, "refused changes change nothing"

        response = await client.post_form(
            "/account/password", {"current_password": PASSWORD, "new_password": "a new long password"}
        )
        assert response.status_code == 303
        assert (await client.get("/api/v1/me")).json()["id"] == user.id, "this session goes on"
        assert (await elsewhere.get("/api/v1/me")).status_code == 401, "the others end"
    client._csrf = None
    await client.post_form("/auth/signout")
    client._csrf = None
    assert (await client.sign_in(user.email, "a new long password")).status_code == 303


async def test_an_account_without_a_password_chooses_one_without_a_current_one(client: Client) -> None:
    user = await make_user()
    await client.sign_in_as(user)
    await User.filter(id=user.id).update(password_hash=None)  # as after signing in by an e-mailed link
    page = (await client.get("/account")).text
    assert "Choose a password" in page and 'name="current_password"' not in page
    response = await client.post_form("/account/password", {"new_password": "my first password"})
    assert response.status_code == 303
    assert (await User.get(id=user.id)).password_hash is not None
