"""E-mailed links: address verification, sign-in by link, password reset, change of address.

Asking for a link writes an outbox row naming the account, never the link: the worker signs the
link when it sends the mail (see the composers at the end). Using a link checks its signature,
purpose, age and binding (the address it was for, the password or session it may replace), then
records its single use in the same transaction as its effect.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from portal import accounts, outbox, tokens
from portal.errors import Errors, Invalid
from portal.mail import Mail, composer, link, render
from portal.models import ApiToken, Identity, User
from portal.passwords import hash_password, verify_password
from portal.settings import Settings


def _now() -> datetime:
    return datetime.now(UTC)


def password_fingerprint(user: User) -> str:
    """Changes whenever the password does, so a reset link dies with the password it was sent for."""
    return hashlib.sha256((user.password_hash or "none").encode()).hexdigest()[:16]


# Asking for links. Each answers the same whether or not the address has an account.


async def request_signin_link(email: str) -> None:
    user = await User.get_or_none(email=accounts.normalize_email(email))
    if user is not None and user.banned_at is None:
        await outbox.enqueue_mail("signin_link", user_id=user.id)
        outbox.nudge()


async def request_password_reset(email: str) -> None:
    user = await User.get_or_none(email=accounts.normalize_email(email))
    if user is not None and user.banned_at is None:
        await outbox.enqueue_mail("reset", user_id=user.id)
        outbox.nudge()


async def resend_verification(*, actor: User) -> None:
    if actor.email_verified_at is None:
        await outbox.enqueue_mail("verify", user_id=actor.id, next="/account")
        outbox.nudge()


async def request_email_change(*, actor: User, email: str, password: str) -> str:
    """Mails a confirmation link to the new address (and a notice to the old one); returns the new
    address. A taken address gets a mail saying so, and this answer is the same."""
    errors = Errors()
    new = accounts.check_email(email, errors)
    if not errors and new == actor.email:
        errors.add("email", "This is your address already.")
    if actor.password_hash is not None and not await verify_password(actor.password_hash, password):
        errors.add("password", "The password is wrong.")
    errors.raise_if_any()
    async with in_transaction():
        if await User.exists(email=new):
            await outbox.enqueue_mail("email_taken", to=new)
        else:
            await outbox.enqueue_mail("change_email", user_id=actor.id, email=new, previous=actor.email)
            await outbox.enqueue_mail("change_email_notice", user_id=actor.id, email=new, to=actor.email)
    outbox.nudge()
    return new


# Using links.


async def check(settings: Settings, purpose: tokens.Purpose, token: str) -> tuple[dict[str, Any], User]:
    """The payload and account of a link that can still be used; `LinkProblem` otherwise."""
    payload = tokens.read(settings.secret_key, purpose, token)
    user = await User.get_or_none(id=payload.get("u", 0))
    if user is None or user.banned_at is not None:
        raise tokens.problem("invalid")
    if purpose.single_use and await tokens.is_used(token):
        raise tokens.problem("used")
    _check_binding(purpose, payload, user)
    return payload, user


def _check_binding(purpose: tokens.Purpose, payload: dict[str, Any], user: User) -> None:
    if purpose is tokens.VERIFY and payload.get("e") != user.email:
        raise tokens.problem("superseded")
    # Signing out everywhere (a claim of the address, a new password) ends a pending change too.
    moved_on = payload.get("f") != user.email or payload.get("v") != user.session_version
    if purpose is tokens.CHANGE_EMAIL and moved_on:
        raise tokens.problem("superseded")
    if purpose is tokens.SIGNIN and payload.get("v") != user.session_version:
        raise tokens.problem("superseded")
    if purpose is tokens.RESET and payload.get("h") != password_fingerprint(user):
        raise tokens.problem("superseded")


async def _use(
    settings: Settings, purpose: tokens.Purpose, token: str, effect: Callable[[User], Awaitable[None]]
) -> tuple[dict[str, Any], User]:
    payload, user = await check(settings, purpose, token)
    async with in_transaction():
        await tokens.use(purpose, token)
        # Read again under the transaction: the binding must still hold as the link is used.
        user = await User.get(id=user.id).select_for_update()
        _check_binding(purpose, payload, user)
        await effect(user)
    return payload, user


async def _claimed(user: User) -> bool:
    """Clears what was set on an account before its address was ever proven; whether it did.

    Anyone may sign up with an address that is not theirs and set a password, make API tokens and
    link a sign-in provider while the owner has not yet come. When the owner proves the address with
    a link they asked for (sign-in, reset), all of that is dropped and every session signed out, so
    nothing the squatter set survives the owner's claim (pre-account takeover).
    """
    if user.email_verified_at is not None:
        return False
    user.password_hash, user.session_version = None, user.session_version + 1
    await User.filter(id=user.id).update(password_hash=None, session_version=user.session_version)
    await ApiToken.filter(user_id=user.id, revoked_at=None).update(revoked_at=_now())
    await Identity.filter(user_id=user.id).delete()
    return True


async def _verified(settings: Settings, user: User) -> None:
    if user.email_verified_at is None:
        user.email_verified_at = _now()
        await User.filter(id=user.id).update(email_verified_at=user.email_verified_at)
    await accounts.promote_by_domain(settings, user)


async def confirm_address(
    settings: Settings, token: str, *, signer: bool, disowned: bool = False
) -> tuple[User, str, bool]:
    """Marks the address verified; returns the account, where to go next, and whether what was set
    on it before was cleared (`_claimed`).

    The link is mailed because someone signed up with the address, who need not be its owner.
    `signer`: the link is opened where the sign-up was made (the same browser session), so whoever
    opens it both signed up and reads the mail. `disowned`: the owner says the sign-up was not
    theirs, and the account becomes theirs. An address that makes its account staff
    (HEARKEN_STAFF_EMAIL_DOMAINS) confirmed anywhere but by the signer is claimed too: staff rights
    never go to a password the owner may not have chosen.
    """
    cleared = False

    async def effect(user: User) -> None:
        nonlocal cleared
        to_staff = user.role == "member" and accounts.is_staff_domain(settings, user.email)
        if disowned or (to_staff and not signer):
            cleared = await _claimed(user)
        await _verified(settings, user)

    payload, user = await _use(settings, tokens.VERIFY, token, effect)
    return user, str(payload.get("n") or "/"), cleared


async def sign_in_by_link(settings: Settings, token: str) -> tuple[User, bool]:
    """The account a sign-in link is for, and whether what was set on it before its address was
    proven is cleared (`_claimed`); opening the link proves the address, so it is verified too."""
    claimed = False

    async def effect(user: User) -> None:
        nonlocal claimed
        claimed = await _claimed(user)
        await _verified(settings, user)

    _payload, user = await _use(settings, tokens.SIGNIN, token, effect)
    return user, claimed


async def reset_password(settings: Settings, token: str, password: str) -> User:
    """Sets a new password, signs the account out everywhere, and verifies the address."""
    errors = Errors()
    accounts.check_password(password, errors, "password")
    errors.raise_if_any()
    await check(settings, tokens.RESET, token)
    new_hash = await hash_password(password)

    async def effect(user: User) -> None:
        await _claimed(user)
        user.password_hash = new_hash
        user.session_version += 1
        await User.filter(id=user.id).update(password_hash=new_hash, session_version=user.session_version)
        await _verified(settings, user)

    _payload, user = await _use(settings, tokens.RESET, token, effect)
    return user


async def confirm_email_change(settings: Settings, token: str, *, holder: bool) -> User:
    """Moves the account to the new address the link was mailed to. `holder`: the link is opened
    in a browser signed in to the account. An address that gives staff rights is taken only there:
    whoever reads that mailbox must not hand staff rights to an account someone else holds."""
    payload = tokens.read(settings.secret_key, tokens.CHANGE_EMAIL, token)
    new = str(payload.get("e", ""))

    async def effect(user: User) -> None:
        if await User.exists(email=new):
            raise Invalid({"email": f"{new} belongs to another account now; the change is not made."})
        if user.role == "member" and accounts.is_staff_domain(settings, new) and not holder:
            raise Invalid(
                {
                    "email": f"{new} gives staff rights here, so it is confirmed only in a browser signed"
                    " in to the account that asked for it: sign in there and open the link again."
                }
            )
        user.email, user.email_verified_at = new, _now()
        await User.filter(id=user.id).update(email=new, email_verified_at=user.email_verified_at)
        await accounts.promote_by_domain(settings, user)

    try:
        _payload, user = await _use(settings, tokens.CHANGE_EMAIL, token, effect)
    except IntegrityError:  # the address was taken between the check and the update
        raise Invalid({"email": f"{new} belongs to another account now; the change is not made."}) from None
    return user


# The mails. Links are signed here, when the mail is sent.


async def _account(payload: dict[str, Any]) -> User | None:
    user = await User.get_or_none(id=payload.get("user_id", 0))
    return None if user is None or user.banned_at is not None else user


def _signin_link(settings: Settings, user: User) -> str:
    return link(settings, "/auth/link", tokens.SIGNIN, {"u": user.id, "v": user.session_version})


@composer("verify")
async def _verify_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None or user.email_verified_at is not None:
        return None
    # "s": the mark the sign-up left in the signer's browser session (`link_routes.verify`).
    claims = {"u": user.id, "e": user.email, "n": payload.get("next"), "s": payload.get("signer")}
    url = link(settings, "/auth/verify", tokens.VERIFY, claims)
    hours = int(tokens.VERIFY.max_age.total_seconds() // 3600)  # type: ignore[union-attr]
    return render(settings, "verify", {"user": user, "url": url, "hours": hours}, to=user.email)


@composer("signup_exists")
async def _signup_exists_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None:
        return None
    context = {
        "user": user,
        "signin_url": None if accounts.signin_refusal(settings, user, None) else _signin_link(settings, user),
        "reset_url": f"{settings.base_url}/auth/reset",
    }
    return render(settings, "signup_exists", context, to=user.email)


@composer("signin_link")
async def _signin_link_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None:
        return None
    refusal = accounts.signin_refusal(settings, user, None)
    url = None if refusal else _signin_link(settings, user)
    minutes = int(tokens.SIGNIN.max_age.total_seconds() // 60)  # type: ignore[union-attr]
    context = {"user": user, "url": url, "refusal": refusal, "minutes": minutes}
    return render(settings, "signin_link", context, to=user.email)


@composer("reset")
async def _reset_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None:
        return None
    url = link(settings, "/auth/reset", tokens.RESET, {"u": user.id, "h": password_fingerprint(user)})
    minutes = int(tokens.RESET.max_age.total_seconds() // 60)  # type: ignore[union-attr]
    return render(settings, "reset", {"user": user, "url": url, "minutes": minutes}, to=user.email)


@composer("change_email")
async def _change_email_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None or user.email != payload.get("previous"):
        return None
    new = str(payload["email"])
    claims = {"u": user.id, "e": new, "f": user.email, "v": user.session_version}
    url = link(settings, "/auth/email", tokens.CHANGE_EMAIL, claims)
    return render(settings, "change_email", {"user": user, "url": url, "email": new}, to=new)


@composer("change_email_notice")
async def _change_email_notice(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _account(payload)
    if user is None:
        return None
    context = {
        "user": user,
        "email": payload.get("email", ""),
        "reset_url": f"{settings.base_url}/auth/reset",
    }
    return render(settings, "change_email_notice", context, to=str(payload["to"]))


@composer("email_taken")
async def _email_taken_mail(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    context = {
        "reset_url": f"{settings.base_url}/auth/reset",
        "signin_url": f"{settings.base_url}/auth/signin",
    }
    return render(settings, "email_taken", context, to=str(payload["to"]))
