"""Settings read once from the environment; a bad value stops the start with one clear line."""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

ENVIRONMENTS = ("development", "production")
DEFAULT_DATABASE_URL = "sqlite://hearken.sqlite3"
_SECRET_FILE = ".hearken-secret"
_MIN_SECRET_LENGTH = 32


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what is expected."""


_PROVIDER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class OIDCProvider:
    """One OpenID Connect provider that members may sign in with (HEARKEN_OIDC_PROVIDERS)."""

    name: str  # stable key in URLs and the identity table: "google", "company"
    issuer: str  # discovery is read from {issuer}/.well-known/openid-configuration
    client_id: str
    client_secret: str = field(default="", repr=False)
    label: str = ""  # the button says "Sign in with {label}"
    enabled: bool = True
    scope: str = "openid email profile"

    @property
    def display_name(self) -> str:
        return self.label or self.name.title()


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = field(default="", repr=False)
    base_url: str = "http://127.0.0.1:8000"
    env: str = "development"
    smtp_url: str | None = None
    redis_url: str | None = None
    site_name: str = "Hearken"
    # Uploaded images, when kept on local disk (relative paths are from the working folder).
    media_dir: str = "var/media"
    # Feature packages are loaded by name so that `portal` never imports them.
    features: tuple[str, ...] = ("ideas", "voting", "rewards")
    signin_limit: str = "10/minute"
    write_limit: str = "60/minute"
    # Per address, and generous: an office of hundreds of members may share one address.
    write_limit_per_address: str = "1200/minute"
    vote_limit: str = "120/minute"
    vote_limit_per_address: str = "3000/minute"
    # Sign-in with OpenID Connect, and the rules for staff.
    oidc_providers: tuple[OIDCProvider, ...] = ()
    staff_signin_provider: str | None = None
    staff_email_domains: tuple[str, ...] = ()
    # Mail: the sender, and the hour (UTC) at which daily digests go out.
    mail_from: str = ""
    digest_hour: int = 7
    # Deliver the outbox from inside `hearken serve` (set by the command in development).
    serve_worker: bool = False
    # Tries of one webhook delivery before it shows as failed (the outbox backs off between tries).
    webhook_max_attempts: int = 5
    # Deliver webhooks to loopback and private-network addresses too (receivers beside the portal).
    webhook_private_addresses: bool = False

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sender(self) -> str:
        """The From of every mail: HEARKEN_MAIL_FROM, or the site's name at noreply@ its host."""
        if self.mail_from:
            return self.mail_from
        host = urlsplit(self.base_url).hostname or "localhost"
        return f"{self.site_name} <noreply@{host}>"

    def oidc_provider(self, name: str) -> OIDCProvider | None:
        return next((p for p in self.oidc_providers if p.name == name), None)

    @property
    def database_dialect(self) -> str:
        return "postgres" if self.database_url.startswith(("postgres", "postgresql")) else "sqlite"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        mode = get("HEARKEN_ENV") or "development"
        if mode not in ENVIRONMENTS:
            raise SettingsError(f"HEARKEN_ENV must be one of {', '.join(ENVIRONMENTS)}, not {mode!r}")
        database_url = _check_database_url(get("HEARKEN_DATABASE_URL") or DEFAULT_DATABASE_URL)
        base_url = _check_url(
            "HEARKEN_BASE_URL", get("HEARKEN_BASE_URL") or cls.base_url, ("http", "https")
        ).rstrip("/")
        smtp_url = get("HEARKEN_SMTP_URL")
        if smtp_url:
            _check_url("HEARKEN_SMTP_URL", smtp_url, ("smtp", "smtps"))
        redis_url = get("HEARKEN_REDIS_URL")
        if redis_url:
            _check_url("HEARKEN_REDIS_URL", redis_url, ("redis", "rediss"))

        providers = _oidc_providers(get("HEARKEN_OIDC_PROVIDERS"))
        secret_key = get("HEARKEN_SECRET_KEY")
        if secret_key is None:
            if mode == "production":
                raise SettingsError("HEARKEN_SECRET_KEY is required when HEARKEN_ENV=production")
            secret_key = _local_secret(database_url)
        elif len(secret_key) < _MIN_SECRET_LENGTH:
            raise SettingsError(f"HEARKEN_SECRET_KEY must be at least {_MIN_SECRET_LENGTH} characters long")
        if mode == "production" and not base_url.startswith("https://"):
            raise SettingsError("HEARKEN_BASE_URL must be an https:// URL in production")
        if mode == "production" and any(not p.issuer.startswith("https://") for p in providers):
            raise SettingsError("HEARKEN_OIDC_PROVIDERS: issuers must be https:// URLs in production")

        staff_provider = get("HEARKEN_STAFF_SIGNIN_PROVIDER")
        if staff_provider is not None and staff_provider not in {p.name for p in providers}:
            raise SettingsError(
                f"HEARKEN_STAFF_SIGNIN_PROVIDER names {staff_provider!r}, "
                "which is not a provider in HEARKEN_OIDC_PROVIDERS"
            )
        domains = tuple(
            d.strip().lower().lstrip("@") for d in (get("HEARKEN_STAFF_EMAIL_DOMAINS") or "").split(",")
        )
        digest_hour = get("HEARKEN_DIGEST_HOUR") or "7"
        if not digest_hour.isdigit() or not 0 <= int(digest_hour) <= 23:
            raise SettingsError(f"HEARKEN_DIGEST_HOUR must be an hour from 0 to 23, not {digest_hour!r}")
        serve_worker = (get("HEARKEN_SERVE_WORKER") or "0").lower()
        if serve_worker not in ("0", "1", "true", "false", "yes", "no"):
            raise SettingsError(f"HEARKEN_SERVE_WORKER must be 1 or 0, not {serve_worker!r}")

        webhook_attempts = get("HEARKEN_WEBHOOK_MAX_ATTEMPTS") or "5"
        if not webhook_attempts.isdigit() or not 1 <= int(webhook_attempts) <= 8:
            raise SettingsError(
                f"HEARKEN_WEBHOOK_MAX_ATTEMPTS must be a number from 1 to 8, not {webhook_attempts!r}"
            )

        private_hooks = (get("HEARKEN_WEBHOOK_PRIVATE_ADDRESSES") or "0").lower()
        if private_hooks not in ("0", "1", "true", "false", "yes", "no"):
            raise SettingsError(f"HEARKEN_WEBHOOK_PRIVATE_ADDRESSES must be 1 or 0, not {private_hooks!r}")

        return cls(
            database_url=database_url,
            secret_key=secret_key,
            base_url=base_url,
            env=mode,
            smtp_url=smtp_url,
            redis_url=redis_url,
            site_name=get("HEARKEN_SITE_NAME") or cls.site_name,
            media_dir=get("HEARKEN_MEDIA_DIR") or cls.media_dir,
            oidc_providers=providers,
            staff_signin_provider=staff_provider,
            staff_email_domains=tuple(d for d in domains if d),
            mail_from=get("HEARKEN_MAIL_FROM") or "",
            digest_hour=int(digest_hour),
            serve_worker=serve_worker in ("1", "true", "yes"),
            webhook_max_attempts=int(webhook_attempts),
            webhook_private_addresses=private_hooks in ("1", "true", "yes"),
            **_rate_limits(get),
        )


