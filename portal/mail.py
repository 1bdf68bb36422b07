"""E-mail: messages rendered from templates (plain text and HTML), and the ways to send them.

`compose` turns an outbox row's payload into a `Mail` at delivery time, so links are signed then
and never stored. A transport sends it: `SMTPTransport` through `aiosmtplib` when HEARKEN_SMTP_URL is
set, else `KeepTransport`, which keeps it in the database for reading at /staff/mail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from portal import notifications, tokens
from portal.models import KeptMail, Notification, User
from portal.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"], default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class PermanentFailure(Exception):
    """Sending can never work (the address is refused): the outbox gives up at once."""


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str] = field(default_factory=dict)


def render(
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    to: str,
    unsubscribe_url: str | None = None,
) -> Mail:
    """`templates/portal/email/{template}.txt` and `.html`; the text one sets `subject`."""
    ctx = {
        "site_name": settings.site_name,
        "base_url": settings.base_url,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": f"{settings.base_url}/account/notifications",
        **context,
    }
    text_module = _env.get_template(f"portal/email/{template}.txt").make_module(ctx)
    subject = " ".join(str(getattr(text_module, "subject", settings.site_name)).split())
    html = _env.get_template(f"portal/email/{template}.html").render(ctx | {"subject": subject})
    headers: dict[str, str] = {}
    if unsubscribe_url:
        # RFC 8058: mail clients offer "unsubscribe" and POST "List-Unsubscribe=One-Click" to the URL.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return Mail(to=to, subject=subject, text=str(text_module).strip() + "\n", html=html, headers=headers)


def to_message(settings: Settings, mail: Mail, *, ref: str | None = None) -> EmailMessage:
    """The MIME message; `ref` (the outbox row) makes the Message-ID stable, so a re-sent copy of the
    same row carries the same id and mail clients can show it once."""
    host = urlsplit(settings.base_url).hostname or "localhost"
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    seed = ref if ref is not None else f"{mail.to}:{datetime.now(UTC).timestamp()}"
    message["Message-ID"] = f"<{hashlib.sha256(seed.encode()).hexdigest()[:32]}@{host}>"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message


class Transport(Protocol):
    async def send(self, message: EmailMessage, *, outbox_id: int | None = None) -> None: ...


class SMTPTransport:
    """Sends through the server of `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://`."""

    def __init__(self, url: str, *, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.hostname = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    async def send(self, message: EmailMessage, *, outbox_id: int | None = None) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.hostname,
                port=self.port,
                username=self.username,
                password=self.password,
                use_tls=self.implicit_tls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc.recipients}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentFailure(f"{exc.code} {exc.message}") from exc
            raise


class KeepTransport:
    """Keeps each mail in the database (table kept_mail), for /staff/mail, when there is no SMTP."""

    async def send(self, message: EmailMessage, *, outbox_id: int | None = None) -> None:
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        await KeptMail.create(
            outbox_id=outbox_id,
            recipient=str(message["To"]),
            subject=str(message["Subject"]),
            text=text.get_content() if text is not None else "",  # type: ignore[attr-defined]
            html=html.get_content() if html is not None else "",  # type: ignore[attr-defined]
            headers={k: str(v) for k, v in message.items()},
        )


def transport_for(settings: Settings) -> Transport:
    return SMTPTransport(settings.smtp_url) if settings.smtp_url else KeepTransport()


# Composing: one function per kind of mail, from the outbox payload.

Composer = Callable[[Settings, dict[str, Any]], Awaitable[Mail | None]]
_composers: dict[str, Composer] = {}


def composer(name: str) -> Callable[[Composer], Composer]:
    def register(fn: Composer) -> Composer:
        _composers[name] = fn
        return fn

    return register


async def compose(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    """The mail for an outbox payload, or None when there is nothing to send any more (the account
    is gone or banned, the member unsubscribed)."""
    import portal.links  # noqa: F401 -- registers the account mails (it imports this module)

    name = payload.get("template", "notification")
    try:
        make = _composers[name]
    except KeyError:
        raise PermanentFailure(f"no mail template {name!r}") from None
    return await make(settings, payload)


def absolute(settings: Settings, url: str) -> str:
    return settings.base_url + url if url.startswith("/") else url


def link(settings: Settings, path: str, purpose: tokens.Purpose, payload: dict[str, Any]) -> str:
    return f"{settings.base_url}{path}/{tokens.make(settings.secret_key, purpose, payload)}"


async def _recipient(payload: dict[str, Any]) -> User | None:
    user = await User.get_or_none(id=payload.get("user_id", 0))
    return None if user is None or user.banned_at is not None else user


def unsubscribe_url(settings: Settings, user: User, kind: str) -> str:
    return link(settings, "/unsubscribe", tokens.UNSUBSCRIBE, {"u": user.id, "k": kind})


@composer("notification")
async def _notification(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _recipient(payload)
    kind = str(payload.get("kind", ""))
    if user is None or await notifications.mode_for(user.id, kind) == "never":
        return None
    context = {
        "user": user,
        "kind_label": notifications.kind(kind).label,
        "title": payload.get("title", ""),
        "body": payload.get("body", ""),
        "url": absolute(settings, str(payload.get("url", "")) or "/notifications"),
    }
    unsubscribe = unsubscribe_url(settings, user, kind)
    return render(settings, "notification", context, to=user.email, unsubscribe_url=unsubscribe)


@composer("digest")
async def _digest(settings: Settings, payload: dict[str, Any]) -> Mail | None:
    user = await _recipient(payload)
    if user is None:
        return None
    items = await Notification.filter(user_id=user.id, id__in=payload.get("notification_ids", [])).order_by(
        "created_at", "id"
    )
    items = await notifications.still_readable(user, list(items))  # a day may have changed who sees what
    if not items:
        return None
    entries = [
        {"title": n.title, "body": n.body, "url": absolute(settings, n.url or "/notifications")}
        for n in items
    ]
    return render(
        settings,
        "digest",
        {"user": user, "items": entries},
        to=user.email,
        unsubscribe_url=unsubscribe_url(settings, user, notifications.DIGEST),
    )
