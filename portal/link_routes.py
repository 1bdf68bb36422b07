"""Pages reached from e-mailed links, and the forms that ask for them.

Opening a link (GET) only shows what it will do, with one button; the button (POST) uses it. Mail
scanners that fetch every link in a message therefore cannot spend a single-use link, and a link
never changes anything without the person's click.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portal import accounts, auth, links, tokens
from portal.errors import Errors, Invalid
from portal.models import User
from portal.routes import SIGNED_UP, check_mail, rate_limit_signin, safe_next
from portal.templating import flash, render
from portal.web import user_of


def _email_errors(email: str) -> dict[str, str]:
    errors = Errors()
    accounts.check_email(email, errors)
    try:
        errors.raise_if_any()
    except Invalid as exc:
        return exc.errors
    return {}


def _token(request: Request) -> str:
    return str(request.path_params["token"])


def link_problem(request: Request, exc: tokens.LinkProblem, *, again: str, again_label: str) -> Response:
    """The clear page for a link that cannot be used, with the way to get a new one."""
    return render(
        request,
        "portal/link_problem.html",
        {"problem": exc, "again": again, "again_label": again_label},
        status_code=exc.status,
    )


def _signed_in(request: Request, user: User, message: str, target: str = "/") -> Response:
    """Signs in after a link proved the address, unless the sign-in rules want another way."""
    refusal = accounts.signin_refusal(request.app.state.settings, user, None)
    if refusal is not None:
        flash(request, f"{message} {refusal}", "info")
        return RedirectResponse("/auth/signin", status_code=303)
    auth.sign_in(request, user)
    flash(request, message, "success")
    return RedirectResponse(safe_next(target), status_code=303)


# Sign-in by e-mailed link.


async def signin_link_request(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "portal/link_request.html", {"form": {}, "errors": {}})
    form = await request.form()
    email = str(form.get("email", ""))
    await rate_limit_signin(request, email)
    errors = _email_errors(email)
    if errors:
        context = {"form": {"email": email}, "errors": errors}
        return render(request, "portal/link_request.html", context, status_code=422)
    await links.request_signin_link(email)
    return check_mail(request, email, "signin")


async def signin_link(request: Request) -> Response:
    settings = request.app.state.settings
    again = {"again": "/auth/link", "again_label": "Send me a new sign-in link"}
    try:
        if request.method == "GET":
            _payload, user = await links.check(settings, tokens.SIGNIN, _token(request))
            return render(request, "portal/link_confirm.html", {"account": user})
        user, claimed = await links.sign_in_by_link(settings, _token(request))
    except tokens.LinkProblem as exc:
        return link_problem(request, exc, **again)
    message = f"Signed in as {user.name}."
    if claimed:
        message += (
            " Your address is confirmed. Anything set on this account before that (a password, API tokens,"
            " linked sign-in providers) is removed. To sign in with a password, choose one on your account"
            " page."
        )
    return _signed_in(request, user, message)


# Verification of the address given at sign-up.


def _opened_by_holder(request: Request, account: User) -> bool:
    """Whether this browser is signed in to the account."""
    current = user_of(request)
    return current is not None and current.id == account.id


def _opened_by_signer(request: Request, account: User, payload: dict[str, object]) -> bool:
    """Whether this browser made the sign-up the verification link is for (the link carries the
    mark the sign-up left in its session), or is signed in to the account."""
    mark = request.session.get(SIGNED_UP)
    return bool(mark and payload.get("s") == mark) or _opened_by_holder(request, account)


async def verify(request: Request) -> Response:
    settings = request.app.state.settings
    again = {"again": "/account", "again_label": "Ask for a new link on your account page"}
    try:
        payload, account = await links.check(settings, tokens.VERIFY, _token(request))
        signer = _opened_by_signer(request, account, payload)
        if request.method == "GET":
            return render(request, "portal/verify_confirm.html", {"account": account, "signer": signer})
        disowned = (await request.form()).get("choice") == "not-me"
        user, target, cleared = await links.confirm_address(
            settings, _token(request), signer=signer, disowned=disowned
        )
    except tokens.LinkProblem as exc:
        return link_problem(request, exc, **again)
    request.session.pop(SIGNED_UP, None)
    message = f"Thank you, {user.name}: your address {user.email} is confirmed."
    if cleared:
        message += (
            " The account is yours: anything set on it before (a password, API tokens, linked sign-in"
            " providers) is removed and every other session signed out. To sign in with a password,"
            " choose one on your account page."
        )
    return _signed_in(request, user, message, "/" if cleared else target)


# Password reset.


async def reset_request(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "portal/reset_request.html", {"form": {}, "errors": {}})
    form = await request.form()
    email = str(form.get("email", ""))
    await rate_limit_signin(request, email)
    errors = _email_errors(email)
    if errors:
        context = {"form": {"email": email}, "errors": errors}
        return render(request, "portal/reset_request.html", context, status_code=422)
    await links.request_password_reset(email)
    return check_mail(request, email, "reset")


async def reset(request: Request) -> Response:
    settings = request.app.state.settings
    again = {"again": "/auth/reset", "again_label": "Send me a new reset link"}
    token = _token(request)
    try:
        _payload, user = await links.check(settings, tokens.RESET, token)
        if request.method == "GET":
            return render(request, "portal/reset.html", {"account": user, "errors": {}})
        form = await request.form()
        await rate_limit_signin(request, user.email)
        try:
            user = await links.reset_password(settings, token, str(form.get("password", "")))
        except Invalid as exc:
            context = {"account": user, "errors": exc.errors}
            return render(request, "portal/reset.html", context, status_code=422)
    except tokens.LinkProblem as exc:
        return link_problem(request, exc, **again)
    return _signed_in(request, user, "Your password is changed, and every other session is signed out.")


# Change of address.


async def email_change(request: Request) -> Response:
    settings = request.app.state.settings
    again = {"again": "/account", "again_label": "Ask again on your account page"}
    try:
        if request.method == "GET":
            payload, user = await links.check(settings, tokens.CHANGE_EMAIL, _token(request))
            return render(request, "portal/email_confirm.html", {"account": user, "new_email": payload["e"]})
        _payload, account = await links.check(settings, tokens.CHANGE_EMAIL, _token(request))
        holder = _opened_by_holder(request, account)
        user = await links.confirm_email_change(settings, _token(request), holder=holder)
    except tokens.LinkProblem as exc:
        return link_problem(request, exc, **again)
    return _signed_in(request, user, f"Your address is now {user.email}.", "/account")


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    return [
        Route("/auth/link", signin_link_request, methods=both),
        Route("/auth/link/{token}", signin_link, methods=both),
        Route("/auth/verify/{token}", verify, methods=both),
        Route("/auth/reset", reset_request, methods=both),
        Route("/auth/reset/{token}", reset, methods=both),
        Route("/auth/email/{token}", email_change, methods=both),
    ]