# Rate limits, each overridable as e.g. HEARKEN_VOTE_LIMIT="120/minute".
_LIMIT_FIELDS = (
    "signin_limit",
    "write_limit",
    "write_limit_per_address",
    "vote_limit",
    "vote_limit_per_address",
)


def _rate_limits(get: Callable[[str], str | None]) -> dict[str, str]:
    from limits import parse

    found: dict[str, str] = {}
    for name in _LIMIT_FIELDS:
        variable = "HEARKEN_" + name.upper()
        value = get(variable)
        if value is None:
            continue
        try:
            parse(value)
        except ValueError:
            raise SettingsError(f"{variable} must look like 60/minute or 1000/hour, not {value!r}") from None
        found[name] = value
    return found


_PROVIDER_KEYS = {"name", "issuer", "client_id", "client_secret", "label", "enabled", "scope"}


def _oidc_providers(raw: str | None) -> tuple[OIDCProvider, ...]:
    """Parses HEARKEN_OIDC_PROVIDERS: a JSON list of {name, issuer, client_id, client_secret, label}."""
    if raw is None:
        return ()
    where = "HEARKEN_OIDC_PROVIDERS"
    try:
        items = json.loads(raw)
    except ValueError:
        raise SettingsError(f"{where} must be a JSON list of providers") from None
    if not isinstance(items, list):
        raise SettingsError(f"{where} must be a JSON list of providers")
    providers: list[OIDCProvider] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise SettingsError(f"{where}: provider {n} must be a JSON object")
        unknown = set(item) - _PROVIDER_KEYS
        if unknown:
            raise SettingsError(f"{where}: provider {n} has unknown key(s) {', '.join(sorted(unknown))}")
        name = item.get("name")
        if not isinstance(name, str) or not _PROVIDER_NAME.match(name):
            raise SettingsError(f"{where}: provider {n} needs a name of lower-case letters, digits, - or _")
        if any(p.name == name for p in providers):
            raise SettingsError(f"{where}: provider name {name!r} is used twice")
        issuer = item.get("issuer")
        if not isinstance(issuer, str):
            raise SettingsError(f"{where}: provider {name!r} needs an issuer URL")
        _check_url(f"{where}: the issuer of {name!r}", issuer, ("https", "http"))
        client_id = item.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            raise SettingsError(f"{where}: provider {name!r} needs a client_id")
        values = {k: item[k] for k in ("client_secret", "label", "scope") if k in item}
        if not all(isinstance(v, str) for v in values.values()):
            raise SettingsError(f"{where}: client_secret, label and scope of {name!r} must be strings")
        enabled = item.get("enabled", True)
        if not isinstance(enabled, bool):
            raise SettingsError(f"{where}: enabled of {name!r} must be true or false")
        if "openid" not in values.get("scope", "openid").split():
            raise SettingsError(f"{where}: the scope of {name!r} must include openid")
        providers.append(
            OIDCProvider(name=name, issuer=issuer.rstrip("/"), client_id=client_id, enabled=enabled, **values)
        )
    return tuple(providers)


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname or not _port_ok(parts):
        raise SettingsError(f"{name} must be a {' or '.join(s + '://' for s in schemes)} URL, not {value!r}")
    return value


