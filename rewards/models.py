"""The insider program: points ledger, earning rules, tiers, perks, codes and claims."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

RULE_KEYS = (
    "idea_posted",
    "idea_planned",
    "idea_shipped",
    "ship_voter_share",
    "vote_received",
    "comment_helpful",
    "duplicate_accepted",
)
ENTRY_KINDS = ("earn", "grant", "spend", "refund", "reversal")
PERK_KINDS = ("deal", "early_access")
# Claims that hold a place: they count against limits, quantities and capacities.
LIVE_CLAIM_STATES = ("claimed", "admitted", "waitlisted", "pending")


class EarningRule(Model):
    key = fields.CharField(max_length=30, primary_key=True)
    name = fields.CharField(max_length=80)
    points = fields.IntField()
    daily_cap = fields.IntField(default=0, db_default=0)  # most points per member per day; 0: none
    enabled = fields.BooleanField(default=True, db_default=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "earning_rules"


class Tier(Model):
    key = fields.CharField(max_length=30, primary_key=True)
    name = fields.CharField(max_length=40)
    threshold = fields.IntField()  # lifetime points
    position = fields.IntField()

    class Meta:
        table = "tiers"
        ordering = ("position",)


class MemberPoints(Model):
    """Cached totals of one member's ledger, changed atomically with every entry."""

    user: fields.OneToOneRelation = fields.OneToOneField(
        "portal.User", related_name=False, on_delete=fields.CASCADE, primary_key=True
    )
    balance = fields.IntField(default=0, db_default=0)
    lifetime = fields.IntField(default=0, db_default=0)  # earned and granted, net of reversals
    tier = fields.CharField(max_length=30, default="member", db_default="member")
    tier_locked = fields.BooleanField(default=False, db_default=False)
    promoted_at = fields.DatetimeField(null=True)
    leaderboard_opt_out = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "member_points"
        indexes = (("lifetime",),)


class PointEntry(Model):
    """One change of a member's points. Never edited: a reversal is a new entry."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    delta = fields.IntField()
    kind = fields.CharField(max_length=10)
    rule = fields.CharField(max_length=30, null=True)
    reason = fields.CharField(max_length=300)
    source_kind = fields.CharField(max_length=30, default="", db_default="")
    source_id = fields.BigIntField(null=True)
    # Idempotency: one entry per (rule, source, member); a replayed event writes nothing.
    dedupe_key = fields.CharField(max_length=160, unique=True)
    reverses: fields.ForeignKeyNullableRelation[PointEntry] = fields.ForeignKeyField(
        "rewards.PointEntry", related_name=False, null=True, unique=True, on_delete=fields.RESTRICT
    )
    actor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "point_entries"
        # (user_id, rule, created_at): what a rule paid a member today, read by every capped award.
        indexes = (
            ("user_id", "created_at"),
            ("source_kind", "source_id"),
            ("rule", "created_at"),
            ("user_id", "rule", "created_at"),
        )


class TierChange(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    from_tier = fields.CharField(max_length=30)
    to_tier = fields.CharField(max_length=30)
    cause = fields.CharField(max_length=300)
    actor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "tier_changes"


class Perk(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)
    title = fields.CharField(max_length=120)
    description = fields.TextField(default="")
    description_html = fields.TextField(default="")
    image_url = fields.CharField(max_length=300, default="", db_default="")
    starts_at = fields.DatetimeField(null=True)
    ends_at = fields.DatetimeField(null=True)
    min_tier = fields.CharField(max_length=30, null=True)
    cost = fields.IntField(default=0, db_default=0)
    # Units left to give (deals) or seats left (programs); None: unlimited.
    remaining = fields.IntField(null=True)
    quantity = fields.IntField(null=True)
    per_member_limit = fields.IntField(default=1, db_default=1)
    shared_code = fields.CharField(max_length=100, null=True)
    approval_required = fields.BooleanField(default=False, db_default=False)
    # Programs: the idea whose voters and commenters are invited first, and the board they open.
    idea_id = fields.IntField(null=True)
    board_id = fields.IntField(null=True)
    private_notes = fields.TextField(default="")  # shown to participants only
    created_at = fields.DatetimeField(auto_now_add=True)
    archived_at = fields.DatetimeField(null=True)

    class Meta:
        table = "perks"


class Claim(Model):
    id = fields.BigIntField(primary_key=True)
    perk: fields.ForeignKeyRelation[Perk] = fields.ForeignKeyField(
        "rewards.Perk", related_name="claims", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    # 1..per_member_limit; the unique index makes "at most N per member" hold under any concurrency.
    seq = fields.IntField()
    status = fields.CharField(max_length=12)
    code = fields.CharField(max_length=100, null=True)
    points_spent = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "claims"
        unique_together = (("perk", "user", "seq"),)
        indexes = (("perk_id", "status", "id"), ("user_id", "status"))


class DealCode(Model):
    id = fields.BigIntField(primary_key=True)
    perk: fields.ForeignKeyRelation[Perk] = fields.ForeignKeyField(
        "rewards.Perk", related_name="codes", on_delete=fields.CASCADE
    )
    code = fields.CharField(max_length=100)
    # Set once, by a conditional update: a code is never given twice.
    claim_id = fields.BigIntField(null=True, unique=True)
    burnt = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "deal_codes"
        unique_together = (("perk", "code"),)
        indexes = (("perk_id", "claim_id"),)


class DuplicateReport(Model):
    """A member's report that one idea repeats another, paid when staff merge the two."""

    id = fields.IntField(primary_key=True)
    reporter: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    idea_id = fields.IntField()
    duplicate_of_id = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "duplicate_reports"
        unique_together = (("reporter", "idea_id", "duplicate_of_id"),)
        indexes = (("idea_id",),)
