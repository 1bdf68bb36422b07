"""Sign-in with OpenID Connect providers, through Authlib's Starlette client.

The providers come from HEARKEN_OIDC_PROVIDERS; each app builds its own Authlib registry from them.
The flow is the authorization code flow with PKCE. Authlib checks the state (kept in the signed
session), the id_token's signature (JWKS from discovery), audience, expiry, nonce and issuer; we
also check that the discovery document names the configured issuer. Then `identity_user` decides
which account the provider's person signs in as.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from joserfc.errors import ClaimError, JoseError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from portal import accounts, auth
from portal.errors import HearkenError, NotFound
from portal.models import Identity, User
from portal.settings import OIDCProvider, Settings
from portal.templating import flash

# Authlib 1.9 prefers the `httpx2` package and warns when it falls back to `httpx`, which it still
# supports and which the rest of the portal uses.
with warnings.catch_warnings():
    import authlib.deprecate  # noqa: F401 -- first: it adds an "always" filter that ours must come before

    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client.errors import MismatchingStateError
    from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App

log = logging.getLogger("hearken.oidc")
_NEXT_KEY = "oidc_next"
_RACE = "This sign-in was completed a moment ago in another window; start again."


class SignInFailed(HearkenError):
    status = 400
    title = "Sign-in did not work"


class SignInRefused(HearkenError):
    status = 403
    title = "Sign-in refused"


def registry(settings: Settings) -> OAuth:
    """An Authlib registry with one client per enabled provider."""
    oauth = OAuth()
    for provider in settings.oidc_providers:
        if provider.enabled:
            oauth.register(
                name=provider.name,
                client_id=provider.client_id,
                client_secret=provider.client_secret,
                server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
                client_kwargs={"scope": provider.scope, "code_challenge_method": "S256", "timeout": 10},
            )
    return oauth


def enabled_providers(settings: Settings) -> list[OIDCProvider]:
    return [p for p in settings.oidc_providers if p.enabled]


def _client(request: Request) -> tuple[OIDCProvider, StarletteOAuth2App]:
    settings: Settings = request.app.state.settings
    provider = settings.oidc_provider(request.path_params["provider"])
    client = request.app.state.oidc.create_client(provider.name) if provider and provider.enabled else None
    if provider is None or client is None:
        raise NotFound("This sign-in provider is not available.")
    return provider, client


async def _metadata(provider: OIDCProvider, client: StarletteOAuth2App) -> dict[str, Any]:
    try:
        metadata = await client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("discovery for %s failed: %r", provider.name, exc)
        client.server_metadata.pop("_loaded_at", None)
        raise SignInFailed(f"{provider.display_name} did not answer. Please try again later.") from None
    if metadata.get("issuer") != provider.issuer:
        raise SignInFailed(f"{provider.display_name} describes itself as another issuer; sign-in is refused.")
    return metadata


async def start(request: Request) -> Response:
    from portal.routes import safe_next

    provider, client = _client(request)
    await _metadata(provider, client)
    request.session[_NEXT_KEY] = safe_next(request.query_params.get("next"))
    settings: Settings = request.app.state.settings
    redirect_uri = f"{settings.base_url}/auth/oidc/{provider.name}/callback"
    return await client.authorize_redirect(request, redirect_uri)


def _failure(provider: OIDCProvider, exc: Exception) -> SignInFailed:
    name = provider.display_name
    if isinstance(exc, MismatchingStateError):
        detail = "The answer does not belong to a sign-in started in this browser (the state differs)."
    elif isinstance(exc, OAuthError) and exc.error == "invalid_grant":
        detail = f"{name} refused the sign-in code; it may have been used already."
    elif isinstance(exc, OAuthError):
        detail = f"{name} answered: {exc.description or exc.error}."
    elif isinstance(exc, ClaimError) and exc.claim == "nonce":
        detail = "The identity token was made for another sign-in (the nonce differs)."
    elif isinstance(exc, ClaimError) and exc.claim == "iss":
        detail = f"The identity token was not issued by {name} (the issuer differs)."
    elif isinstance(exc, JoseError):
        detail = f"The identity token from {name} could not be verified ({exc.error})."
    else:
        detail = f"{name} did not answer."
    return SignInFailed(f"Sign-in with {name} did not work. {detail} Start again from the sign-in page.")


async def _claims(provider: OIDCProvider, client: StarletteOAuth2App, request: Request) -> dict[str, Any]:
    try:
        metadata = await _metadata(provider, client)
        token = await client.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise SignInFailed(f"{provider.display_name} sent no identity token.")
        if "email" not in claims and metadata.get("userinfo_endpoint"):
            info = await client.userinfo(token=token)
            if info.get("sub") != claims["sub"]:
                raise SignInFailed(f"{provider.display_name} described another person than it signed in.")
            claims |= {k: v for k, v in info.items() if k not in ("iss", "aud", "sub")}
    except (OAuthError, JoseError, httpx.HTTPError) as exc:
        log.info("sign-in with %s failed: %r", provider.name, exc)
        raise _failure(provider, exc) from None
    return claims


async def callback(request: Request) -> Response:
    from portal.routes import rate_limit_signin, safe_next

    await rate_limit_signin(request, None)
    provider, client = _client(request)
    claims = await _claims(provider, client, request)
    settings: Settings = request.app.state.settings
    current = auth.current_user(request)
    user = await identity_user(settings, provider, claims, current=current)
    target = safe_next(request.session.pop(_NEXT_KEY, None))
    auth.sign_in(request, user)
    if current is not None:
        flash(request, f"You can now sign in with {provider.display_name} too.", "success")
    else:
        flash(request, f"Signed in as {user.name} with {provider.display_name}.", "success")
    return RedirectResponse(target, status_code=303)


def _verified(claims: Mapping[str, Any]) -> bool:
    return claims.get("email_verified") in (True, "true")


async def identity_user(
    settings: Settings, provider: OIDCProvider, claims: Mapping[str, Any], *, current: User | None
) -> User:
    """The account that the provider's person (`claims`) signs in as, linked or created on first use.

    - a known identity signs in as its account;
    - a signed-in member (`current`) links a new identity to their own account;
    - otherwise the provider must vouch for the address (`email_verified`): an account with that
      verified address is linked, or a new verified account is made. An unverified local account
      with that address is not taken over: its owner must confirm the address first.
    """
    name = provider.display_name
    subject = str(claims["sub"])
    email = accounts.normalize_email(str(claims.get("email") or ""))
    now = datetime.now(UTC)
    identity = await Identity.get_or_none(provider=provider.name, subject=subject).prefetch_related("user")
    if identity is not None:
        if current is not None and current.id != identity.user_id:
            raise SignInRefused(f"This {name} account is linked to another member of this portal.")
        user = identity.user
        await Identity.filter(id=identity.id).update(last_used_at=now, email=email or identity.email)
    elif current is not None:
        user = current
        await _link(provider, subject, email, user, now)
    else:
        if not email:
            raise SignInRefused(f"{name} did not tell us your e-mail address, which we need for an account.")
        if not _verified(claims):
            raise SignInRefused(
                f"{name} has not confirmed that {email} is your address. Confirm it with {name}, "
                "or sign up here with your e-mail address."
            )
        user = await _account_for(provider, claims, subject, email, now)
    await accounts.promote_by_domain(settings, user)
    refusal = accounts.signin_refusal(settings, user, provider.name)
    if refusal is not None:
        raise SignInRefused(refusal)
    return user


async def _link(provider: OIDCProvider, subject: str, email: str, user: User, now: datetime) -> None:
    try:
        async with in_transaction():
            await Identity.create(
                provider=provider.name, subject=subject, user=user, email=email, last_used_at=now
            )
    except IntegrityError:
        raise SignInFailed(_RACE) from None


async def _account_for(
    provider: OIDCProvider, claims: Mapping[str, Any], subject: str, email: str, now: datetime
) -> User:
    existing = await User.get_or_none(email=email)
    if existing is not None:
        if existing.email_verified_at is None:
            raise SignInRefused(
                f"An account with {email} exists here but has not confirmed its address yet. Sign in with "
                f"an e-mailed link first (it confirms the address); then you can sign in with "
                f"{provider.display_name}."
            )
        await _link(provider, subject, email, existing, now)
        return existing
    display = " ".join(str(claims.get("name") or claims.get("preferred_username") or "").split())
    display = display[: accounts.MAX_NAME_LENGTH] or email.split("@")[0][: accounts.MAX_NAME_LENGTH]
    try:
        async with in_transaction():
            user = await User.create(email=email, name=display, role="member", email_verified_at=now)
            await Identity.create(
                provider=provider.name, subject=subject, user=user, email=email, last_used_at=now
            )
    except IntegrityError:
        raise SignInFailed(_RACE) from None
    return user


async def identities_of(user: User) -> list[Identity]:
    return await Identity.filter(user=user).order_by("provider")


def routes() -> list[BaseRoute]:
    return [
        Route("/auth/oidc/{provider}", start),
        Route("/auth/oidc/{provider}/callback", callback),
    ]
