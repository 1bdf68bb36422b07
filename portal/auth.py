"""Who is asking: the session's user, or a bearer token's owner (`request.user`)."""

from __future__ import annotations

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    UnauthenticatedUser,
)
from starlette.requests import HTTPConnection, Request

from portal import accounts, sql
from portal.models import User

_USER_KEY = "uid"
_VERSION_KEY = "sv"


class PortalAuthBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is not None:
            if not conn.url.path.startswith("/api/") and conn.scope.get("method") not in ("GET", "HEAD"):
                # Outside the API a token may read (a staff export, a feed) but not act: on the
                # pages' forms it could, say, choose a password for an account without one and turn
                # a leaked token into a lasting sign-in.
                raise AuthenticationError("API tokens change things through the JSON API (/api/v1/...) only.")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise AuthenticationError("Authorization must be 'Bearer <token>'.")
            user = await accounts.user_for_token(token.strip())
            if user is None:
                raise AuthenticationError("The API token is invalid or revoked.")
            return AuthCredentials(["authenticated", "token"]), user  # type: ignore[return-value]
        uid = conn.session.get(_USER_KEY)
        if uid is None:
            return None
        found = await sql.fetch("SELECT * FROM users WHERE id = $1", uid)  # every page: no ORM query building
        user = sql.as_model(User, found[0]) if found else None
        if user is None or user.banned_at is not None:
            conn.session.clear()
            return None
        if conn.session.get(_VERSION_KEY) != user.session_version:
            conn.session.clear()
            return None
        return AuthCredentials(["authenticated", "session"]), user  # type: ignore[return-value]


def current_user(request: HTTPConnection) -> User | None:
    user = request.scope.get("user")
    return user if isinstance(user, User) else None


def sign_in(request: Request, user: User) -> None:
    # A fresh session on sign-in, so a token planted before sign-in is worthless afterwards.
    request.session.clear()
    request.session[_USER_KEY] = user.id
    request.session[_VERSION_KEY] = user.session_version


def sign_out(request: Request) -> None:
    request.session.clear()


def anonymous() -> UnauthenticatedUser:
    return UnauthenticatedUser()
