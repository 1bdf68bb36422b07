"""Settings come from the environment; a bad or missing one stops the start with one clear line."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

import pytest

from portal import cli
from portal.settings import Settings, SettingsError

GOOD_SECRET = "s" * 32


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default database (and so the local secret file) lives in the working directory.
    monkeypatch.chdir(tmp_path)


def env(**values: str) -> dict[str, str]:
    base = {"HEARKEN_SECRET_KEY": GOOD_SECRET}
    base.update({f"HEARKEN_{k.upper()}": v for k, v in values.items()})
    return base


def test_a_complete_production_environment_is_read() -> None:
    settings = Settings.from_env(
        env(
            env="production",
            database_url="postgres://hearken:pw@db.internal:5432/hearken?maxsize=20",
            base_url="https://ideas.example.com/",
            smtp_url="smtps://mailer:pw@smtp.example.com:465",
            redis_url="redis://cache.internal:6379/0",
            site_name="Acme Ideas",
        )
    )
    assert settings.production
    assert settings.database_dialect == "postgres"
    assert settings.database_url == "postgres://hearken:pw@db.internal:5432/hearken?maxsize=20"
    assert settings.base_url == "https://ideas.example.com"
    assert settings.smtp_url == "smtps://mailer:pw@smtp.example.com:465"
    assert settings.redis_url == "redis://cache.internal:6379/0"
    assert settings.site_name == "Acme Ideas"
    assert settings.secret_key == GOOD_SECRET
    assert GOOD_SECRET not in repr(settings)


def test_defaults_for_development(tmp_path: Path) -> None:
    settings = Settings.from_env({"HEARKEN_ENV": "  ", "HEARKEN_SMTP_URL": ""})
    assert settings.env == "development"
    assert settings.database_dialect == "sqlite"
    assert settings.database_url == "sqlite://hearken.sqlite3"
    assert settings.smtp_url is None and settings.redis_url is None
    assert (tmp_path / ".hearken-secret").read_text() == settings.secret_key


@pytest.mark.parametrize("value", ["staging", "prod", "Production", "test"])
def test_unknown_environment_is_refused(value: str) -> None:
    with pytest.raises(
        SettingsError, match=f"HEARKEN_ENV must be one of development, production, not '{value}'"
    ):
        Settings.from_env(env(env=value))


@pytest.mark.parametrize(
    "value",
    [
        "mysql://db/hearken",
        "hearken.sqlite3",
        "sqlite://",
        "postgres://localhost",
        "postgres://localhost/",
        "postgres:///hearken",
        "postgres://localhost:notaport/hearken",
        "postgresql://localhost:99999/hearken",
    ],
)
def test_malformed_database_url_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^HEARKEN_DATABASE_URL"):
        Settings.from_env(env(database_url=value))


@pytest.mark.parametrize(
    "value",
    ["postgres://db/hearken", "postgresql://u:p@db:5433/hearken?minsize=2", "sqlite:///var/lib/h.sqlite3"],
)
def test_good_database_urls_are_accepted(value: str) -> None:
    assert Settings.from_env(env(database_url=value)).database_url == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("base_url", "localhost:8000"),
        ("base_url", "ideas.example.com"),
        ("base_url", "ftp://ideas.example.com"),
        ("base_url", "http://"),
        ("base_url", "http:ideas.example.com"),
        ("base_url", "https://ideas.example.com:http"),
        ("smtp_url", "smtp.example.com"),
        ("smtp_url", "http://smtp.example.com"),
        ("smtp_url", "smtp://"),
        ("smtp_url", "smtp://mail:notaport"),
        ("redis_url", "localhost:6379"),
        ("redis_url", "http://cache"),
        ("redis_url", "redis://"),
    ],
)
def test_malformed_urls_are_refused_naming_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^HEARKEN_{name.upper()} must be a") as caught:
        Settings.from_env(env(**{name: value}))
    assert repr(value) in str(caught.value)


def test_production_needs_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HEARKEN_SECRET_KEY is required when HEARKEN_ENV=production"):
        Settings.from_env({"HEARKEN_ENV": "production", "HEARKEN_BASE_URL": "https://ideas.example.com"})
    assert not (tmp_path / ".hearken-secret").exists()


@pytest.mark.parametrize("mode", ["development", "production"])
def test_a_short_secret_key_is_refused(mode: str) -> None:
    with pytest.raises(SettingsError, match="HEARKEN_SECRET_KEY must be at least 32 characters"):
        Settings.from_env(
            {"HEARKEN_ENV": mode, "HEARKEN_SECRET_KEY": "x" * 31, "HEARKEN_BASE_URL": "https://example.com"}
        )
    assert Settings.from_env({"HEARKEN_SECRET_KEY": "x" * 32}).secret_key == "x" * 32


def test_production_needs_an_https_base_url() -> None:
    with pytest.raises(SettingsError, match="HEARKEN_BASE_URL must be an https:// URL in production"):
        Settings.from_env(env(env="production", base_url="http://ideas.example.com"))
    # The default base URL is http, so production without one is refused too.
    with pytest.raises(SettingsError, match="https"):
        Settings.from_env(env(env="production"))
    assert Settings.from_env(env(env="development", base_url="http://localhost:8000")).base_url == (
        "http://localhost:8000"
    )


def test_local_secret_is_made_once_beside_the_database_and_reused(tmp_path: Path) -> None:
    database = tmp_path / "data" / "hearken.sqlite3"
    environ = {"HEARKEN_DATABASE_URL": f"sqlite://{database}"}
    first = Settings.from_env(environ)
    secret_file = tmp_path / "data" / ".hearken-secret"
    assert secret_file.read_text() == first.secret_key
    assert len(first.secret_key) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert Settings.from_env(environ).secret_key == first.secret_key
    # Another database folder gets its own secret.
    other = Settings.from_env({"HEARKEN_DATABASE_URL": f"sqlite://{tmp_path / 'other' / 'h.sqlite3'}"})
    assert other.secret_key != first.secret_key


def test_an_explicit_secret_key_writes_no_file(tmp_path: Path) -> None:
    Settings.from_env(env(database_url=f"sqlite://{tmp_path / 'h.sqlite3'}"))
    assert not (tmp_path / ".hearken-secret").exists()


def test_an_empty_local_secret_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / ".hearken-secret").write_text("\n")
    settings = Settings.from_env({"HEARKEN_DATABASE_URL": f"sqlite://{tmp_path / 'h.sqlite3'}"})
    assert len(settings.secret_key) >= 32
    assert (tmp_path / ".hearken-secret").read_text() == settings.secret_key


def test_cli_reports_a_bad_setting_in_one_line_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEARKEN_ENV", "staging")
    assert cli.main(["migrate"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "hearken: configuration error: HEARKEN_ENV must be one of development, production, not 'staging'\n"
    )


def test_hearken_command_reports_a_bad_setting_without_a_traceback(tmp_path: Path) -> None:
    hearken = Path(sys.executable).with_name("hearken")
    assert hearken.exists(), "the `hearken` console script is not installed in this environment"
    result = subprocess.run(
        [str(hearken), "users", "create", "a@example.com", "--role", "member"],
        env={"PATH": "/usr/bin:/bin", "HEARKEN_DATABASE_URL": "mysql://db/hearken"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hearken: configuration error: HEARKEN_DATABASE_URL must start with sqlite://")
    assert not list(tmp_path.iterdir()), "nothing may be written when the settings are bad"
