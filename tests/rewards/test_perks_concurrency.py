"""Limited quantities under real concurrency: many HTTP requests at once against a running server.

PostgreSQL only: SQLite serialises every write in one process, so it cannot show a race. The same
scenarios run one call after another, on both backends, in test_perks.py.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from portal import accounts
from portal.models import Notification, User
from rewards import perks
from rewards.models import Claim, DealCode, MemberPoints, Perk, PointEntry
from tests.factories import make_user
from tests.rewards.helpers import assert_problem, make_cm, make_deal, make_program, reach
from tests.rewards.test_perks import assert_codes_consistent

pytestmark = pytest.mark.usefixtures("app")

ONLY_POSTGRES = "concurrency is proven on PostgreSQL; SQLite serialises all writes in one process"


@pytest.fixture
def postgres_only(backend: str) -> None:
    """Requested before `live_server`, so no server is started for a backend that is skipped."""
    if backend != "postgres":
        pytest.skip(ONLY_POSTGRES)


async def _members(n: int, *, tier: str = "member", balance: int = 0) -> list[tuple[User, str]]:
    """`n` verified members with a tier and a balance, each with a personal API token."""
    members = [await make_user() for _ in range(n)]
    await MemberPoints.bulk_create(
        [MemberPoints(user_id=m.id, tier=tier, balance=balance, lifetime=balance) for m in members]
    )
    return [(m, await accounts.create_token(actor=None, owner=m)) for m in members]


def _client(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base,
        timeout=httpx.Timeout(120.0),
        limits=httpx.Limits(max_connections=250, max_keepalive_connections=250),
    )


async def _all_at_once(
    client: httpx.AsyncClient, method: str, url: str, tokens: list[str]
) -> list[httpx.Response]:
    """One request per token, all sent together; returns the responses in the tokens' order."""
    start = asyncio.Event()

    async def one(token: str) -> httpx.Response:
        await start.wait()
        return await client.request(method, url, headers={"Authorization": f"Bearer {token}"})

    tasks = [asyncio.create_task(one(t)) for t in tokens]
    await asyncio.sleep(0)  # every task is waiting at the start line
    start.set()
    return list(await asyncio.gather(*tasks))


def _assert_server_clean(tmp_path: Path) -> None:
    log = (tmp_path / "server.log").read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]


