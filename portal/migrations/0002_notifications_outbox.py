import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Notification",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=40)),
                ("title", fields.CharField(max_length=300)),
                ("body", fields.TextField(default="", unique=False)),
                ("url", fields.CharField(default="", db_default="", max_length=500)),
                ("dedupe_key", fields.CharField(unique=True, max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("read_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "notifications",
                "app": "portal",
                "indexes": [Index(fields=["user_id", "read_at", "created_at"])],
                "pk_attr": "id",
                "table_description": "One in-app notification for one person.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="OutboxMessage",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("channel", fields.CharField(max_length=20)),
                (
                    "payload",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("dedupe_key", fields.CharField(unique=True, max_length=200)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("available_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("attempts", fields.IntField(default=0, db_default=0)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("failed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("last_error", fields.TextField(default="", db_default="", unique=False)),
            ],
            options={
                "table": "outbox",
                "app": "portal",
                "indexes": [Index(fields=["sent_at", "failed_at", "available_at"])],
                "pk_attr": "id",
                "table_description": "Work that leaves the process (e-mail, webhook), written in the transaction of its cause.",
            },
            bases=["Model"],
        ),
    ]
