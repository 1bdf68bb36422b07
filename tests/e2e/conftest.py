"""Browser tests: Playwright driving Debian's Chromium against a real `hearken serve` on loopback.

Each test gets an empty PostgreSQL database (the `database_url` fixture of tests/conftest.py), the
ORM connected to it in this process (to make test data with the factories), a `hearken serve`
subprocess over it whose outbox worker delivers mail to an aiosmtpd server of this run, and a fresh
browser context of a Chromium started once per run. On the SQLite half of the suite they skip: two
processes on one SQLite file is not how the portal is served, and CI runs them on PostgreSQL.

Every async fixture here, and every test, runs on the session's event loop (`loop_scope="session"`),
because the browser and its driver live on the loop that started them. Test modules say so with
`pytestmark = pytest.mark.asyncio(loop_scope="session")`.

Chromium is /usr/bin/chromium (`apt-get install chromium`; never a downloaded browser). Where it is
missing the tests skip, unless HEARKEN_E2E_REQUIRED=1 (set by .ci/run), where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import os
import re
import secrets
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiosmtpd.controller import Controller
from starlette.applications import Starlette
from tortoise.backends.base.executor import EXECUTOR_CACHE

from portal.app import create_app
from portal.settings import Settings
from tests.conftest import TEST_SECRET

CHROMIUM = os.environ.get("HEARKEN_E2E_CHROMIUM", "/usr/bin/chromium")
# The flags this machine kind is known to work with: no sandbox (root in CI), no GPU, and nothing
# that phones home (the network is closed; Chromium's own background requests only add noise).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
CHROMIUM_FOUND = Path(CHROMIUM).exists()
REQUIRED = os.environ.get("HEARKEN_E2E_REQUIRED", "") == "1"

ROOT = Path(__file__).resolve().parents[2]
# A test run must not rewrite tracked files: shots go to a scratch folder unless asked for
# (`make screenshots` sets HEARKEN_SCREENSHOTS_DIR=docs/screenshots to refresh the README's).
SCREENSHOTS = Path(
    os.environ.get("HEARKEN_SCREENSHOTS_DIR") or Path(tempfile.gettempdir()) / "hearken-screenshots"
)
# Timeouts (ms) for one action or expectation; generous for 2 busy cores, never slept through.
TIMEOUT_MS = 10_000
# More script requests than this to one path from one loaded page means something polls in a loop.
RUNAWAY = 10


# --- Mail: a real SMTP server on 127.0.0.1 that keeps every message ---------------------------------


class Mailbox:
    """The aiosmtpd handler (it runs on a thread of its own) and the test's way to wait for mail."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    async def wait_for(self, to: str, *, subject: str = "", seconds: float = 15) -> EmailMessage:
        """The first message to `to` (with `subject` in its subject), waiting for the outbox."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in list(self.messages):
                if (
                    to.lower() in str(message["To"]).lower()
                    and subject.lower() in str(message["Subject"]).lower()
                ):
                    return message
            await asyncio.sleep(0.1)
        seen = [(str(m["To"]), str(m["Subject"])) for m in self.messages]
        raise AssertionError(f"no mail to {to} with {subject!r} in {seconds} s; received: {seen}")

    @staticmethod
    def text(message: EmailMessage) -> str:
        part = message.get_body(("plain",))
        assert part is not None, "the mail has a plain-text part"
        return part.get_content()  # type: ignore[attr-defined]

    def link(self, message: EmailMessage, path_prefix: str) -> str:
        """The first link in the mail's text whose path starts with `path_prefix` (e.g. /auth/verify/)."""
        for url in re.findall(r"https?://\S+", self.text(message)):
            if httpx.URL(url).path.startswith(path_prefix):
                return url.rstrip(".,)>")
        raise AssertionError(f"no {path_prefix} link in: {self.text(message)}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox()
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", mailbox
    finally:
        controller.stop()


@pytest.fixture
def mailbox(smtp: tuple[str, Mailbox]) -> Mailbox:
    """The SMTP server's mailbox, empty at the start of the test."""
    smtp[1].messages.clear()
    return smtp[1]


# --- The database (this process) and the server (a subprocess) --------------------------------------


@pytest.fixture
def e2e_settings(backend: str, database_url: str) -> Settings:
    if backend != "postgres":
        pytest.skip("browser journeys run on PostgreSQL (CI)")
    if not CHROMIUM_FOUND and not REQUIRED:
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return Settings(database_url=database_url, secret_key=TEST_SECRET, env="development")


@pytest_asyncio.fixture(loop_scope="session")
async def db(e2e_settings: Settings) -> AsyncIterator[Starlette]:
    """The ORM connected to the test's database in this process, for the factories."""
    EXECUTOR_CACHE.clear()
    application = create_app(e2e_settings, migrate=False)
    async with application.router.lifespan_context(application):
        yield application


class Server:
    def __init__(self, url: str, log: Path) -> None:
        self.url = url
        self.log = log

    def __call__(self, path: str = "/") -> str:
        return self.url + path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


@pytest_asyncio.fixture(loop_scope="session")
async def server(
    db: Starlette, database_url: str, smtp: tuple[str, Mailbox], tmp_path: Path
) -> AsyncIterator[Server]:
    """`hearken serve` on a free loopback port over the test's database; mail goes to `mailbox`.

    In development `serve` delivers the outbox in the server process, so mail arrives without a
    separate worker. Rate limits are lifted (one browser plays many people from one address).
    """
    port = _free_port()
    url = database_url + ("&" if "?" in database_url else "?") + "minsize=1&maxsize=10"
    env = {
        **os.environ,
        "HEARKEN_DATABASE_URL": url,
        "HEARKEN_SECRET_KEY": TEST_SECRET,
        "HEARKEN_BASE_URL": f"http://127.0.0.1:{port}",
        "HEARKEN_ENV": "development",
        "HEARKEN_SMTP_URL": smtp[0],
        "HEARKEN_MEDIA_DIR": str(tmp_path / "media"),
        "HEARKEN_SERVE_WORKER": "1",
    }
    for name in ("SIGNIN", "WRITE", "WRITE_LIMIT_PER_ADDRESS", "VOTE", "VOTE_LIMIT_PER_ADDRESS"):
        env["HEARKEN_" + name + ("" if name.endswith("ADDRESS") else "_LIMIT")] = "100000/minute"
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    hearken = Path(sys.executable).with_name("hearken")
    process = await asyncio.create_subprocess_exec(
        str(hearken), "serve", "--host", "127.0.0.1", "--port", str(port),
        env=env, stdout=log, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as probe:
            for _ in range(300):
                if process.returncode is not None:
                    raise RuntimeError("hearken serve exited:\n" + log_path.read_text()[-3000:])
                with contextlib.suppress(httpx.TransportError):
                    if (await probe.get(base + "/healthz")).status_code == 200:
                        break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("hearken serve did not answer in 15 s:\n" + log_path.read_text()[-3000:])
        yield Server(base, log_path)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


# --- The browser ----------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not CHROMIUM_FOUND:
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if REQUIRED:
            pytest.fail("HEARKEN_E2E_REQUIRED=1 but there is " + missing)
        pytest.skip(missing)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()


class Pages:
    """Opens browser contexts for one test (each one a separate person) and closes them after it.

    Every page records what would be a failure however the test goes: JavaScript errors, dialogs
    (which it dismisses), and requests that leave for a host other than the server.
    """

    def __init__(self, browser: Any, server: Server) -> None:
        self.browser = browser
        self.server = server
        self.contexts: list[Any] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign_requests: list[str] = []
        self.requests: Counter[str] = Counter()  # every request, by method and path
        # Requests made by script (htmx) since the page was last loaded, to catch runaway polling.
        self.fetches: dict[Any, Counter[str]] = {}
        self.busiest: tuple[int, str] = (0, "")

    async def new(
        self, *, javascript: bool = True, width: int = 1280, height: int = 800, **options: Any
    ) -> Any:
        context = await self.browser.new_context(
            base_url=self.server.url,
            java_script_enabled=javascript,
            viewport={"width": width, "height": height},
            locale="en-GB",
            timezone_id="UTC",
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        page.on("framenavigated", lambda frame: frame.parent_frame or self.fetches.pop(frame.page, None))
        return page

    async def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def _request(self, request: Any) -> None:
        url = httpx.URL(request.url)
        self.requests[f"{request.method} {url.path}"] += 1
        if request.resource_type in ("xhr", "fetch"):
            key = f"{request.method} {url.path}"
            counts = self.fetches.setdefault(request.frame.page, Counter())
            counts[key] += 1
            self.busiest = max(self.busiest, (counts[key], key))
        if (
            url.scheme in ("http", "https", "ws", "wss")
            and f"{url.scheme}://{url.netloc.decode()}" != self.server.url
        ):
            self.foreign_requests.append(request.url)

    async def close(self) -> None:
        for context in self.contexts:
            with contextlib.suppress(Exception):
                await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def pages(browser: Any, server: Server) -> AsyncIterator[Pages]:
    """`await pages.new()` opens a fresh browser (context) for one person; all close after the test.

    After the test: no page raised a JavaScript error or opened a dialog.
    """
    opened = Pages(browser, server)
    try:
        yield opened
    finally:
        await opened.close()
    assert not opened.errors, f"JavaScript errors: {opened.errors}"
    assert not opened.dialogs, f"dialogs opened: {opened.dialogs}"
    assert opened.busiest[0] <= RUNAWAY, f"a page keeps requesting: {opened.busiest}"


def unique_email(who: str) -> str:
    return f"{who}-{secrets.token_hex(3)}@example.com"
