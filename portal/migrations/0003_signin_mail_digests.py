from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_notifications_outbox")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Identity",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("provider", fields.CharField(max_length=40)),
                ("subject", fields.CharField(max_length=255)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="identities",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("email", fields.CharField(default="", db_default="", max_length=254)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("last_used_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "identities",
                "app": "portal",
                "unique_together": (("provider", "subject"),),
                "pk_attr": "id",
                "table_description": "An account at an OpenID Connect provider (provider + subject) that signs in as one user.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="KeptMail",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("outbox_id", fields.BigIntField(null=True)),
                ("recipient", fields.CharField(max_length=254)),
                ("subject", fields.CharField(max_length=300)),
                ("text", fields.TextField(unique=False)),
                ("html", fields.TextField(default="", unique=False)),
                (
                    "headers",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "kept_mail",
                "app": "portal",
                "pk_attr": "id",
                "table_description": "A mail the worker would have sent, kept for reading at /staff/mail when no SMTP is set.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NotificationPreference",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notification_preferences",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("kind", fields.CharField(max_length=40)),
                ("mode", fields.CharField(max_length=10)),
            ],
            options={
                "table": "notification_preferences",
                "app": "portal",
                "unique_together": (("user", "kind"),),
                "pk_attr": "id",
                "table_description": "How one person wants e-mail about one kind of notification. No row means the kind's default.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="UsedToken",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("digest", fields.CharField(unique=True, max_length=64)),
                ("purpose", fields.CharField(max_length=20)),
                ("used_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ("expires_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "used_tokens",
                "app": "portal",
                "pk_attr": "id",
                "table_description": "A single-use link that was used: the unique digest makes a second use fail in the database.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Notification",
            name="digest_pending",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name="Notification",
            index=Index(fields=["digest_pending", "created_at"]),
        ),
    ]
