"""Perks: deals with codes, and early-access programs with a capacity and a waitlist.

Nothing here is decided by reading a number and writing it back. A unit is taken with
`UPDATE perks SET remaining = remaining - 1 WHERE id = ? AND remaining > 0` and the row count
decides; a code is taken with `FOR UPDATE SKIP LOCKED` (PostgreSQL) or a conditional update that
retries (SQLite); "at most N per member" is a unique index on (perk, member, 1..N). So a limited
deal is never oversold and a code never given twice, whatever the concurrency.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from portal import audit, events, markup, notifications, permissions
from portal.errors import Conflict, Errors, Forbidden, Invalid, NotFound, Unauthorized
from portal.models import User
from rewards import ledger
from rewards.events import PerkClaimed
from rewards.models import LIVE_CLAIM_STATES, PERK_KINDS, Claim, DealCode, MemberPoints, Perk, Tier
from rewards.service import forget_access, perk_is_open_to
from rewards.tiers import all_tiers, check_tier_key, rank

MAX_CODES = 100_000
# A new perk without a minimum tier is announced from this tier up.
UNGATED_NOTICE_TIER = "insider"


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    code: str | None = None
    position: int | None = None


def _int(errors: Errors, field: str, value: Any, *, low: int, high: int, default: int | None) -> int | None:
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.add(field, "Give a whole number.")
        return default
    if not low <= number <= high:
        errors.add(field, f"Give a number from {low} to {high}.")
    return number


def _when(errors: Errors, field: str, value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        errors.add(field, "Give a date and time like 2026-12-01T09:00.")
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_codes(raw: Any, errors: Errors) -> list[str]:
    """Codes from a list or CSV text (first column; a header named `code` is skipped)."""
    if raw in (None, ""):
        return []
    if isinstance(raw, list):
        items = [str(c) for c in raw]
    else:
        items = [row[0] for row in csv.reader(io.StringIO(str(raw))) if row]
        if items and items[0].strip().lower() == "code":
            items = items[1:]
    codes = [c.strip() for c in items if c.strip()]
    if any(len(c) > 100 for c in codes):
        errors.add("codes", "Each code has at most 100 characters.")
    if len(set(codes)) != len(codes):
        errors.add("codes", "The codes contain duplicates.")
    if len(codes) > MAX_CODES:
        errors.add("codes", f"Upload at most {MAX_CODES:,} codes at once.")
    return codes


async def create_perk(*, actor: User | None, data: dict[str, Any]) -> Perk:
    permissions.require(actor, "rewards.manage")
    errors = Errors()
    kind = str(data.get("kind") or "")
    if kind not in PERK_KINDS:
        errors.add("kind", f"Choose one of {', '.join(PERK_KINDS)}.")
    title = " ".join(str(data.get("title") or "").split())
    if not 3 <= len(title) <= 120:
        errors.add("title", "Use 3 to 120 characters.")
    description = str(data.get("description") or "").strip()[:10_000]
    tiers = await all_tiers()
    try:
        min_tier = check_tier_key(tiers, data.get("min_tier"))
    except Invalid as exc:
        errors.add("min_tier", exc.errors["min_tier"])
        min_tier = None
    cost = _int(errors, "cost", data.get("cost"), low=0, high=1_000_000, default=0) or 0
    quantity = _int(errors, "quantity", data.get("quantity"), low=1, high=10_000_000, default=None)
    limit = _int(errors, "per_member_limit", data.get("per_member_limit"), low=1, high=100, default=1) or 1
    capacity = _int(errors, "capacity", data.get("capacity"), low=1, high=10_000_000, default=None)
    starts_at = _when(errors, "starts_at", data.get("starts_at"))
    ends_at = _when(errors, "ends_at", data.get("ends_at"))
    if starts_at and ends_at and ends_at <= starts_at:
        errors.add("ends_at", "The end comes after the start.")
    codes = parse_codes(data.get("codes"), errors)
    shared_code = str(data.get("shared_code") or "").strip() or None
    board_id = _int(errors, "board_id", data.get("board_id"), low=1, high=2**31 - 1, default=None)
    idea_id = _int(errors, "idea_id", data.get("idea_id"), low=1, high=2**31 - 1, default=None)
    if kind == "deal":
        if codes and shared_code:
            errors.add("codes", "Give either a shared code or a pool of unique codes, not both.")
        if not codes and not shared_code:
            errors.add("shared_code", "Give a shared code, or upload unique codes.")
        if codes:
            if quantity is not None and quantity != len(codes):
                errors.add("quantity", "With unique codes, the quantity is the number of codes.")
            quantity = len(codes)
        capacity = None
    elif kind == "early_access":
        if capacity is None:
            errors.add("capacity", "Give the number of places in the program.")
        if codes or shared_code:
            errors.add("codes", "Programs have no codes.")
        limit, cost = 1, 0
    errors.raise_if_any()
    remaining = capacity if kind == "early_access" else quantity
    async with in_transaction():
        perk = await Perk.create(
            kind=kind,
            title=title,
            description=description,
            description_html=markup.render_markdown(description),
            image_url=str(data.get("image_url") or "")[:300],
            starts_at=starts_at,
            ends_at=ends_at,
            min_tier=min_tier,
            cost=cost,
            quantity=quantity if kind == "deal" else capacity,
            remaining=remaining,
            per_member_limit=limit,
            shared_code=shared_code,
            approval_required=bool(data.get("approval_required")),
            board_id=board_id,
            idea_id=idea_id,
            private_notes=str(data.get("private_notes") or "")[:10_000],
        )
        if codes:
            await DealCode.bulk_create([DealCode(perk_id=perk.id, code=c) for c in codes], batch_size=1000)
        await audit.record(actor, "perk.create", kind="perk", object_id=perk.id, title=title)
        await _tell_members(perk, tiers)
    return perk


async def _tell_members(perk: Perk, tiers: list[Tier]) -> int:
    """Tells the members whose tier opens a new perk. A perk open to every tier is announced to
    insiders and up only: telling every member of every deal would be spam."""
    lowest = rank(tiers, perk.min_tier) if perk.min_tier else max(rank(tiers, UNGATED_NOTICE_TIER), 1)
    keys = [t.key for t in tiers[lowest:]]
    user_ids = await MemberPoints.filter(tier__in=keys).values_list("user_id", flat=True)
    when = f" It opens on {perk.starts_at:%d %b %Y}." if perk.starts_at and perk.starts_at > now() else ""
    return await notifications.notify(
        user_ids,
        kind="perk_open",
        title=f"New for you: {perk.title}",
        body=f"Your tier opens a new {'deal' if perk.kind == 'deal' else 'early-access program'}.{when}",
        url=f"/insiders/perks/{perk.id}",
        cause=f"perk_open:{perk.id}",
    )


async def add_codes(*, actor: User | None, perk_id: int, codes: Any) -> int:
    """Adds unique codes to a deal's pool; its quantity and stock grow by as many."""
    permissions.require(actor, "rewards.manage")
    perk = await Perk.get_or_none(id=perk_id)
    if perk is None or perk.kind != "deal":
        raise NotFound("There is no such deal.")
    if perk.shared_code:
        raise Invalid({"codes": "This deal has a shared code."})
    errors = Errors()
    new = parse_codes(codes, errors)
    if not new:
        errors.add("codes", "Give at least one code.")
    errors.raise_if_any()
    taken = set(await DealCode.filter(perk_id=perk.id, code__in=new).values_list("code", flat=True))
    if taken:
        raise Invalid({"codes": f"{len(taken)} of these codes are in the pool already."})
    async with in_transaction():
        await DealCode.bulk_create([DealCode(perk_id=perk.id, code=c) for c in new], batch_size=1000)
        await Perk.filter(id=perk.id).update(
            quantity=F("quantity") + len(new), remaining=F("remaining") + len(new)
        )
        await audit.record(actor, "perk.codes", kind="perk", object_id=perk.id, added=len(new))
    return len(new)