def _port_ok(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018 -- raises ValueError when the port is not a number in range
    except ValueError:
        return False
    return True


def _check_database_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        if not (parts.netloc or parts.path):
            raise SettingsError("HEARKEN_DATABASE_URL: a sqlite:// URL needs a file name")
        return value
    if parts.scheme in ("postgres", "postgresql"):
        if not parts.hostname or not parts.path.strip("/") or not _port_ok(parts):
            raise SettingsError(
                "HEARKEN_DATABASE_URL: a postgres:// URL needs a host, a database name and a valid port"
            )
        return value
    raise SettingsError(f"HEARKEN_DATABASE_URL must start with sqlite:// or postgres://, not {value!r}")


def sqlite_path(database_url: str) -> Path | None:
    if not database_url.startswith("sqlite://"):
        return None
    raw = database_url[len("sqlite://") :].split("?", 1)[0]
    return None if raw == ":memory:" else Path(raw)


def _local_secret(database_url: str) -> str:
    """A development secret, made once and kept beside the database so sessions survive restarts."""
    db_file = sqlite_path(database_url)
    folder = db_file.parent if db_file is not None else Path.cwd()
    path = folder / _SECRET_FILE
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if len(existing) >= _MIN_SECRET_LENGTH:
        return existing
    secret = secrets.token_urlsafe(48)
    folder.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret
