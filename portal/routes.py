"""The portal's pages: sign-up, sign-in, sign-out, the account page, and the health probe."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from portal import accounts, auth, db, permissions
from portal.errors import Invalid
from portal.templating import flash, render


def _safe_next(target: str | None) -> str:
    """Only local paths, so a sign-in link cannot send people to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


async def _rate_limit_signin(request: Request, email: str) -> None:
    limits = request.app.state.rate_limits
    limit = request.app.state.settings.signin_limit
    client = request.client.host if request.client else "unknown"
    await limits.hit(limit, f"signin:ip:{client}", f"signin:account:{accounts.normalize_email(email)}")


async def signup_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "portal/signup.html", {"form": {}, "errors": {}})
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("email", "name", "password")}
    await _rate_limit_signin(request, values["email"])
    try:
        user = await accounts.sign_up(**values)
    except Invalid as exc:
        values.pop("password")
        return render(request, "portal/signup.html", {"form": values, "errors": exc.errors}, status_code=422)
    auth.sign_in(request, user)
    flash(request, f"Welcome, {user.name}! Your account is ready.", "success")
    return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)


async def signin_page(request: Request) -> Response:
    next_url = _safe_next(request.query_params.get("next"))
    if request.method == "GET":
        return render(request, "portal/signin.html", {"form": {}, "errors": {}, "next": next_url})
    form = await request.form()
    email, password = str(form.get("email", "")), str(form.get("password", ""))
    await _rate_limit_signin(request, email)
    try:
        user = await accounts.authenticate(email=email, password=password)
    except Invalid as exc:
        return render(
            request,
            "portal/signin.html",
            {"form": {"email": email}, "errors": exc.errors, "next": next_url},
            status_code=422,
        )
    auth.sign_in(request, user)
    flash(request, f"Signed in as {user.name}.", "success")
    return RedirectResponse(_safe_next(str(form.get("next", "")) or next_url), status_code=303)


async def signout(request: Request) -> Response:
    auth.sign_out(request)
    flash(request, "You are signed out.")
    return RedirectResponse("/", status_code=303)


async def account_page(request: Request) -> Response:
    user = auth.current_user(request)
    permissions.require(user, "account.view")
    assert user is not None
    new_token = request.session.pop("new_token", None)
    return render(
        request,
        "portal/account.html",
        {"tokens": await accounts.tokens_of(user), "new_token": new_token},
    )


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
        Route("/auth/signout", signout, methods=["POST"]),
        Route("/account", account_page),
        Route("/account/tokens", create_token, methods=["POST"]),
        Route("/account/tokens/{token_id:int}/revoke", revoke_token, methods=["POST"]),
    ]


def fallback_routes() -> list[BaseRoute]:
    """Routes a feature may take over (features are routed first)."""
    return [Route("/", fallback_home)]