def is_live(perk: Perk, at: datetime | None = None) -> bool:
    at = at or now()
    return (
        perk.archived_at is None
        and (perk.starts_at is None or perk.starts_at <= at)
        and (perk.ends_at is None or at < perk.ends_at)
    )


async def _take_code(perk_id: int, claim_id: int) -> str | None:
    """Hands one free code of the pool to the claim; None when none is left."""
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        rows = await conn.execute_query_dict(
            "UPDATE deal_codes SET claim_id = $1 WHERE id = ("
            " SELECT id FROM deal_codes WHERE perk_id = $2 AND claim_id IS NULL AND NOT burnt"
            " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING code",
            [claim_id, perk_id],
        )
        return rows[0]["code"] if rows else None
    for _ in range(50):
        candidate = await DealCode.filter(perk_id=perk_id, claim_id=None, burnt=False).order_by("id").first()
        if candidate is None:
            return None
        if await DealCode.filter(id=candidate.id, claim_id=None).update(claim_id=claim_id):
            return candidate.code
    return None


async def claim_perk(*, actor: User | None, perk_id: int) -> ClaimResult:
    perk = await Perk.get_or_none(id=perk_id)
    if perk is None or perk.archived_at is not None:
        raise NotFound("There is no such perk.")
    permissions.require(actor, "perk.claim", perk)
    assert actor is not None
    if not await perk_is_open_to(actor, perk):
        raise Forbidden("This perk opens at a higher tier.")
    if not is_live(perk):
        raise Conflict("This perk is not open now.")
    async with in_transaction():
        # Lock the member's points row: their claims queue up, so limits and balance hold.
        points = await ledger.account(actor.id, lock=True)
        mine = await Claim.filter(perk_id=perk.id, user_id=actor.id, status__in=LIVE_CLAIM_STATES).count()
        if mine >= perk.per_member_limit:
            raise Conflict("You have claimed this perk as often as it allows.")
        if perk.cost > points.balance:
            raise Conflict(f"This perk costs {perk.cost} points; you have {points.balance}.")
        seq = await _free_seq(perk, actor.id)
        if perk.kind == "deal":
            return await _claim_deal(perk, actor, seq)
        return await _join_program(perk, actor, seq)


