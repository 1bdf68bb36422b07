import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="User",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("email", fields.CharField(unique=True, max_length=254)),
                ("name", fields.CharField(max_length=80)),
                ("password_hash", fields.CharField(null=True, max_length=200)),
                ("role", fields.CharField(default="member", db_default="member", max_length=20)),
                ("email_verified_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("banned_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("session_version", fields.IntField(default=1, db_default=1)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={"table": "users", "app": "portal", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ApiToken",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="api_tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("name", fields.CharField(default="", db_default="", max_length=80)),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                ("prefix", fields.CharField(max_length=12)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={"table": "api_tokens", "app": "portal", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="AuditEntry",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
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
                ("action", fields.CharField(max_length=60)),
                ("object_kind", fields.CharField(default="", db_default="", max_length=40)),
                ("object_id", fields.BigIntField(null=True)),
                (
                    "detail",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={"table": "audit_log", "app": "portal", "pk_attr": "id"},
            bases=["Model"],
        ),
    ]
