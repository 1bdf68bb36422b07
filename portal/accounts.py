"""Accounts: sign-up, sign-in and its rules, users made by administrators, and personal API tokens.

Answers never tell whether an address has an account: sign-up with a taken address answers like a
new sign-up ("check your mail") and mails the owner instead.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from portal import outbox, permissions, sql
from portal.errors import Errors, Invalid, NotFound
from portal.models import ROLES, ApiToken, User
from portal.passwords import hash_password, verify_password
from portal.settings import Settings

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
MAX_NAME_LENGTH = 80
TOKEN_PREFIX = "hk_"
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is proven by the
# verification mail, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_WRONG_CREDENTIALS = "E-mail or password is wrong."


def now() -> datetime:
    return datetime.now(UTC)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(email: str, errors: Errors, field: str = "email") -> str:
    email = normalize_email(email)
    if not email:
        errors.add(field, "Enter your e-mail address.")
    elif len(email) > 254 or not _EMAIL.match(email):
        errors.add(field, "Enter a valid e-mail address, like name@example.com.")
    return email


def check_name(name: str, errors: Errors, field: str = "name") -> str:
    name = " ".join(name.split())
    if not name:
        errors.add(field, "Enter a name to show beside your posts.")
    elif len(name) > MAX_NAME_LENGTH:
        errors.add(field, f"Use at most {MAX_NAME_LENGTH} characters.")
    return name


def check_password(password: str, errors: Errors, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add(field, f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.add(field, f"Use at most {MAX_PASSWORD_LENGTH} characters.")


def check_role(role: str, errors: Errors, field: str = "role") -> str:
    role = role.strip().lower()
    if role not in ROLES:
        errors.add(field, f"Choose one of {', '.join(ROLES)}.")
    return role


async def sign_up(*, email: str, name: str, password: str, next_url: str = "/", signer: str = "") -> None:
    """Creates an unverified account and mails a verification link; if the address has an account
    already, mails its owner instead. Both cost the same and return the same, so that the answer
    reveals nothing; invalid input is the only error. `signer` is a secret mark the signing-up
    browser keeps: the link carries it, so opening the link there can be told apart from elsewhere."""
    errors = Errors()
    email = check_email(email, errors)
    name = check_name(name, errors)
    check_password(password, errors)
    errors.raise_if_any()
    password_hash = await hash_password(password)
    try:
        async with in_transaction():
            user = await User.create(email=email, name=name, role="member", password_hash=password_hash)
            await outbox.enqueue_mail("verify", user_id=user.id, next=next_url, signer=signer)
    except IntegrityError:
        owner = await User.get_or_none(email=email)
        if owner is not None and owner.banned_at is None:
            await outbox.enqueue_mail("signup_exists", user_id=owner.id)
    outbox.nudge()


# Rules for how staff sign in, and who becomes staff.

PRIVILEGED_ROLES = frozenset({"staff", "community_manager", "admin"})


def signin_refusal(settings: Settings, user: User, provider: str | None) -> str | None:
    """Why `user` may not sign in this way (`provider` None: password or e-mailed link), or None.

    With HEARKEN_STAFF_SIGNIN_PROVIDER set, every role but member signs in with that provider only.
    """
    if user.banned_at is not None:
        return "This account is suspended."
    required = settings.staff_signin_provider
    if required is None or user.role not in PRIVILEGED_ROLES or provider == required:
        return None
    chosen = settings.oidc_provider(required)
    label = chosen.display_name if chosen is not None else required
    return f"Staff sign in with {label}: use the “Sign in with {label}” button."


def is_staff_domain(settings: Settings, email: str) -> bool:
    return email.rpartition("@")[2].lower() in settings.staff_email_domains


async def promote_by_domain(settings: Settings, user: User) -> None:
    """A member whose verified address is at a staff domain (HEARKEN_STAFF_EMAIL_DOMAINS) becomes
    staff; nobody is ever demoted by this rule."""
    if user.role == "member" and user.email_verified_at is not None and is_staff_domain(settings, user.email):
        await User.filter(id=user.id, role="member").update(role="staff")
        user.role = "staff"


async def rename(*, actor: User | None, name: str) -> User:
    """Changes the name shown beside the member's posts."""
    permissions.require(actor, "account.view")
    assert actor is not None
    errors = Errors()
    name = check_name(name, errors)
    errors.raise_if_any()
    await User.filter(id=actor.id).update(name=name)
    actor.name = name
    return actor


async def change_password(*, actor: User | None, current: str, new: str) -> User:
    """Sets a new password (the current one first, when there is one) and signs every session out,
    so one that someone else holds ends; the caller signs this one in again."""
    permissions.require(actor, "account.view")
    assert actor is not None
    errors = Errors()
    if actor.password_hash is not None and not await verify_password(actor.password_hash, current):
        errors.add("current_password", "The password is wrong.")
    check_password(new, errors, "new_password")
    errors.raise_if_any()
    actor.password_hash, actor.session_version = await hash_password(new), actor.session_version + 1
    await User.filter(id=actor.id).update(
        password_hash=actor.password_hash, session_version=actor.session_version
    )
    return actor