async def _free_seq(perk: Perk, user_id: int) -> int:
    used = set(await Claim.filter(perk_id=perk.id, user_id=user_id).values_list("seq", flat=True))
    free = [n for n in range(1, perk.per_member_limit + 1) if n not in used]
    if free:
        return free[0]
    # Every slot was used once (a claim revoked, say): reuse after the highest, still unique.
    return max(used) + 1


async def _create_claim(perk: Perk, user_id: int, seq: int, status: str) -> Claim:
    try:
        async with in_transaction():
            return await Claim.create(perk_id=perk.id, user_id=user_id, seq=seq, status=status)
    except IntegrityError:
        raise Conflict("You have claimed this perk as often as it allows.") from None


async def _claim_deal(perk: Perk, actor: User, seq: int) -> ClaimResult:
    taken = perk.remaining is None or await Perk.filter(id=perk.id, remaining__gt=0).update(
        remaining=F("remaining") - 1
    )
    if not taken:
        raise Conflict("Sold out: every unit of this deal has been claimed.")
    claim = await _create_claim(perk, actor.id, seq, "claimed")
    code = perk.shared_code
    if code is None:
        code = await _take_code(perk.id, claim.id)
        if code is None:
            raise Conflict("Sold out: every code of this deal has been given.")
    spent = 0
    if perk.cost:
        await ledger.spend(
            user_id=actor.id, points=perk.cost, reason=f"Claimed “{perk.title}”", claim_id=claim.id
        )
        spent = perk.cost
    await Claim.filter(id=claim.id).update(code=code, points_spent=spent)
    await claim.refresh_from_db()
    await events.emit(PerkClaimed(perk_id=perk.id, claim_id=claim.id, user_id=actor.id, status="claimed"))
    return ClaimResult(claim, code=code)


async def _join_program(perk: Perk, actor: User, seq: int) -> ClaimResult:
    if perk.approval_required:
        status = "pending"
    elif perk.remaining is None or await Perk.filter(id=perk.id, remaining__gt=0).update(
        remaining=F("remaining") - 1
    ):
        status = "admitted"
    else:
        status = "waitlisted"
    claim = await _create_claim(perk, actor.id, seq, status)
    await events.emit(PerkClaimed(perk_id=perk.id, claim_id=claim.id, user_id=actor.id, status=status))
    forget_access(actor)
    position = await waitlist_position(claim) if status in ("waitlisted", "pending") else None
    return ClaimResult(claim, position=position)


async def waitlist_position(claim: Claim) -> int:
    return await Claim.filter(perk_id=claim.perk_id, status=claim.status, id__lt=claim.id).count() + 1


async def leave_program(*, actor: User | None, perk_id: int) -> Claim:
    """Leaves a program (or its waitlist); a freed place goes to the first member waiting."""
    if actor is None:
        raise Unauthorized("Please sign in to do that.")
    perk = await Perk.get_or_none(id=perk_id)
    if perk is None or perk.kind != "early_access":
        raise NotFound("There is no such program.")
    async with in_transaction():
        claim = await (
            Claim.filter(perk_id=perk.id, user_id=actor.id, status__in=LIVE_CLAIM_STATES)
            .select_for_update()
            .first()
        )
        if claim is None:
            raise NotFound("You are not in this program.")
        if not await Claim.filter(id=claim.id, status=claim.status).update(status="left"):
            raise Conflict("Your place changed a moment ago; reload the page.")
        if claim.status == "admitted":
            await _free_place(perk)
        forget_access(actor)
        await claim.refresh_from_db()
        return claim


