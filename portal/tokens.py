"""Signed links for e-mail: a purpose, an expiry, and (for most) a single use.

A token is an `itsdangerous` signature over a small payload, salted with its purpose so that a
verification link can never be used as a reset link. Expiry is checked from the signature's
timestamp. Single use is a row in `used_tokens` keyed by the token's digest, written in the same
transaction as what the link does: the unique index refuses the second use, even when two requests
race.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from tortoise.exceptions import IntegrityError

from portal.errors import HearkenError
from portal.models import UsedToken


@dataclass(frozen=True)
class Purpose:
    name: str
    max_age: timedelta | None  # None: never expires (unsubscribe links)
    single_use: bool


VERIFY = Purpose("verify", timedelta(days=2), single_use=True)
RESET = Purpose("reset", timedelta(hours=1), single_use=True)
SIGNIN = Purpose("signin", timedelta(minutes=20), single_use=True)
CHANGE_EMAIL = Purpose("change_email", timedelta(days=2), single_use=True)
UNSUBSCRIBE = Purpose("unsubscribe", None, single_use=False)


class LinkProblem(HearkenError):
    """A link that cannot be used; `reason` is one of expired, invalid, used, superseded."""

    status = 400
    title = "This link cannot be used"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


_DETAILS = {
    "expired": "This link has expired. Links in our e-mails work for a limited time; ask for a new one.",
    "invalid": "This link is not valid. Check that you copied the whole address from the e-mail.",
    "used": "This link was used already, and works only once. Ask for a new one if you still need it.",
    "superseded": "This link no longer works: the account changed after it was sent. Ask for a new one.",
}


def problem(reason: str) -> LinkProblem:
    return LinkProblem(reason, _DETAILS[reason])


def _serializer(secret: str, purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"hearken.link.{purpose.name}")


def make(secret: str, purpose: Purpose, payload: dict[str, Any]) -> str:
    return _serializer(secret, purpose).dumps(payload)


def read(secret: str, purpose: Purpose, token: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The payload of a genuine, unexpired token; `LinkProblem` otherwise. Does not check reuse."""
    serializer = _serializer(secret, purpose)
    try:
        payload, signed_at = serializer.loads(token, return_timestamp=True)
    except SignatureExpired:  # only raised with max_age, which we check ourselves below
        raise problem("expired") from None
    except BadSignature:
        raise problem("invalid") from None
    if not isinstance(payload, dict):
        raise problem("invalid")
    if purpose.max_age is not None:
        age = (now or datetime.now(UTC)) - signed_at
        if age > purpose.max_age:
            raise problem("expired")
    return payload


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def is_used(token: str) -> bool:
    return await UsedToken.exists(digest=digest(token))


async def use(purpose: Purpose, token: str, *, now: datetime | None = None) -> None:
    """Records the single use of `token`; `LinkProblem("used")` when it was used before.

    Call it inside the transaction that does what the link is for, so that both commit or neither.
    On PostgreSQL the failed insert aborts that transaction: let `LinkProblem` end it.
    """
    at = now or datetime.now(UTC)
    lifetime = purpose.max_age or timedelta(days=365)
    try:
        await UsedToken.create(digest=digest(token), purpose=purpose.name, expires_at=at + lifetime)
    except IntegrityError:
        raise problem("used") from None


async def forget_expired(now: datetime | None = None) -> int:
    """Deletes records of used tokens that would be refused on their age anyway."""
    return await UsedToken.filter(expires_at__lt=now or datetime.now(UTC)).delete()