async def test_deals_under_concurrent_claims(
    postgres_only: None, backend: str, live_server: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip(ONLY_POSTGRES)
    cm = await make_cm()
    # A new client for each round: the server drops connections idle for 5 s (keep-alive timeout).
    for scenario in (
        _200_members_claim_25_unique_codes,
        _one_member_sends_20_claims_on_a_limit_of_one,
        _a_shared_code_deal_is_never_oversold_nor_claimed_below_its_tier,
    ):
        async with _client(live_server) as client:
            await scenario(client, cm)
    _assert_server_clean(tmp_path)


async def _200_members_claim_25_unique_codes(client: httpx.AsyncClient, cm: User) -> None:
    pool = [f"UNIQ-{n:04}" for n in range(25)]
    deal = await make_deal(cm, codes=pool, min_tier="contributor", cost=5)
    members = await _members(200, tier="contributor", balance=50)

    began = time.perf_counter()
    responses = await _all_at_once(client, "POST", f"/api/v1/perks/{deal.id}/claim", [t for _, t in members])
    elapsed = time.perf_counter() - began
    print(f"\n200 concurrent claims on 25 codes: {elapsed:.2f} s")

    won = [r for r in responses if r.status_code == 201]
    lost = [r for r in responses if r.status_code != 201]
    assert len(won) == 25, sorted({r.status_code for r in responses})
    assert len(lost) == 175
    for r in lost:
        assert "sold out" in assert_problem(r, 409)["detail"].lower()
    codes = [r.json()["code"] for r in won]
    assert len(set(codes)) == 25 and set(codes) == set(pool)

    assert (await Perk.get(id=deal.id)).remaining == 0
    claims = await Claim.filter(perk_id=deal.id)
    assert len(claims) == 25 and len({c.user_id for c in claims}) == 25
    assert sorted(c.code for c in claims) == sorted(codes)  # type: ignore[type-var]
    assert await DealCode.filter(perk_id=deal.id, claim_id=None).count() == 0
    await assert_codes_consistent(deal.id)
    # The cost was charged once to each winner, and to nobody else.
    winners = {c.user_id for c in claims}
    spends = await PointEntry.filter(kind="spend").values_list("user_id", "delta")
    assert sorted(spends) == sorted((uid, -5) for uid in winners)
    balances = dict(await MemberPoints.all().values_list("user_id", "balance"))
    assert all(balances[m.id] == (45 if m.id in winners else 50) for m, _ in members)


async def _one_member_sends_20_claims_on_a_limit_of_one(client: httpx.AsyncClient, cm: User) -> None:
    deal = await make_deal(cm, quantity=100, cost=10, per_member_limit=1)
    ((member, token),) = await _members(1, balance=100)

    responses = await _all_at_once(client, "POST", f"/api/v1/perks/{deal.id}/claim", [token] * 20)

    assert sorted(r.status_code for r in responses) == [201] + [409] * 19
    for r in responses:
        if r.status_code == 409:
            assert_problem(r, 409)
    assert await Claim.filter(perk_id=deal.id, user_id=member.id).count() == 1
    assert (await Perk.get(id=deal.id)).remaining == 99
    assert await PointEntry.filter(user_id=member.id, kind="spend").count() == 1
    assert (await MemberPoints.get(user_id=member.id)).balance == 90


async def _a_shared_code_deal_is_never_oversold_nor_claimed_below_its_tier(
    client: httpx.AsyncClient, cm: User
) -> None:
    deal = await make_deal(cm, shared_code="SPRING", quantity=10, min_tier="insider")
    eligible = await _members(40, tier="insider")
    below = await _members(5, tier="contributor")
    responses = await _all_at_once(
        client, "POST", f"/api/v1/perks/{deal.id}/claim", [t for _, t in eligible + below]
    )
    assert sorted(r.status_code for r in responses) == [201] * 10 + [403] * 5 + [409] * 30
    assert all(r.json()["code"] == "SPRING" for r in responses if r.status_code == 201)
    for r in responses[40:]:
        assert_problem(r, 403)
    assert (await Perk.get(id=deal.id)).remaining == 0
    assert await Claim.filter(perk_id=deal.id).count() == 10


async def test_30_join_a_program_of_10_at_once_and_leavers_admit_the_first_waiting(
    postgres_only: None, backend: str, live_server: str, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip(ONLY_POSTGRES)
    cm = await make_cm()
    program = await make_program(cm, capacity=10)
    members = await _members(30)
    token_of = {m.id: t for m, t in members}

    async with _client(live_server) as client:
        url = f"/api/v1/perks/{program.id}/claim"
        responses = await _all_at_once(client, "POST", url, list(token_of.values()))
        assert [r.status_code for r in responses] == [201] * 30, [
            r.text for r in responses if r.status_code != 201
        ]
        statuses = sorted(r.json()["claim"]["status"] for r in responses)
        assert statuses == ["admitted"] * 10 + ["waitlisted"] * 20
        for r in responses:
            if r.json()["claim"]["status"] == "waitlisted":
                assert 1 <= r.json()["claim"]["position"] <= 20

        assert (await Perk.get(id=program.id)).remaining == 0
        admitted = await Claim.filter(perk_id=program.id, status="admitted").order_by("id")
        waiting = await Claim.filter(perk_id=program.id, status="waitlisted").order_by("id")
        assert len(admitted) == 10 and len(waiting) == 20
        assert [await perks.waitlist_position(c) for c in waiting] == list(range(1, 21))

        # One admitted member leaves: the first waiting (lowest claim id) is admitted.
        leaver = admitted[0]
        left = await client.delete(url, headers={"Authorization": f"Bearer {token_of[leaver.user_id]}"})
        assert left.status_code == 200, left.text
        assert left.json()["claim"]["status"] == "left"
        assert (await Claim.get(id=waiting[0].id)).status == "admitted"
        assert await Notification.filter(user_id=waiting[0].user_id, kind="program_admitted").count() == 1
        assert (await Perk.get(id=program.id)).remaining == 0
        still = await Claim.filter(perk_id=program.id, status="waitlisted").order_by("id")
        assert [c.id for c in still] == [c.id for c in waiting[1:]]
        assert [await perks.waitlist_position(c) for c in still] == list(range(1, 20))

        # Five more leave at once: the next five waiting move in, in order, no more and no fewer.
        leavers = [token_of[c.user_id] for c in admitted[1:6]]
        gone = await _all_at_once(client, "DELETE", url, leavers)
        assert [r.status_code for r in gone] == [200] * 5
    now_admitted = {c.id for c in await Claim.filter(perk_id=program.id, status="admitted")}
    assert len(now_admitted) == 10
    assert {c.id for c in waiting[:6]} <= now_admitted
    assert [c.id for c in await Claim.filter(perk_id=program.id, status="waitlisted").order_by("id")] == [
        c.id for c in waiting[6:]
    ]
    assert (await Perk.get(id=program.id)).remaining == 0
    _assert_server_clean(tmp_path)


async def test_two_managers_approving_one_application_at_once_take_one_place(backend: str) -> None:
    """Both read the application as pending; only one may take a place (the other gets a 409)."""
    if backend != "postgres":
        pytest.skip(ONLY_POSTGRES)
    cm, other_cm = await make_cm(), await make_cm()
    for _ in range(3):
        program = await make_program(cm, capacity=3, approval_required=True)
        member = await make_user()
        claim = (await perks.claim_perk(actor=member, perk_id=program.id)).claim
        results = await asyncio.gather(
            perks.decide_application(actor=cm, claim_id=claim.id, approve=True),
            perks.decide_application(actor=other_cm, claim_id=claim.id, approve=True),
            return_exceptions=True,
        )
        assert sum(1 for r in results if isinstance(r, Claim)) == 1, results
        assert (await Claim.get(id=claim.id)).status == "admitted"
        assert (await Perk.get(id=program.id)).remaining == 2


async def test_grants_promote_once_under_concurrency(backend: str) -> None:
    """Many awards to one member at once: every entry lands, the totals match, one promotion."""
    if backend != "postgres":
        pytest.skip(ONLY_POSTGRES)
    cm = await make_cm()
    member = await make_user()
    await reach(cm, member, 1)
    await asyncio.gather(*(reach(cm, member, 10) for _ in range(30)))
    row = await MemberPoints.get(user_id=member.id)
    assert (row.balance, row.lifetime, row.tier) == (301, 301, "insider")
    from rewards.models import TierChange

    changes = await TierChange.filter(user_id=member.id).order_by("id").values_list("to_tier", flat=True)
    assert changes == ["contributor", "insider"]
