"""The `hearken` command, run in-process (`main(argv)`) against each backend's test database.

`main` runs its own event loop (`asyncio.run`), so these tests are synchronous; `in_app` looks at the
database afterwards through a fresh application, the way a user of the portal would.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal import cli, demo
from portal.app import create_app
from portal.demo import DEMO_PASSWORD, DEMO_USERS
from portal.features import Feature
from portal.models import ApiToken, User
from tests.browser import Client
from tests.conftest import TEST_SECRET, base_settings
from tests.factories import make_user

T = TypeVar("T")
COMMANDS = ("serve", "migrate", "users", "token", "demo")


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The test database, named in the environment the way an operator names it."""
    for name in [n for n in os.environ if n.startswith("HEARKEN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HEARKEN_DATABASE_URL", database_url)
    monkeypatch.setenv("HEARKEN_SECRET_KEY", TEST_SECRET)
    monkeypatch.chdir(tmp_path)
    EXECUTOR_CACHE.clear()
    return database_url


def in_app(url: str, work: Callable[[Client], Awaitable[T]]) -> T:
    async def go() -> T:
        EXECUTOR_CACHE.clear()
        app = create_app(base_settings(url), migrate=False)
        async with app.router.lifespan_context(app), Client(app) as client:
            return await work(client)

    result = asyncio.run(go())
    EXECUTOR_CACHE.clear()
    return result


def users(url: str) -> list[tuple[str, str, str, bool]]:
    async def work(_: Client) -> list[tuple[str, str, str, bool]]:
        return [(u.email, u.name, u.role, u.verified) for u in await User.all().order_by("id")]

    return in_app(url, work)


def add_user(url: str, **kw: Any) -> None:
    async def work(_: Client) -> None:
        await make_user(**kw)

    in_app(url, work)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# Help


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["serve"], ["--host", "--port", "--workers", "--no-access-log"]),
        (["migrate"], ["usage: hearken migrate"]),
        (["users"], ["create", "import"]),
        (["users", "create"], ["email", "--role", "--password", "--name", "member, staff"]),
        (["users", "import"], ["file", "line number"]),
        (["token"], ["create"]),
        (["token", "create"], ["EMAIL"]),
        (["demo"], ["usage: hearken demo"]),
    ],
)
def test_each_command_has_help(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: list[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([*argv, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: hearken {' '.join(argv)}")
    for text in expected:
        assert text in out


def test_hearken_help_runs_as_a_command_and_writes_nothing(tmp_path: Path) -> None:
    hearken = Path(sys.executable).with_name("hearken")
    result = subprocess.run(
        [str(hearken), "--help"],
        env={"PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert all(command in result.stdout for command in COMMANDS)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main([])
    assert exited.value.code == 2
    assert "usage: hearken" in capsys.readouterr().err


# Migrate


def test_migrate_a_new_database_then_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEARKEN_DATABASE_URL", f"sqlite://{tmp_path / 'fresh.sqlite3'}")
    monkeypatch.setenv("HEARKEN_SECRET_KEY", TEST_SECRET)
    monkeypatch.delenv("HEARKEN_ENV", raising=False)
    EXECUTOR_CACHE.clear()
    code, out, _ = run(capsys, "migrate")
    assert code == 0
    assert "applied portal.0001_initial" in out
    code, out, _ = run(capsys, "migrate")
    assert (code, out) == (0, "0 migration(s) applied; the database is up to date\n")


# users create


def test_users_create_makes_a_verified_account(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(
        capsys,
        "users",
        "create",
        "Pat@Example.COM",
        "--role",
        "staff",
        "--name",
        "Pat",
        "--password",
        "a good password",
    )
    assert (code, err) == (0, "")
    assert out.startswith("created staff pat@example.com (id ")
    assert users(db) == [("pat@example.com", "Pat", "staff", True)]

    async def sign_in(client: Client) -> dict[str, Any]:
        await client.sign_in("pat@example.com", "a good password")
        return (await client.get("/api/v1/me")).json()

    assert in_app(db, sign_in)["role"] == "staff"


def test_users_create_without_password_or_name(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(capsys, "users", "create", "sam@example.com", "--role", "Admin")
    assert code == 0
    assert users(db) == [("sam@example.com", "sam", "admin", True)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bad-email", "--role", "member"], "email: Enter a valid e-mail address"),
        (
            ["ok@example.com", "--role", "wizard"],
            "role: Choose one of member, staff, community_manager, admin",
        ),
        (
            ["ok@example.com", "--role", "member", "--password", "short"],
            "password: Use at least 10 characters",
        ),
    ],
)
def test_users_create_with_bad_input_exits_1_and_writes_nothing(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "users", "create", *argv)
    assert code == 1
    assert out == ""
    assert err.startswith("hearken: invalid input, nothing was written:\n")
    assert message in err
    assert users(db) == []


def test_users_create_with_a_taken_email_exits_1(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    add_user(db, email="pat@example.com", name="First")
    code, _, err = run(capsys, "users", "create", "PAT@example.com", "--role", "admin")
    assert code == 1
    assert "already exists" in err
    assert users(db) == [("pat@example.com", "First", "member", True)]


# users import


def write_csv(tmp_path: Path, text: str, *, bom: bool = False) -> str:
    path = tmp_path / "people.csv"
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    return str(path)


def test_users_import_creates_verified_accounts(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(
        tmp_path,
        "Email,Name,Role\r\nann@example.com,Ann Able,member\r\nBEN@Example.com, Ben  Baker ,staff\r\n"
        '"cat@example.com","Cat, the Admin",admin\r\n',
        bom=True,
    )
    code, out, err = run(capsys, "users", "import", path)
    assert (code, out, err) == (0, "imported 3 user(s)\n", "")
    assert users(db) == [
        ("ann@example.com", "Ann Able", "member", True),
        ("ben@example.com", "Ben Baker", "staff", True),
        ("cat@example.com", "Cat, the Admin", "admin", True),
    ]


def test_users_import_reports_every_bad_row_and_writes_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(db, email="taken@example.com", name="Taken")
    path = write_csv(
        tmp_path,
        "email,name,role\n"
        "ann@example.com,Ann,member\n"  # 2: fine
        "not-an-email,Bob,member\n"  # 3
        "cat@example.com,Cat,wizard\n"  # 4
        "ANN@example.com,Ann Again,staff\n"  # 5: same as line 2
        "taken@example.com,Tak,member\n"  # 6: has an account
        "dan@example.com,,member\n",  # 7: no name
    )
    code, out, err = run(capsys, "users", "import", path)
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "hearken: invalid input, nothing was written:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
    ]
    assert "Enter a valid e-mail address" in lines[1]
    assert "role: Choose one of" in lines[2]
    assert "ann@example.com is also on line 2" in lines[3]
    assert "taken@example.com already has an account" in lines[4]
    assert "name: Enter a name" in lines[5]
    assert users(db) == [("taken@example.com", "Taken", "member", True)]


def test_users_import_is_one_transaction(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the database fails half-way, the rows written before are rolled back."""
    path = write_csv(tmp_path, "email,name,role\na@example.com,A,member\nb@example.com,B,member\n")
    create = User.create
    calls = 0

    async def failing_create(cls: type[User], **kw: Any) -> User:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the database went away")
        return await create(**kw)

    monkeypatch.setattr(User, "create", classmethod(failing_create))
    with pytest.raises(RuntimeError, match="went away"):
        cli.main(["users", "import", path])
    monkeypatch.undo()
    assert calls == 2
    assert users(db) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email,name\na@example.com,A\n", "line 1: missing column(s): role"),
        ("email,name,role\n", "file: no rows to import"),
        ("", "line 1: missing column(s): email, name, role"),
    ],
)
def test_users_import_of_an_unusable_file(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    code, _, err = run(capsys, "users", "import", write_csv(tmp_path, text))
    assert code == 1
    assert message in err
    assert users(db) == []


def test_users_import_of_a_missing_file(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "users", "import", "no-such-file.csv")
    assert code == 1
    assert err == "hearken: cannot read no-such-file.csv: No such file or directory\n"


# token create


def test_token_create_prints_one_token_per_line_in_order(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    add_user(db, email="ann@example.com")
    add_user(db, email="ben@example.com")
    code, out, err = run(capsys, "token", "create", "ben@example.com", "ANN@example.com", "ben@example.com")
    assert (code, err) == (0, "")
    tokens = out.splitlines()
    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert all(t.startswith("hk_") for t in tokens)

    async def owners(client: Client) -> list[str]:
        found = []
        for token in tokens:
            response = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 200
            found.append(response.json()["email"])
        return found

    assert in_app(db, owners) == ["ben@example.com", "ann@example.com", "ben@example.com"]


def test_token_create_for_an_unknown_email_writes_nothing(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    add_user(db, email="ann@example.com")
    code, out, err = run(capsys, "token", "create", "ann@example.com", "nobody@example.com")
    assert code == 1
    assert out == ""
    assert "no account for nobody@example.com" in err

    async def count(_: Client) -> int:
        return await ApiToken.all().count()

    assert in_app(db, count) == 0


# demo


@pytest.fixture
def feature_demos(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Stands in for the feature packages' demo content (tested with each package): records calls."""
    calls: list[str] = []

    async def feature_demo() -> None:
        calls.append("demo")
        await User.filter(email="member@example.com").update(name="Filled by the feature")

    original = demo.fill
    monkeypatch.setattr(demo, "fill", lambda features: original([Feature(name="stub", demo=feature_demo)]))
    return calls


@pytest.mark.usefixtures("cheap_hashing")
def test_demo_fills_an_empty_database_once(
    db: str, capsys: pytest.CaptureFixture[str], feature_demos: list[str]
) -> None:
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "demo content added" in out
    assert "admin@example.com" in out
    expected = [
        (email, "Filled by the feature" if email == "member@example.com" else name, role, True)
        for email, name, role in DEMO_USERS
    ]
    assert users(db) == expected
    assert feature_demos == ["demo"]

    async def sign_in(client: Client) -> str:
        await client.sign_in("admin@example.com", DEMO_PASSWORD)
        return str((await client.get("/api/v1/me")).json()["role"])

    assert in_app(db, sign_in) == "admin"

    code, out, _ = run(capsys, "demo")
    assert (code, out) == (0, "the database already has users; demo content not added\n")
    assert users(db) == expected
    assert feature_demos == ["demo"]


def test_demo_leaves_a_database_with_users_alone(
    db: str, capsys: pytest.CaptureFixture[str], feature_demos: list[str]
) -> None:
    add_user(db, email="real@example.com", name="Real")
    code, out, _ = run(capsys, "demo")
    assert code == 0
    assert "not added" in out
    assert users(db) == [("real@example.com", "Real", "member", True)]
    assert feature_demos == []


@pytest.mark.parametrize(("flags", "logged"), [([], True), (["--no-access-log"], False)])
def test_serve_logs_each_request_unless_told_not_to(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], logged: bool
) -> None:
    import uvicorn

    seen: dict[str, object] = {}
    monkeypatch.setenv("HEARKEN_ENV", "production")  # no migration: only the server's options matter
    monkeypatch.setenv("HEARKEN_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("HEARKEN_BASE_URL", "https://feedback.example.com")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    assert cli.main(["serve", "--port", "8123", *flags]) == 0
    assert seen["access_log"] is logged
    assert seen["port"] == 8123
