"""Staff pages for community managers: rules, tiers, perks and codes, grants, and the report.

Every page asks the "rewards.manage" policy (community managers and admins); the services ask it
again for every change.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from tortoise.expressions import Q
from tortoise.functions import Count

from ideas.models import Board
from portal import permissions
from portal.errors import Invalid, NotFound
from portal.models import User
from portal.templating import flash, render
from portal.web import form, see_other, user_of
from rewards import manage, perks, reports, rules, tiers
from rewards.models import LIVE_CLAIM_STATES, PERK_KINDS, Claim, DealCode, Perk

MAX_CODES_FILE = 5 * 1024 * 1024
PERK_FIELDS = (
    "kind",
    "title",
    "description",
    "min_tier",
    "cost",
    "quantity",
    "per_member_limit",
    "starts_at",
    "ends_at",
    "shared_code",
    "codes",
    "capacity",
    "approval_required",
    "board_id",
    "idea_id",
    "private_notes",
)
_NEW_PERK = dict.fromkeys(PERK_FIELDS, "") | {"kind": "deal", "per_member_limit": "1"}


def _manager(request: Request) -> User:
    user = user_of(request)
    permissions.require(user, "rewards.manage")
    assert user is not None
    return user


async def _form_with_codes(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """The form's fields and any error with its file: codes come from the textarea, or from an
    uploaded CSV file when one is sent."""
    data = await request.form()
    values = {k: v for k, v in data.items() if isinstance(v, str)}
    upload = data.get("codes_file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return values, {}
    raw = await upload.read(MAX_CODES_FILE + 1)
    if len(raw) > MAX_CODES_FILE:
        return values, {"codes_file": "The file is larger than 5 MB; split it."}
    try:
        values["codes"] = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return values, {"codes_file": "Save the file as UTF-8 text (CSV)."}
    return values, {}


# --- overview ---------------------------------------------------------------------------------


async def home_page(request: Request) -> Response:
    _manager(request)
    return render(request, "rewards/admin_home.html", {"figures": await reports.overview()})


# --- earning rules ----------------------------------------------------------------------------


def _rule_input(values: dict[str, str]) -> dict[str, Any]:
    return {
        "points": values.get("points", ""),
        "daily_cap": values.get("daily_cap", ""),
        "enabled": values.get("enabled") == "1",
    }


async def rules_page(request: Request) -> Response:
    _manager(request)
    return await _rules_page(request)


async def _rules_page(
    request: Request, failed: str | None = None, values: dict[str, Any] | None = None, errors: Any = None
) -> Response:
    """`failed` names the rule whose form came back with `errors` and the values sent."""
    return render(
        request,
        "rewards/admin_rules.html",
        {"rules": await rules.rules(), "failed": failed, "form": values or {}, "errors": errors or {}},
        status_code=422 if errors else 200,
    )


async def preview_rule(request: Request) -> Response:
    user = _manager(request)
    key = request.path_params["key"]
    values = _rule_input(await form(request))
    try:
        preview = await rules.preview_rule_change(
            actor=user, key=key, points=values["points"], daily_cap=values["daily_cap"]
        )
    except Invalid as exc:
        return await _rules_page(request, key, values, exc.errors)
    rule = next(r for r in await rules.rules() if r.key == key)
    return render(
        request, "rewards/admin_rule_preview.html", {"rule": rule, "preview": preview, "form": values}
    )


async def update_rule(request: Request) -> Response:
    user = _manager(request)
    key = request.path_params["key"]
    values = _rule_input(await form(request))
    try:
        rule = await rules.update_rule(actor=user, key=key, **values)
    except Invalid as exc:
        return await _rules_page(request, key, values, exc.errors)
    state = "" if rule.enabled else " (switched off)"
    flash(request, f"“{rule.name}” now pays {rule.points} points{state}, from now on.", "success")
    return see_other("/admin/rewards/rules")


# --- tiers ------------------------------------------------------------------------------------


async def tiers_page(request: Request) -> Response:
    _manager(request)
    return await _tiers_page(request)


async def _tiers_page(
    request: Request, which: str | None = None, values: dict[str, str] | None = None, errors: Any = None
) -> Response:
    """`which` names the form that came back with errors: "thresholds" or "member"."""
    return render(
        request,
        "rewards/admin_tiers.html",
        {
            "tiers": await tiers.all_tiers(),
            "changes": await manage.recent_tier_changes(),
            "which": which,
            "form": values or {},
            "errors": errors or {},
        },
        status_code=422 if errors else 200,
    )


async def set_thresholds(request: Request) -> Response:
    user = _manager(request)
    values = await form(request)
    thresholds = {k.removeprefix("threshold_"): v for k, v in values.items() if k.startswith("threshold_")}
    try:
        changes = await tiers.set_thresholds(actor=user, thresholds=thresholds)
    except Invalid as exc:
        return await _tiers_page(request, "thresholds", values, exc.errors)
    moved = len(changes)
    flash(request, f"Thresholds saved; {moved} member{'' if moved == 1 else 's'} changed tier.", "success")
    return see_other("/admin/rewards/tiers")


async def set_member_tier(request: Request) -> Response:
    user = _manager(request)
    values = await form(request)
    try:
        await manage.set_tier(
            actor=user,
            email=values.get("email", ""),
            tier=values.get("tier", ""),
            lock=values.get("lock") == "1",
            reason=values.get("reason", ""),
        )
    except Invalid as exc:
        return await _tiers_page(request, "member", values, exc.errors)
    flash(request, f"{values.get('email', '').strip()} now holds the tier {values.get('tier')}.", "success")
    return see_other("/admin/rewards/tiers")


# --- perks ------------------------------------------------------------------------------------


async def perks_page(request: Request) -> Response:
    user = _manager(request)
    if request.method != "POST":
        return await _perks_page(request, dict(_NEW_PERK), {})
    values, file_errors = await _form_with_codes(request)
    try:
        if file_errors:
            raise Invalid(file_errors)
        perk = await perks.create_perk(actor=user, data=values)
    except Invalid as exc:
        return await _perks_page(request, values, exc.errors)
    flash(request, f"“{perk.title}” is created; members whose tier opens it are told.", "success")
    return see_other(f"/admin/rewards/perks/{perk.id}")


async def _perks_page(request: Request, values: dict[str, Any], errors: dict[str, str]) -> Response:
    listing = await (
        Perk.all()
        .annotate(live_claims=Count("claims", _filter=Q(claims__status__in=LIVE_CLAIM_STATES)))
        .order_by("-id")
        .values(
            "id",
            "kind",
            "title",
            "min_tier",
            "cost",
            "quantity",
            "remaining",
            "ends_at",
            "archived_at",
            "live_claims",
        )
    )
    return render(
        request,
        "rewards/admin_perks.html",
        {
            "perks": listing,
            "kinds": PERK_KINDS,
            "tiers": await tiers.all_tiers(),
            "boards": await Board.filter(archived_at=None).order_by("position", "id"),
            "form": values,
            "errors": errors,
        },
        status_code=422 if errors else 200,
    )


async def perk_admin_page(request: Request) -> Response:
    _manager(request)
    return await _perk_admin_page(request, int(request.path_params["perk_id"]))


async def _perk_admin_page(
    request: Request, perk_id: int, which: str | None = None, errors: Any = None
) -> Response:
    """`which` names the form that came back with errors: "codes" or a claim id."""
    perk = await Perk.get_or_none(id=perk_id)
    if perk is None:
        raise NotFound("There is no such perk.")
    claims = await Claim.filter(perk_id=perk.id).select_related("user").order_by("id")
    pool = await (
        DealCode.filter(perk_id=perk.id)
        .annotate(
            codes=Count("id"),
            given=Count("id", _filter=Q(claim_id__not_isnull=True)),
            burned=Count("id", _filter=Q(burnt=True)),
        )
        .values("codes", "given", "burned")
    )
    return render(
        request,
        "rewards/admin_perk.html",
        {
            "perk": perk,
            "claims": claims,
            "live_states": LIVE_CLAIM_STATES,
            "pool": pool[0] if pool else {"codes": 0, "given": 0, "burned": 0},
            "which": which,
            "errors": errors or {},
            "is_live": perks.is_live(perk),
        },
        status_code=422 if errors else 200,
    )


async def add_codes(request: Request) -> Response:
    user = _manager(request)
    perk_id = int(request.path_params["perk_id"])
    values, file_errors = await _form_with_codes(request)
    try:
        if file_errors:
            raise Invalid(file_errors)
        added = await perks.add_codes(actor=user, perk_id=perk_id, codes=values.get("codes", ""))
    except Invalid as exc:
        return await _perk_admin_page(request, perk_id, "codes", exc.errors)
    flash(request, f"{added} code{'' if added == 1 else 's'} added to the pool.", "success")
    return see_other(f"/admin/rewards/perks/{perk_id}")


async def revoke_claim(request: Request) -> Response:
    user = _manager(request)
    claim_id = int(request.path_params["claim_id"])
    values = await form(request)
    claim = await Claim.get_or_none(id=claim_id)
    if claim is None:
        raise NotFound("There is no such claim.")
    try:
        await perks.revoke_claim(
            actor=user,
            claim_id=claim_id,
            return_code=values.get("code") == "return",
            reason=values.get("reason", ""),
        )
    except Invalid as exc:
        return await _perk_admin_page(request, claim.perk_id, str(claim_id), exc.errors)
    flash(request, "The claim is revoked; any points spent are refunded.", "success")
    return see_other(f"/admin/rewards/perks/{claim.perk_id}")


async def decide_application(request: Request) -> Response:
    user = _manager(request)
    values = await form(request)
    claim = await perks.decide_application(
        actor=user, claim_id=int(request.path_params["claim_id"]), approve=values.get("decision") == "approve"
    )
    told = {"admitted": "admitted", "waitlisted": "approved, and waits for a place", "declined": "declined"}
    flash(request, f"The application is {told.get(claim.status, claim.status)}.", "success")
    return see_other(f"/admin/rewards/perks/{claim.perk_id}")


# --- grants -----------------------------------------------------------------------------------


async def grants_page(request: Request) -> Response:
    user = _manager(request)
    values = {"email": request.query_params.get("email", ""), "points": "", "reason": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: v for k, v in (await form(request)).items() if k in ("email", "points", "reason")}
        try:
            entry = await manage.grant_points(actor=user, **values)
        except Invalid as exc:
            errors = exc.errors
        else:
            verb = "granted to" if entry.delta > 0 else "deducted from"
            flash(request, f"{abs(entry.delta)} points {verb} {values['email'].strip()}.", "success")
            return see_other("/admin/rewards/grants")
    return render(
        request,
        "rewards/admin_grants.html",
        {"form": values, "errors": errors, "grants": await manage.recent_grants()},
        status_code=422 if errors else 200,
    )


# --- report -----------------------------------------------------------------------------------


async def report_page(request: Request) -> Response:
    _manager(request)
    weeks = await reports.claims_per_week()
    return render(
        request,
        "rewards/admin_report.html",
        {
            "per_rule": await reports.points_per_rule(),
            "weeks": weeks,
            "busiest": max([w["total"] for w in weeks] + [1]),
        },
    )


def routes() -> list[BaseRoute]:
    base = "/admin/rewards"
    return [
        Route(base, home_page),
        Route(base + "/rules", rules_page),
        Route(base + "/rules/{key:str}/preview", preview_rule, methods=["POST"]),
        Route(base + "/rules/{key:str}", update_rule, methods=["POST"]),
        Route(base + "/tiers", tiers_page),
        Route(base + "/tiers", set_thresholds, methods=["POST"]),
        Route(base + "/tiers/member", set_member_tier, methods=["POST"]),
        Route(base + "/perks", perks_page, methods=["GET", "POST"]),
        Route(base + "/perks/{perk_id:int}", perk_admin_page),
        Route(base + "/perks/{perk_id:int}/codes", add_codes, methods=["POST"]),
        Route(base + "/claims/{claim_id:int}/revoke", revoke_claim, methods=["POST"]),
        Route(base + "/claims/{claim_id:int}/decide", decide_application, methods=["POST"]),
        Route(base + "/grants", grants_page, methods=["GET", "POST"]),
        Route(base + "/report", report_page),
    ]
