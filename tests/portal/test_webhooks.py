"""Webhooks, end to end: events become outbox rows in their own transaction, the outbox worker POSTs
them to a real receiver on 127.0.0.1, which checks every signature with a verifier written here from
the README alone."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tortoise.transactions import in_transaction

from ideas import comments, moderation, service
from ideas.events import IdeaPosted
from portal import events, outbox, webhooks
from portal.models import OutboxMessage, Webhook, WebhookAttempt
from portal.settings import Settings, SettingsError
from rewards import perks
from tests.browser import Client
from tests.factories import make_board, make_idea, make_user
from voting import service as voting

# --- the reference verifier: written from README.md, "Webhooks" ----------------------------------

TOLERANCE_S = 300


def verify(secret: str, signature_header: str, body: bytes, now: float | None = None) -> bool:
    """True when `Hearken-Signature` is HMAC-SHA256(secret, "<t>." + raw body) and t is recent."""
    parts = dict(item.split("=", 1) for item in signature_header.split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts or not parts["t"].isdigit():
        return False
    timestamp = int(parts["t"])
    if abs((now or time.time()) - timestamp) > TOLERANCE_S:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


# --- a real receiver: a small Starlette app served by uvicorn in a thread ------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    received: list[Received] = field(default_factory=list)
    # Answers to give, first to last; 200 once they run out.
    answers: list[int] = field(default_factory=list)

    def events(self) -> list[str]:
        return [r.headers["hearken-event"] for r in self.received]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    async def hook(request: Request) -> Response:
        state.received.append(
            Received({k.lower(): v for k, v in request.headers.items()}, await request.body())
        )
        status = state.answers.pop(0) if state.answers else 200
        return Response("nope" if status >= 400 else "ok", status_code=status)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="webhook-receiver", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    state.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield state
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Clock:
    """The worker's clock, moved by hand past the outbox's backoff."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta = timedelta(hours=7)) -> None:
        self.now += delta


async def add_webhook(
    url: str, *, public_only: bool = True, events_: tuple[str, ...] | None = None
) -> Webhook:
    admin = await make_user(role="admin")
    return await webhooks.create_webhook(
        actor=admin,
        url=url,
        events=events_
        or ("idea.posted", "idea.status_changed", "vote.cast", "comment.posted", "perk.claimed"),
        public_only=public_only,
    )


async def webhook_rows(hook: Webhook) -> list[OutboxMessage]:
    return await OutboxMessage.filter(
        channel="webhook", dedupe_key__startswith=f"webhook:{hook.id}:"
    ).order_by("id")


# --- tests ---------------------------------------------------------------------------------------


