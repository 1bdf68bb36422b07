from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("ideas", "0002_search_and_statuses"), ("portal", "0002_notifications_outbox")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ChangelogEntry",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("title", fields.CharField(max_length=140)),
                ("body_md", fields.TextField(default="", unique=False)),
                ("body_html", fields.TextField(default="", unique=False)),
                (
                    "author",
                    fields.ForeignKeyField(
                        "portal.User",
                        source_field="author_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                ("min_tier", fields.CharField(null=True, max_length=30)),
                (
                    "published_at",
                    fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={
                "table": "changelog_entries",
                "app": "ideas",
                "pk_attr": "id",
                "table_description": "A public note that something shipped, linking the ideas it answers.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ChangelogIdea",
            fields=[
                ("id", fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "entry",
                    fields.ForeignKeyField(
                        "ideas.ChangelogEntry",
                        source_field="entry_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
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
            ],
            options={
                "table": "changelog_ideas",
                "app": "ideas",
                "unique_together": (("entry", "idea"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="Board",
            name="decision_target_days",
            field=fields.IntField(default=30, db_default=30),
        ),
        ops.AddField(
            model_name="Idea",
            name="promise_label",
            field=fields.CharField(default="", db_default="", max_length=20),
        ),
        ops.AddField(
            model_name="Idea",
            name="promised_by",
            field=fields.DateField(null=True),
        ),
    ]