async def authenticate(*, email: str, password: str) -> User:
    """The user with these credentials; one message for every failure, so nothing is revealed."""
    user = await User.get_or_none(email=normalize_email(email))
    ok = await verify_password(user.password_hash if user else None, password)
    if user is None or not ok:
        raise Invalid({"password": _WRONG_CREDENTIALS}, detail=_WRONG_CREDENTIALS)
    if user.banned_at is not None:
        raise Invalid({"email": "This account is suspended."})
    return user


async def create_user(
    *,
    actor: User | None,
    email: str,
    role: str,
    password: str | None = None,
    name: str | None = None,
) -> User:
    """An account made by an administrator (or the command line, `actor=None`): verified at once."""
    if actor is not None:
        permissions.require(actor, "users.manage")
    errors = Errors()
    email = check_email(email, errors)
    role = check_role(role, errors)
    name = check_name(name if name is not None else email.split("@")[0], errors)
    if password is not None:
        check_password(password, errors)
    errors.raise_if_any()
    return await _insert_user(email=email, name=name, role=role, password=password, verified=True)


async def _insert_user(*, email: str, name: str, role: str, password: str | None, verified: bool) -> User:
    password_hash = await hash_password(password) if password else None
    try:
        async with in_transaction():
            return await User.create(
                email=email,
                name=name,
                role=role,
                password_hash=password_hash,
                email_verified_at=now() if verified else None,
            )
    except IntegrityError:
        raise Invalid({"email": "An account with this e-mail address already exists."}) from None


@dataclass(frozen=True)
class ImportRow:
    line: int
    email: str
    name: str
    role: str


async def import_users(csv_text: str) -> list[User]:
    """Creates one verified account per row, all or none; bad rows are reported by line number."""
    reader = csv.DictReader(io.StringIO(csv_text))
    missing = {"email", "name", "role"} - {(f or "").strip().lower() for f in reader.fieldnames or []}
    if missing:
        raise Invalid({"line 1": f"missing column(s): {', '.join(sorted(missing))}"})
    problems: dict[str, str] = {}
    rows: list[ImportRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        values = {(k or "").strip().lower(): (v or "") for k, v in record.items()}
        errors = Errors()
        email = check_email(values.get("email", ""), errors)
        name = check_name(values.get("name", ""), errors)
        role = check_role(values.get("role", ""), errors)
        if email in seen:
            errors.add("email", f"{email} is also on line {seen[email]}")
        seen.setdefault(email, line)
        if errors:
            problems[f"line {line}"] = "; ".join(f"{k}: {v}" for k, v in errors._errors.items())
        else:
            rows.append(ImportRow(line, email, name, role))
    taken = set(await User.filter(email__in=[r.email for r in rows]).values_list("email", flat=True))
    for row in rows:
        if row.email in taken:
            problems[f"line {row.line}"] = f"email: {row.email} already has an account"
    if problems:
        raise Invalid(dict(sorted(problems.items(), key=lambda kv: int(kv[0].split()[1]))))
    if not rows:
        raise Invalid({"file": "no rows to import"})
    async with in_transaction():
        created = [
            await User.create(email=r.email, name=r.name, role=r.role, email_verified_at=now()) for r in rows
        ]
    return created


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(*, actor: User | None, owner: User, name: str = "") -> str:
    """A new personal API token for `owner`; the clear text is returned once and never stored."""
    if actor is not None:
        permissions.require(actor, "token.manage", owner)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.create(
        user=owner, name=name.strip()[:80], token_hash=_token_hash(token), prefix=token[:10]
    )
    return token


async def create_tokens_for(emails: Iterable[str]) -> list[str]:
    """One token per e-mail, in order; all or none (an unknown e-mail fails the whole call)."""
    emails = [normalize_email(e) for e in emails]
    users = {u.email: u for u in await User.filter(email__in=emails)}
    unknown = [e for e in emails if e not in users]
    if unknown:
        raise Invalid({"email": f"no account for {', '.join(unknown)}"})
    async with in_transaction():
        return [await create_token(actor=None, owner=users[e], name="command line") for e in emails]


async def revoke_token(*, actor: User, token_id: int) -> None:
    token = await ApiToken.get_or_none(id=token_id).prefetch_related("user")
    if token is None:
        # The same answer as for someone else's token, so token ids reveal nothing.
        raise NotFound()
    permissions.require(actor, "token.manage", token.user, hide=True)
    await ApiToken.filter(id=token_id, revoked_at=None).update(revoked_at=now())


async def user_for_token(token: str) -> User | None:
    """The active owner of a valid, unrevoked token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    # One statement on every API request (a join; `prefetch_related` would be two).
    rows = await sql.fetch(_TOKEN_OWNER, _token_hash(token))
    return sql.as_model(User, rows[0]) if rows else None


_TOKEN_OWNER = (
    "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id"
    " WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.banned_at IS NULL"
)


async def tokens_of(user: User) -> list[ApiToken]:
    return await ApiToken.filter(user=user).order_by("-created_at")


async def create_unverified(*, email: str, name: str = "") -> User:
    """An account made for a customer by staff (a vote on their behalf): no password, unverified.

    The customer takes it over by verifying the address (e-mailed link), like any sign-up.
    """
    errors = Errors()
    email = check_email(email, errors)
    name = check_name(name or email.split("@")[0], errors)
    errors.raise_if_any()
    existing = await User.get_or_none(email=email)
    if existing is not None:
        return existing
    return await _insert_user(email=email, name=name, role="member", password=None, verified=False)
