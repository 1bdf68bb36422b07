from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("portal", "0002_notifications_outbox")]

    initial = True

    operations = [
        ops.CreateModel(
            name="DuplicateReport",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "reporter",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="reporter_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("idea_id", fields.IntField()),
                ("duplicate_of_id", fields.IntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "duplicate_reports",
                "app": "rewards",
                "unique_together": (("reporter", "idea_id", "duplicate_of_id"),),
                "indexes": [Index(fields=["idea_id"])],
                "pk_attr": "id",
                "table_description": "A member's report that one idea repeats another, paid when staff merge the two.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="EarningRule",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=30)),
                ("name", fields.CharField(max_length=80)),
                ("points", fields.IntField()),
                ("daily_cap", fields.IntField(default=0, db_default=0)),
                ("enabled", fields.BooleanField(default=True, db_default=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={"table": "earning_rules", "app": "rewards", "pk_attr": "key"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MemberPoints",
            fields=[
                (
                    "user",
                    fields.OneToOneField(
                        "portal.User",
                        source_field="user_id",
                        primary_key=True,
                        db_index=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("balance", fields.IntField(default=0, db_default=0)),
                ("lifetime", fields.IntField(default=0, db_default=0)),
                ("tier", fields.CharField(default="member", db_default="member", max_length=30)),
                ("tier_locked", fields.BooleanField(default=False, db_default=False)),
                ("promoted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("leaderboard_opt_out", fields.BooleanField(default=False, db_default=False)),
            ],
            options={
                "table": "member_points",
                "app": "rewards",
                "indexes": [Index(fields=["lifetime"])],
                "pk_attr": "user_id",
                "table_description": "Cached totals of one member's ledger, changed atomically with every entry.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Perk",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("kind", fields.CharField(max_length=20)),
                ("title", fields.CharField(max_length=120)),
                ("description", fields.TextField(default="", unique=False)),
                ("description_html", fields.TextField(default="", unique=False)),
                ("image_url", fields.CharField(default="", db_default="", max_length=300)),
                ("starts_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("min_tier", fields.CharField(null=True, max_length=30)),
                ("cost", fields.IntField(default=0, db_default=0)),
                ("remaining", fields.IntField(null=True)),
                ("quantity", fields.IntField(null=True)),
                ("per_member_limit", fields.IntField(default=1, db_default=1)),
                ("shared_code", fields.CharField(null=True, max_length=100)),
                ("approval_required", fields.BooleanField(default=False, db_default=False)),
                ("idea_id", fields.IntField(null=True)),
                ("board_id", fields.IntField(null=True)),
                ("private_notes", fields.TextField(default="", unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("archived_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "perks", "app": "rewards", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Claim",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "perk",
                    fields.ForeignKeyField(
                        "rewards.Perk",
                        source_field="perk_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="claims",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("seq", fields.IntField()),
                ("status", fields.CharField(max_length=12)),
                ("code", fields.CharField(null=True, max_length=100)),
                ("points_spent", fields.IntField(default=0, db_default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={
                "table": "claims",
                "app": "rewards",
                "unique_together": (("perk", "user", "seq"),),
                "indexes": [Index(fields=["perk_id", "status", "id"]), Index(fields=["user_id", "status"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DealCode",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "perk",
                    fields.ForeignKeyField(
                        "rewards.Perk",
                        source_field="perk_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="codes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("code", fields.CharField(max_length=100)),
                ("claim_id", fields.BigIntField(null=True, unique=True)),
                ("burnt", fields.BooleanField(default=False, db_default=False)),
            ],
            options={
                "table": "deal_codes",
                "app": "rewards",
                "unique_together": (("perk", "code"),),
                "indexes": [Index(fields=["perk_id", "claim_id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PointEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("delta", fields.IntField()),
                ("kind", fields.CharField(max_length=10)),
                ("rule", fields.CharField(null=True, max_length=30)),
                ("reason", fields.CharField(max_length=300)),
                ("source_kind", fields.CharField(default="", db_default="", max_length=30)),
                ("source_id", fields.BigIntField(null=True)),
                ("dedupe_key", fields.CharField(unique=True, max_length=160)),
                (
                    "reverses",
                    fields.ForeignKeyField(
                        "rewards.PointEntry",
                        source_field="reverses_id",
                        null=True,
                        unique=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "point_entries",
                "app": "rewards",
                "indexes": [
                    Index(fields=["user_id", "created_at"]),
                    Index(fields=["source_kind", "source_id"]),
                    Index(fields=["rule", "created_at"]),
                ],
                "pk_attr": "id",
                "table_description": "One change of a member's points. Never edited: a reversal is a new entry.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Tier",
            fields=[
                ("key", fields.CharField(primary_key=True, unique=True, db_index=True, max_length=30)),
                ("name", fields.CharField(max_length=40)),
                ("threshold", fields.IntField()),
                ("position", fields.IntField()),
            ],
            options={"table": "tiers", "app": "rewards", "pk_attr": "key"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TierChange",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("from_tier", fields.CharField(max_length=30)),
                ("to_tier", fields.CharField(max_length=30)),
                ("cause", fields.CharField(max_length=300)),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "tier_changes", "app": "rewards", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