async def test_an_admin_adds_a_webhook_and_an_idea_reaches_the_receiver_signed(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    admin = await make_user(role="admin")
    await client.sign_in_as(admin)
    await client.get("/admin/webhooks")
    response = await client.post_form(
        "/admin/webhooks",
        {"url": receiver.url, "events": ["idea.posted", "comment.posted"], "public_only": "1"},
    )
    assert response.status_code == 303, response.text
    hook = await Webhook.get(url=receiver.url)
    assert hook.events == ["idea.posted", "comment.posted"]
    assert hook.public_only and hook.active and hook.secret.startswith("whsec_")

    board = await make_board(slug="mobile")
    author = await make_user(name="Ann Author")
    idea = await make_idea(board=board, author=author, title="Offline mode", body="Please **now**")
    assert len(await webhook_rows(hook)) == 1  # written with the idea, before any delivery

    assert await outbox.Worker(settings).drain() == 1
    [got] = receiver.received
    assert got.headers["hearken-event"] == "idea.posted"
    assert got.headers["content-type"].startswith("application/json")
    assert verify(hook.secret, got.headers["hearken-signature"], got.body)
    assert not verify(hook.secret, got.headers["hearken-signature"], got.body.replace(b"Offline", b"Online"))
    assert not verify("whsec_another-secret", got.headers["hearken-signature"], got.body)
    payload = got.json
    assert payload["id"] == got.headers["hearken-delivery"]
    assert payload["event"] == "idea.posted"
    data = payload["data"]["idea"]
    assert data["id"] == idea.id
    assert data["title"] == "Offline mode"
    assert data["board"] == "mobile"
    assert data["author"] == {"id": author.id, "name": "Ann Author"}
    assert "<strong>now</strong>" in data["body_html"]
    assert data["url"] == f"http://testserver/ideas/{idea.id}-offline-mode"
    assert "voted" not in data

    page = await client.get(f"/admin/webhooks/{hook.id}")
    assert page.status_code == 200
    assert "idea.posted" in page.text
    assert payload["id"] in page.text
    assert "HTTP 200" in page.text
    assert "sent" in page.text


async def test_each_subscribed_event_is_delivered_with_its_payload(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    hook = await add_webhook(receiver.url)
    staff = await make_user(role="staff", name="Sam Staff")
    voter = await make_user(name="Vera Voter")
    idea = await make_idea(title="Dark theme")
    await voting.cast_vote(actor=voter, idea_id=idea.id, priority="must")
    await comments.post_comment(actor=voter, idea_id=idea.id, body="Yes *please*")
    await service.change_status(actor=staff, idea_id=idea.id, status="planned", message="Next quarter.")
    await comments.post_comment(actor=staff, idea_id=idea.id, body="Staff note", internal=True)

    await outbox.Worker(settings).drain()
    assert receiver.events() == ["idea.posted", "vote.cast", "comment.posted", "idea.status_changed"]
    assert all(verify(hook.secret, r.headers["hearken-signature"], r.body) for r in receiver.received)
    by_event = {r.headers["hearken-event"]: r.json["data"] for r in receiver.received}
    assert by_event["vote.cast"]["idea"]["vote_count"] == 1
    assert "Vera" not in json.dumps(by_event["vote.cast"])  # who voted is for staff only
    assert by_event["comment.posted"]["comment"]["author"]["name"] == "Vera Voter"
    assert "<em>please</em>" in by_event["comment.posted"]["comment"]["body_html"]
    change = by_event["idea.status_changed"]["change"]
    assert (change["from"], change["to"], change["by"]["name"]) == ("open", "planned", "Sam Staff")
    assert by_event["idea.status_changed"]["idea"]["status"] == "planned"
    # Delivery ids are unique, and every delivery was logged once.
    assert len({r.headers["hearken-delivery"] for r in receiver.received}) == 4
    assert await WebhookAttempt.filter(webhook_id=hook.id, status_code=200).count() == 4


@pytest.mark.parametrize(
    "url",
    [
        "RECEIVER",  # the test's receiver, on loopback
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest/meta-data",  # a cloud's metadata service
        "http://[::1]:9/hook",
    ],
)
async def test_deliveries_to_the_local_network_are_refused_unless_allowed(
    app: Starlette, make_settings: Any, receiver: Receiver, url: str
) -> None:
    """A webhook is a request made on an administrator's word: pointed inward, it would reach
    services that trust the portal's network."""
    settings = make_settings(webhook_private_addresses=False)
    hook = await add_webhook(receiver.url if url == "RECEIVER" else url)
    await make_idea(title="Not for the intranet")
    [row] = await webhook_rows(hook)
    assert await outbox.Worker(settings, clock=Clock()).run_once() == 1
    row = await OutboxMessage.get(id=row.id)
    assert row.failed_at is not None and row.attempts == 1, "refused at once, never tried again"
    assert (
        "not on the public internet" in row.last_error
        and "HEARKEN_WEBHOOK_PRIVATE_ADDRESSES" in row.last_error
    )
    [attempt] = await WebhookAttempt.filter(outbox_id=row.id)
    assert attempt.status_code is None and attempt.error == row.last_error
    assert receiver.received == []


async def test_a_public_address_is_not_refused() -> None:
    assert await webhooks.private_address("http://93.184.215.14/hook") is None
    assert await webhooks.private_address("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/") is None


def test_receivers_on_the_local_network_are_allowed_by_a_setting() -> None:
    env = {"HEARKEN_SECRET_KEY": "x" * 40, "HEARKEN_WEBHOOK_PRIVATE_ADDRESSES": "1"}
    assert Settings.from_env(env).webhook_private_addresses is True
    assert Settings.from_env({"HEARKEN_SECRET_KEY": "x" * 40}).webhook_private_addresses is False
    with pytest.raises(SettingsError, match="HEARKEN_WEBHOOK_PRIVATE_ADDRESSES must be 1 or 0"):
        Settings.from_env({**env, "HEARKEN_WEBHOOK_PRIVATE_ADDRESSES": "maybe"})


async def test_a_receiver_that_fails_three_times_gets_retries_then_the_delivery_shows_failed(
    client: Client, make_settings: Any, receiver: Receiver
) -> None:
    settings = make_settings(webhook_max_attempts=3)
    hook = await add_webhook(receiver.url)
    receiver.answers = [500, 500, 500]
    await make_idea(title="Retry me")
    [row] = await webhook_rows(hook)
    clock = Clock()
    worker = outbox.Worker(settings, clock=clock)

    assert await worker.run_once() == 1
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.sent_at, row.failed_at) == (1, None, None)
    assert row.available_at > clock.now  # waits before the next try
    assert await worker.run_once() == 0  # not due yet
    clock.advance()
    assert await worker.run_once() == 1
    row = await OutboxMessage.get(id=row.id)
    assert (row.attempts, row.failed_at) == (2, None)
    clock.advance()
    assert await worker.run_once() == 1
    row = await OutboxMessage.get(id=row.id)
    assert row.attempts == 3
    assert row.failed_at is not None and row.sent_at is None
    assert "HTTP 500" in row.last_error
    clock.advance()
    assert await worker.run_once() == 0  # failed rows are never claimed again

    assert len(receiver.received) == 3
    assert len({r.headers["hearken-delivery"] for r in receiver.received}) == 1  # one delivery, 3 tries
    assert all(verify(hook.secret, r.headers["hearken-signature"], r.body) for r in receiver.received)
    tries = await WebhookAttempt.filter(outbox_id=row.id).order_by("id")
    assert [(t.attempt, t.status_code) for t in tries] == [(1, 500), (2, 500), (3, 500)]

    await client.sign_in_as(await make_user(role="admin"))
    page = (await client.get(f"/admin/webhooks/{hook.id}")).text
    assert "failed" in page
    assert page.count("HTTP 500") >= 3


async def test_a_delivery_that_succeeds_on_a_retry_is_sent(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    await add_webhook(receiver.url)
    receiver.answers = [503]
    await make_idea()
    clock = Clock()
    worker = outbox.Worker(settings, clock=clock)
    await worker.run_once()
    clock.advance()
    await worker.run_once()
    [row] = await OutboxMessage.filter(channel="webhook")
    assert row.sent_at is not None and row.attempts == 2
    assert [r.headers["hearken-delivery"] for r in receiver.received] == [row.payload["delivery_id"]] * 2


async def test_an_unreachable_receiver_is_retried(app: Starlette, settings: Settings) -> None:
    port = _free_port()  # nothing listens there
    await add_webhook(f"http://127.0.0.1:{port}/hook")
    await make_idea()
    await outbox.Worker(settings, clock=Clock()).run_once()
    [row] = await OutboxMessage.filter(channel="webhook")
    assert row.sent_at is None and row.failed_at is None and row.attempts == 1
    [attempt] = await WebhookAttempt.all()
    assert attempt.status_code is None and "Connect" in attempt.error


async def test_a_public_only_webhook_gets_nothing_from_a_private_board(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    public_hook = await add_webhook(receiver.url)
    everything = await add_webhook(receiver.url + "?all=1", public_only=False)
    private = await make_board(visibility="private")
    insiders = await make_board(visibility="insiders")
    staff = await make_user(role="staff")
    secret_idea = await make_idea(board=private, author=staff, title="Acquisition plan")
    await make_idea(board=insiders, author=staff, title="Insider preview")
    await comments.post_comment(actor=staff, idea_id=secret_idea.id, body="Between us")
    await make_idea(title="Public idea")

    assert len(await webhook_rows(public_hook)) == 1
    assert len(await webhook_rows(everything)) == 4
    await outbox.Worker(settings).drain()
    got_public = [
        r for r in receiver.received if verify(public_hook.secret, r.headers["hearken-signature"], r.body)
    ]
    assert [r.json["data"]["idea"]["title"] for r in got_public] == ["Public idea"]
    got_all = [
        r for r in receiver.received if verify(everything.secret, r.headers["hearken-signature"], r.body)
    ]
    assert len(got_all) == 4


async def test_hidden_content_and_unsubscribed_events_send_nothing(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    hook = await add_webhook(receiver.url, events_=("comment.posted",))
    staff = await make_user(role="staff")
    idea = await make_idea()  # idea.posted: not subscribed
    await moderation.hide_idea(actor=staff, idea_id=idea.id, reason="spam")
    await service.change_status(actor=staff, idea_id=idea.id, status="declined", message="Spam.")
    assert await webhook_rows(hook) == []
    other = await make_idea()
    await comments.post_comment(actor=staff, idea_id=other.id, body="Internal", internal=True)
    assert await webhook_rows(hook) == []


async def test_perk_claims_go_only_to_webhooks_for_everything_and_carry_no_code(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    public_hook = await add_webhook(receiver.url, events_=("perk.claimed",))
    everything = await add_webhook(receiver.url, public_only=False, events_=("perk.claimed",))
    manager = await make_user(role="community_manager")
    perk = await perks.create_perk(
        actor=manager, data={"kind": "deal", "title": "Half price", "codes": "CODE-SECRET-1\nCODE-SECRET-2"}
    )
    member = await make_user(name="Claire Claimer")
    result = await perks.claim_perk(actor=member, perk_id=perk.id)
    assert result.code and result.code.startswith("CODE-SECRET")
    assert await webhook_rows(public_hook) == []
    [row] = await webhook_rows(everything)
    assert "CODE-SECRET" not in json.dumps(row.payload)
    await outbox.Worker(settings).drain()
    [got] = receiver.received
    assert b"CODE-SECRET" not in got.body
    data = got.json["data"]
    assert data["perk"]["title"] == "Half price"
    assert data["member"] == {"id": member.id, "name": "Claire Claimer"}
    assert data["claim"]["status"] == "claimed"


async def test_a_delivery_is_written_in_the_transaction_of_its_event(app: Starlette) -> None:
    idea = await make_idea()  # before any webhook: nothing queued for it
    hook = await add_webhook("http://127.0.0.1:9/hook")
    event = IdeaPosted(idea_id=idea.id, author_id=idea.author_id, board_id=idea.board_id)
    seen_inside: list[int] = []

    async def emit_then_fail() -> None:
        async with in_transaction():
            await events.emit(event)
            seen_inside.append(len(await webhook_rows(hook)))
            raise RuntimeError("the change fails after the event")

    with pytest.raises(RuntimeError):
        await emit_then_fail()
    assert seen_inside == [1]
    assert await webhook_rows(hook) == []  # rolled back with its cause
    # A replayed event queues nothing twice.
    await events.emit(event)
    await events.emit(event)
    assert len(await webhook_rows(hook)) == 1


async def test_send_test_delivers_a_signed_ping(
    client: Client, settings: Settings, receiver: Receiver
) -> None:
    hook = await add_webhook(receiver.url)
    await client.sign_in_as(await make_user(role="admin"))
    await client.get(f"/admin/webhooks/{hook.id}")
    response = await client.post_form(f"/admin/webhooks/{hook.id}/test")
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/webhooks/{hook.id}"
    await outbox.Worker(settings).drain()
    [got] = receiver.received
    assert got.headers["hearken-event"] == "ping"
    assert verify(hook.secret, got.headers["hearken-signature"], got.body)
    assert got.json["data"]["webhook"]["id"] == hook.id
    page = (await client.get(f"/admin/webhooks/{hook.id}")).text
    assert got.headers["hearken-delivery"] in page and "ping" in page


async def test_a_deleted_or_turned_off_webhook_gets_no_more_deliveries(
    app: Starlette, settings: Settings, receiver: Receiver
) -> None:
    admin = await make_user(role="admin")
    hook = await add_webhook(receiver.url)
    off = await add_webhook(receiver.url)
    await make_idea()
    await webhooks.update_webhook(
        actor=admin, webhook_id=off.id, url=off.url, events=off.events, public_only=True, active=False
    )
    await webhooks.delete_webhook(actor=admin, webhook_id=hook.id)
    await outbox.Worker(settings).drain()
    assert receiver.received == []
    rows = await OutboxMessage.filter(channel="webhook").order_by("id")
    assert [r.last_error for r in rows] == ["the webhook was deleted", "the webhook is turned off"]
    assert all(r.failed_at is not None for r in rows)


async def test_the_form_reports_every_mistake(client: Client) -> None:
    await client.sign_in_as(await make_user(role="admin"))
    await client.get("/admin/webhooks")
    response = await client.post_form("/admin/webhooks", {"url": "ftp://example.com/x", "secret": "short"})
    assert response.status_code == 422
    for message in ("http:// or https://", "at least one event", "16 to 100 characters"):
        assert message in response.text
    assert await Webhook.all().count() == 0


async def test_a_new_secret_is_kept_and_an_empty_one_keeps_the_old(client: Client) -> None:
    hook = await add_webhook("https://example.com/hook")
    old = hook.secret
    await client.sign_in_as(await make_user(role="admin"))
    await client.get(f"/admin/webhooks/{hook.id}")
    form = {"url": hook.url, "events": ["vote.cast"], "active": "1", "secret": ""}
    assert (await client.post_form(f"/admin/webhooks/{hook.id}", form)).status_code == 303
    hook = await Webhook.get(id=hook.id)
    assert (hook.secret, hook.events, hook.public_only) == (old, ["vote.cast"], False)
    form["secret"] = "a-brand-new-secret-123"
    await client.post_form(f"/admin/webhooks/{hook.id}", form)
    assert (await Webhook.get(id=hook.id)).secret == "a-brand-new-secret-123"


@pytest.mark.parametrize("role", ["member", "staff", "community_manager"])
async def test_only_admins_manage_webhooks(client: Client, anon: Client, role: str) -> None:
    hook = await add_webhook("https://example.com/hook")
    assert (await anon.get("/admin/webhooks")).status_code in (302, 303, 401)
    await client.sign_in_as(await make_user(role=role))
    assert (await client.get("/admin/webhooks")).status_code == 403
    assert (await client.get(f"/admin/webhooks/{hook.id}")).status_code == 403
    await client.get("/account")
    assert (await client.post_form(f"/admin/webhooks/{hook.id}/test")).status_code == 403
    assert (await client.post_form(f"/admin/webhooks/{hook.id}/delete")).status_code == 403
    assert await Webhook.filter(id=hook.id).exists()
    assert await OutboxMessage.filter(channel="webhook").count() == 0


def test_the_signature_matches_the_readme() -> None:
    """The README's worked example, recomputed by the portal and by the reference verifier."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Webhooks") :]
    secret = re.search(r"secret\s+`([^`]+)`", section).group(1)  # type: ignore[union-attr]
    timestamp = int(re.search(r"timestamp\s+`(\d+)`", section).group(1))  # type: ignore[union-attr]
    body = re.search(r"body\s+`([^`]+)`", section).group(1)  # type: ignore[union-attr]
    header = re.search(r"`Hearken-Signature: (t=\d+,v1=[0-9a-f]{64})`", section).group(1)  # type: ignore[union-attr]
    assert webhooks.signature_header(secret, timestamp, body) == header
    assert verify(secret, header, body.encode(), now=timestamp)
