from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("ideas", "0003_targets_promises_changelog"), ("portal", "0004_webhooks")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="Idea",
            index=Index(fields=["merged_into_id"]),
        ),
        ops.AddIndex(
            model_name="StatusChange",
            index=Index(fields=["created_at", "id"]),
        ),
    ]
