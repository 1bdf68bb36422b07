"""The portal's pages: sign-up, sign-in, sign-out, the account page, and the health probe.

Pages reached from e-mailed links are in `portal.link_routes`; OpenID Connect in `portal.oidc`.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portal import accounts, auth, db, links, oidc, permissions
from portal.errors import Invalid, RateLimited
from portal.models import User
from portal.templating import flash, render
from portal.web import client_address, limit_writes


def safe_next(target: str | None) -> str:
    """Only local paths, so a sign-in link cannot send people to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def rate_limit_signin(request: Request, email: str | None) -> None:
    """Counts one sign-in attempt (or anything that mails a sign-in link) per address and account."""
    limits = request.app.state.rate_limits
    limit = request.app.state.settings.signin_limit
    keys = [f"signin:ip:{client_address(request)}"]
    if email is not None:
        keys.append(f"signin:account:{accounts.normalize_email(email)}")
    await limits.hit(limit, *keys)


_MAIL_SENT = "mail_sent"


SIGNED_UP = "signed_up"


def check_mail(request: Request, email: str, what: str) -> Response:
    """The one answer to every request that mails a link, whether or not the address has an account:
    a redirect to the "check your mail" page (so reloading it sends nothing again)."""
    request.session[_MAIL_SENT] = {"email": accounts.normalize_email(email), "what": what}
    return RedirectResponse("/auth/check-mail", status_code=303)


async def check_mail_page(request: Request) -> Response:
    sent = request.session.pop(_MAIL_SENT, None) or {}
    return render(
        request, "portal/check_mail.html", {"email": sent.get("email", ""), "what": sent.get("what", "")}
    )


def _signup_again(
    request: Request, values: dict[str, str], errors: dict[str, str], limited: RateLimited | None = None
) -> Response:
    """The sign-up form once more with its errors and what was typed (never the password): 422, or
    429 with Retry-After when a rate limit refused it."""
    context = {"form": {k: v for k, v in values.items() if k != "password"}, "errors": errors}
    response = render(request, "portal/signup.html", context, status_code=429 if limited else 422)
    if limited is not None:
        response.headers["Retry-After"] = str(limited.retry_after)
    return response


async def signup_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "portal/signup.html", {"form": {}, "errors": {}})
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("email", "name", "password")}
    # A secret mark for this browser, whether or not an account is made (so it tells nothing):
    # the verification link carries it, and `link_routes.verify` knows the signer by it.
    mark = secrets.token_urlsafe(16)
    try:
        await rate_limit_signin(request, values["email"])
        await accounts.sign_up(**values, next_url=next_url, signer=mark)
    except RateLimited as exc:  # said on the form too, with what was typed kept
        return _signup_again(request, values, {"email": exc.detail}, exc)
    except Invalid as exc:
        return _signup_again(request, values, exc.errors)
    request.session[SIGNED_UP] = mark
    return check_mail(request, values["email"], "signup")


def _signin_context(request: Request, **extra: object) -> dict[str, object]:
    return {
        "form": {},
        "errors": {},
        "providers": oidc.enabled_providers(request.app.state.settings),
        **extra,
    }


