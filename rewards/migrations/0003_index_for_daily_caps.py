from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """What a rule paid a member today is read by every capped award (each vote): an index for it.

    Without it PostgreSQL read every entry of the rule since midnight (18 ms per vote at 30,000).
    """

    dependencies = [("portal", "0004_webhooks"), ("rewards", "0002_default_rules_and_tiers")]

    initial = False

    operations = [
        ops.AddIndex(
            model_name="PointEntry",
            index=Index(fields=["user_id", "rule", "created_at"]),
        ),
    ]
