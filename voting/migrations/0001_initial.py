from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [
        ("ideas", "0002_search_and_statuses"),
        ("portal", "0001_initial"),
        ("portal", "0002_notifications_outbox"),
    ]

    initial = True

    operations = [
        ops.CreateModel(
            name="BoardVoteBudget",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "board",
                    fields.OneToOneField(
                        "ideas.Board",
                        source_field="board_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("votes_per_member", fields.IntField()),
            ],
            options={
                "table": "board_vote_budgets",
                "app": "voting",
                "pk_attr": "id",
                "table_description": "Optional: how many votes a member may have on open ideas of a board at once.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Vote",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "idea",
                    fields.ForeignKeyField(
                        "ideas.Idea",
                        source_field="idea_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
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
                ("priority", fields.CharField(null=True, max_length=10)),
                (
                    "on_behalf_by",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="on_behalf_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("source_note", fields.CharField(default="", db_default="", max_length=300)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "votes",
                "app": "voting",
                "unique_together": (("idea", "user"),),
                "indexes": [Index(fields=["user_id", "idea_id"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
