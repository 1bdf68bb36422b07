from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("portal", "0003_signin_mail_digests")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Webhook",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("url", fields.CharField(max_length=500)),
                ("secret", fields.CharField(max_length=100)),
                (
                    "events",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("public_only", fields.BooleanField(default=True, db_default=True)),
                ("active", fields.BooleanField(default=True, db_default=True)),
                ("description", fields.CharField(default="", db_default="", max_length=200)),
                (
                    "created_by",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="created_by_id",
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
                "table": "webhooks",
                "app": "portal",
                "pk_attr": "id",
                "table_description": "An address that receives chosen events as signed HTTP POST requests, through the outbox.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="WebhookAttempt",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "webhook",
                    fields.ForeignKeyField(
                        "portal.Webhook",
                        source_field="webhook_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attempts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("outbox_id", fields.BigIntField()),
                ("delivery_id", fields.CharField(max_length=40)),
                ("event", fields.CharField(max_length=40)),
                ("attempt", fields.IntField()),
                ("status_code", fields.IntField(null=True)),
                ("error", fields.TextField(default="", db_default="", unique=False)),
                ("duration_ms", fields.IntField(default=0, db_default=0)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "webhook_attempts",
                "app": "portal",
                "indexes": [Index(fields=["webhook_id", "id"]), Index(fields=["outbox_id"])],
                "pk_attr": "id",
                "table_description": "One try at delivering one event to one webhook: the receiver's answer, or what went wrong.",
            },
            bases=["Model"],
        ),
    ]