async def signin_page(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "portal/signin.html", _signin_context(request, next=next_url))
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    try:
        await rate_limit_signin(request, email)
    except RateLimited as exc:  # the form again, with what was typed and when to try again
        context = _signin_context(
            request, form={"email": email}, errors={"password": exc.detail}, next=next_url
        )
        response = render(request, "portal/signin.html", context, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    try:
        user = await accounts.authenticate(email=email, password=password)
        refusal = accounts.signin_refusal(request.app.state.settings, user, None)
        if refusal is not None:
            raise Invalid({"email": refusal})
    except Invalid as exc:
        return render(
            request,
            "portal/signin.html",
            _signin_context(request, form={"email": email}, errors=exc.errors, next=next_url),
            status_code=422,
        )
    auth.sign_in(request, user)
    flash(request, f"Signed in as {user.name}.", "success")
    return RedirectResponse(safe_next(str(form.get("next", "")) or next_url), status_code=303)


async def signout(request: Request) -> Response:
    auth.sign_out(request)
    flash(request, "You are signed out.")
    return RedirectResponse("/", status_code=303)


async def account_page(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    return await _account_page(request, user, {}, {})


async def _account_page(
    request: Request, user: User, form: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Response:
    settings = request.app.state.settings
    identities = await oidc.identities_of(user)
    linked = {i.provider for i in identities}
    return render(
        request,
        "portal/account.html",
        {
            "tokens": await accounts.tokens_of(user),
            "new_token": request.session.pop("new_token", None),
            "identities": identities,
            "provider_names": {p.name: p.display_name for p in settings.oidc_providers},
            "linkable": [p for p in oidc.enabled_providers(settings) if p.name not in linked],
            "form": form,
            "errors": errors,
        },
        status_code=status_code,
    )


async def change_email(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("email", "password")}
    await rate_limit_signin(request, user.email)
    try:
        new = await links.request_email_change(actor=user, **values)
    except Invalid as exc:
        return await _account_page(request, user, {"email": values["email"]}, exc.errors, status_code=422)
    flash(
        request,
        f"We sent a link to {new}. Your address changes when you open it; until then it stays {user.email}.",
        "success",
    )
    return RedirectResponse("/account", status_code=303)


async def change_name(request: Request) -> Response:
    user = auth.current_user(request)
    form = await request.form()
    name = str(form.get("name", ""))
    await limit_writes(request, user)
    try:
        user = await accounts.rename(actor=user, name=name)
    except Invalid as exc:
        assert user is not None
        return await _account_page(request, user, {"name": name}, exc.errors, status_code=422)
    flash(request, f"Your posts are signed “{user.name}” now.", "success")
    return RedirectResponse("/account", status_code=303)


async def change_password(request: Request) -> Response:
    user = auth.current_user(request)
    form = await request.form()
    if user is not None:
        await rate_limit_signin(request, user.email)  # the current password may be guessed here
    try:
        user = await accounts.change_password(
            actor=user, current=str(form.get("current_password", "")), new=str(form.get("new_password", ""))
        )
    except Invalid as exc:
        assert user is not None
        return await _account_page(request, user, {}, exc.errors, status_code=422)
    auth.sign_in(request, user)  # this session goes on; every other one ended with the old password
    flash(request, "Your password is changed, and every other session is signed out.", "success")
    return RedirectResponse("/account", status_code=303)


async def resend_verification(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    await rate_limit_signin(request, user.email)
    await links.resend_verification(actor=user)
    flash(request, f"We sent a new confirmation link to {user.email}.", "success")
    return RedirectResponse("/account", status_code=303)


async def create_token(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "token.manage", user)
    assert user is not None
    form = await request.form()
    token = await accounts.create_token(actor=user, owner=user, name=str(form.get("name", "")))
    # Shown once on the next page, then forgotten: only its hash is stored.
    request.session["new_token"] = token
    return RedirectResponse("/account", status_code=303)


async def revoke_token(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "token.manage", user)
    assert user is not None
    await accounts.revoke_token(actor=user, token_id=request.path_params["token_id"])
    flash(request, "Token revoked.")
    return RedirectResponse("/account", status_code=303)


async def healthz(request: Request) -> Response:
    if await db.ping():
        return JSONResponse({"status": "ok"})
    return JSONResponse({"status": "unavailable", "detail": "database does not answer"}, 503)


async def fallback_home(request: Request) -> Response:
    return render(request, "portal/home.html")


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz),
        Route("/auth/signup", signup_page, methods=["GET", "POST"]),
        Route("/auth/signin", signin_page, methods=["GET", "POST"]),
        Route("/auth/check-mail", check_mail_page),
        Route("/auth/signout", signout, methods=["POST"]),
        Route("/account", account_page),
        Route("/account/email", change_email, methods=["POST"]),
        Route("/account/name", change_name, methods=["POST"]),
        Route("/account/password", change_password, methods=["POST"]),
        Route("/account/verify", resend_verification, methods=["POST"]),
        Route("/account/tokens", create_token, methods=["POST"]),
        Route("/account/tokens/{token_id:int}/revoke", revoke_token, methods=["POST"]),
    ]


def fallback_routes() -> list[BaseRoute]:
    """Routes a feature may take over (features are routed first)."""
    return [Route("/", fallback_home)]
