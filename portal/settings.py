"""Settings read once from the environment; a bad value stops the start with one clear line."""

from __future__ import annotations

import os
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

    @property
    def production(self) -> bool:
        return self.env == "production"

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

        secret_key = get("HEARKEN_SECRET_KEY")
        if secret_key is None:
            if mode == "production":
                raise SettingsError("HEARKEN_SECRET_KEY is required when HEARKEN_ENV=production")
            secret_key = _local_secret(database_url)
        elif len(secret_key) < _MIN_SECRET_LENGTH:
            raise SettingsError(f"HEARKEN_SECRET_KEY must be at least {_MIN_SECRET_LENGTH} characters long")
        if mode == "production" and not base_url.startswith("https://"):
            raise SettingsError("HEARKEN_BASE_URL must be an https:// URL in production")

        return cls(
            database_url=database_url,
            secret_key=secret_key,
            base_url=base_url,
            env=mode,
            smtp_url=smtp_url,
            redis_url=redis_url,
            site_name=get("HEARKEN_SITE_NAME") or cls.site_name,
            media_dir=get("HEARKEN_MEDIA_DIR") or cls.media_dir,
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
