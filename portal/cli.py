"""The `hearken` command: serve, migrate, deliver the outbox, manage users and tokens, fill a demo."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from tortoise import Tortoise

from portal import accounts, db, demo, outbox
from portal.errors import Invalid
from portal.features import load_features, setup_features
from portal.models import ROLES
from portal.settings import Settings, SettingsError


def _fail(message: str, code: int = 1) -> int:
    print(f"hearken: {message}", file=sys.stderr)
    return code


def run_with_db(work: Callable[[Settings], Awaitable[int]]) -> int:
    """Runs `work` with the ORM connected to HEARKEN_DATABASE_URL, migrated first."""
    settings = Settings.from_env()
    features = load_features(settings.features)
    setup_features(features)
    config = db.tortoise_config(settings, features)

    async def main() -> int:
        from portal import webhooks

        webhooks.configure(settings)  # payloads of events raised here link to the right site
        await db.migrate(config)
        await Tortoise.init(config=config, _enable_global_fallback=True)
        try:
            return await work(settings)
        finally:
            await Tortoise.close_connections()

    return asyncio.run(main())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings.from_env()
    if not settings.production:
        features = load_features(settings.features)
        applied = asyncio.run(db.migrate(db.tortoise_config(settings, features)))
        if applied:
            print(f"applied {len(applied)} migration(s)")
        # In development the server delivers the outbox itself, unless told otherwise.
        os.environ.setdefault("HEARKEN_SERVE_WORKER", "1")
    print(f"Hearken at http://{args.host}:{args.port} ({settings.env}, {settings.database_dialect})")
    options: dict[str, Any] = {
        "factory": True,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "proxy_headers": True,
        "forwarded_allow_ips": "127.0.0.1",
        "log_level": "info",
        "access_log": args.access_log,
    }
    if args.workers > 1:
        from portal.serving import run_workers

        run_workers(uvicorn.Config("portal.app:create_served_app", **options))
    else:
        uvicorn.run("portal.app:create_served_app", **options)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    features = load_features(settings.features)
    applied = asyncio.run(db.migrate(db.tortoise_config(settings, features)))
    for name in applied:
        print(f"applied {name}")
    print(f"{len(applied)} migration(s) applied; the database is up to date")
    return 0


def _worker(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        worker = outbox.Worker(settings, batch=args.batch)
        if args.once:
            await worker.housekeeping()
            print(f"delivered {await worker.drain()} outbox row(s)")
            return 0
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        how = "mail through SMTP" if settings.smtp_url else "mail kept for /staff/mail: no HEARKEN_SMTP_URL"
        print(f"hearken worker: delivering the outbox ({how}); stop with Ctrl-C", flush=True)
        await worker.run(stop, interval=args.interval)
        return 0

    return run_with_db(work)


def _users_create(args: argparse.Namespace) -> int:
    async def work(_settings: Settings) -> int:
        user = await accounts.create_user(
            actor=None, email=args.email, role=args.role, password=args.password, name=args.name
        )
        print(f"created {user.role} {user.email} (id {user.id})")
        return 0

    return run_with_db(work)


def _users_import(args: argparse.Namespace) -> int:
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")

    async def work(_settings: Settings) -> int:
        users = await accounts.import_users(text)
        print(f"imported {len(users)} user(s)")
        return 0

    return run_with_db(work)


def _token_create(args: argparse.Namespace) -> int:
    async def work(_settings: Settings) -> int:
        for token in await accounts.create_tokens_for(args.emails):
            print(token)
        return 0

    return run_with_db(work)


def _demo(args: argparse.Namespace) -> int:
    async def work(settings: Settings) -> int:
        if not await demo.fill(load_features(settings.features)):
            print("the database already has users; demo content not added")
            return 0
        print("demo content added; sign in with any of these (password: hearken-demo):")
        for email, name, role in demo.DEMO_USERS[:4]:
            print(f"  {email:<24} {role:<18} {name}")
        return 0

    return run_with_db(work)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hearken",
        description="Hearken: a self-hosted portal where customers co-create products in public. "
        "Every command acts on the database that HEARKEN_DATABASE_URL names.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the portal over HTTP (migrates first in development)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--no-access-log",
        dest="access_log",
        action="store_false",
        help="do not log each request (behind a proxy that logs them already; a line per request "
        "costs a few percent of a worker's CPU)",
    )
    serve.set_defaults(func=_serve)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=_migrate)

    worker_help = (
        "deliver the outbox (mail; webhooks) until stopped, with retries; several may run on PostgreSQL"
    )
    worker = sub.add_parser("worker", help=worker_help, description=worker_help)
    worker.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    worker.add_argument("--interval", type=float, default=2.0, help="seconds to wait when idle (default 2)")
    worker.add_argument("--batch", type=int, default=20, help="rows claimed at a time (default 20)")
    worker.set_defaults(func=_worker)

    users = sub.add_parser("users", help="create or import user accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    create = users_sub.add_parser("create", help="create one verified account")
    create.add_argument("email", help="the account's e-mail address")
    # Checked by the service (not argparse `choices`), so a bad role exits 1 like any bad input.
    create.add_argument("--role", required=True, help=f"the account's role: {', '.join(ROLES)}")
    create.add_argument("--password", help="a password (10+ characters); none: sign-in by link only")
    create.add_argument("--name", help="display name (default: the part of the e-mail before @)")
    create.set_defaults(func=_users_create)
    import_help = (
        "create verified accounts from a CSV file with columns email,name,role; "
        "all or none: bad rows are reported by line number and nothing is written"
    )
    imp = users_sub.add_parser("import", help=import_help, description=import_help)
    imp.add_argument("file", help="the CSV file")
    imp.set_defaults(func=_users_import)

    token = sub.add_parser("token", help="personal API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    token_help = "print one new personal API token per line, in the order the e-mails are given"
    token_create = token_sub.add_parser("create", help=token_help, description=token_help)
    token_create.add_argument("emails", nargs="+", metavar="EMAIL", help="accounts to make tokens for")
    token_create.set_defaults(func=_token_create)

    demo_cmd = sub.add_parser("demo", help="fill an empty database with demo content")
    demo_cmd.set_defaults(func=_demo)

    # The feature list is not configurable, so building the parser reads no settings (and `--help`
    # neither fails on a bad one nor writes a local secret file).
    for feature in load_features(Settings.features):
        if feature.add_commands is not None:
            feature.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], Any] = args.func
    try:
        return int(func(args) or 0)
    except SettingsError as exc:
        return _fail(f"configuration error: {exc}", 2)
    except Invalid as exc:
        lines = [f"  {field}: {message}" for field, message in exc.errors.items()]
        return _fail("invalid input, nothing was written:\n" + "\n".join(lines))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