async def _free_place(perk: Perk) -> None:
    """Admits the first member waiting, or returns the place to the pool."""
    while True:
        first = await (
            Claim.filter(perk_id=perk.id, status="waitlisted").order_by("id").select_for_update().first()
        )
        if first is None:
            if perk.remaining is not None:
                await Perk.filter(id=perk.id).update(remaining=F("remaining") + 1)
            return
        if await Claim.filter(id=first.id, status="waitlisted").update(status="admitted"):
            await notifications.notify(
                [first.user_id],
                kind="program_admitted",
                title=f"You're in: {perk.title}",
                body="A place opened up and it is yours.",
                url=f"/insiders/perks/{perk.id}",
                cause=f"admitted:{first.id}",
            )
            return


async def decide_application(*, actor: User | None, claim_id: int, approve: bool) -> Claim:
    permissions.require(actor, "rewards.manage")
    claim = await Claim.get_or_none(id=claim_id).prefetch_related("perk")
    if claim is None or claim.status != "pending":
        raise NotFound("There is no such application waiting.")
    perk = claim.perk
    async with in_transaction():
        if not approve:
            status = "declined"
        elif perk.remaining is None or await Perk.filter(id=perk.id, remaining__gt=0).update(
            remaining=F("remaining") - 1
        ):
            status = "admitted"
        else:
            status = "waitlisted"
        if not await Claim.filter(id=claim.id, status="pending").update(status=status):
            # Decided a moment ago by someone else: roll back the place taken above.
            raise Conflict("The application was decided a moment ago; reload the page.")
        if status == "admitted":
            await notifications.notify(
                [claim.user_id],
                kind="program_admitted",
                title=f"You're in: {perk.title}",
                url=f"/insiders/perks/{perk.id}",
                cause=f"admitted:{claim.id}",
            )
        await audit.record(actor, "perk.application", kind="claim", object_id=claim.id, status=status)
    await claim.refresh_from_db()
    return claim


async def revoke_claim(*, actor: User | None, claim_id: int, return_code: bool, reason: str) -> Claim:
    """Takes a claim back: the code returns to the pool or is burnt; points spent are refunded."""
    permissions.require(actor, "rewards.manage")
    if not reason.strip():
        raise Invalid({"reason": "Give a reason; it is kept in the audit log."})
    claim = await Claim.get_or_none(id=claim_id).prefetch_related("perk")
    if claim is None or claim.status not in LIVE_CLAIM_STATES:
        raise NotFound("There is no such live claim.")
    perk = claim.perk
    async with in_transaction():
        if not await Claim.filter(id=claim.id, status=claim.status).update(status="revoked"):
            raise Conflict("The claim changed a moment ago; reload the page.")
        if perk.kind == "deal":
            code_row = await DealCode.filter(claim_id=claim.id).first()
            if code_row is not None:
                if return_code:
                    await DealCode.filter(id=code_row.id).update(claim_id=None)
                else:
                    await DealCode.filter(id=code_row.id).update(burnt=True)
            if perk.remaining is not None and (return_code or code_row is None):
                await Perk.filter(id=perk.id).update(remaining=F("remaining") + 1)
        elif claim.status == "admitted":
            await _free_place(perk)
        if claim.points_spent:
            await ledger.refund(
                user_id=claim.user_id,
                points=claim.points_spent,
                reason=f"Refund: {reason}",
                claim_id=claim.id,
            )
        await audit.record(
            actor, "perk.revoke", kind="claim", object_id=claim.id, reason=reason, code_returned=return_code
        )
    await claim.refresh_from_db()
    return claim


async def perks_for(user: User | None) -> list[dict[str, Any]]:
    """Live perks this member can see, with whether each is open to their tier and their claims."""
    perks = [p for p in await Perk.filter(archived_at=None).order_by("-id") if is_live(p)]
    claims: dict[int, list[Claim]] = {}
    if user is not None:
        for c in await Claim.filter(user_id=user.id, perk_id__in=[p.id for p in perks]).order_by("id"):
            claims.setdefault(c.perk_id, []).append(c)
    result = []
    for perk in perks:
        result.append(
            {
                "perk": perk,
                "open": await perk_is_open_to(user, perk),
                "claims": claims.get(perk.id, []),
                "sold_out": perk.kind == "deal" and perk.remaining == 0,
            }
        )
    return result


async def balance_of(user: User) -> MemberPoints:
    return await ledger.account(user.id)
