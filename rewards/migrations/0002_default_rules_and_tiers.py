"""Default earning rules and tiers; community managers change them afterwards."""

from tortoise import migrations
from tortoise.migrations import operations as ops

RULES = [
    ("idea_posted", "Idea posted (paid once staff triage it)", 5, 20),
    ("idea_planned", "Your idea is planned", 20, 0),
    ("idea_shipped", "Your idea shipped", 100, 0),
    ("ship_voter_share", "Early vote on an idea that shipped", 10, 0),
    ("vote_received", "Vote received on your idea", 1, 50),
    ("comment_helpful", "Comment marked helpful by staff", 5, 25),
    ("duplicate_accepted", "Duplicate report accepted", 5, 20),
]

TIERS = [
    ("member", "Member", 0, 0),
    ("contributor", "Contributor", 50, 1),
    ("insider", "Insider", 200, 2),
    ("champion", "Champion", 1000, 3),
]


async def forward(apps, schema_editor):
    client = schema_editor.client
    pg = client.capabilities.dialect == "postgres"

    def marks(n):
        return ", ".join(f"${i + 1}" if pg else "?" for i in range(n))

    for key, name, points, cap in RULES:
        await client.execute_query(
            f"INSERT INTO earning_rules (key, name, points, daily_cap, enabled, updated_at) "
            f"VALUES ({marks(4)}, {'TRUE' if pg else '1'}, CURRENT_TIMESTAMP)",
            [key, name, points, cap],
        )
    for key, name, threshold, position in TIERS:
        await client.execute_query(
            f"INSERT INTO tiers (key, name, threshold, position) VALUES ({marks(4)})",
            [key, name, threshold, position],
        )


class Migration(migrations.Migration):
    dependencies = [("rewards", "0001_initial")]

    operations = [ops.RunPython(forward)]
