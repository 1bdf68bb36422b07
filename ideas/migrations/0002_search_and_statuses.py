"""Full-text search (PostgreSQL tsvector + GIN, SQLite FTS5) and the default statuses."""

from tortoise import migrations
from tortoise.migrations import operations as ops

_POSTGRES = [
    """ALTER TABLE ideas ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
         setweight(to_tsvector('english', coalesce(title, '')), 'A')
         || setweight(to_tsvector('simple', coalesce(tags_text, '')), 'B')
         || setweight(to_tsvector('english', coalesce(body_md, '')), 'C')
       ) STORED""",
    "CREATE INDEX ideas_search_idx ON ideas USING GIN (search_vector)",
]

# Triggers fire only on changes to the indexed text, so counter updates (votes, comments) stay
# single-row writes whose row count can be trusted.
_SQLITE = [
    """CREATE VIRTUAL TABLE ideas_fts USING fts5(
         title, body_md, tags_text, content='ideas', content_rowid='id', tokenize='porter unicode61')""",
    """CREATE TRIGGER ideas_fts_ai AFTER INSERT ON ideas BEGIN
         INSERT INTO ideas_fts(rowid, title, body_md, tags_text)
         VALUES (new.id, new.title, new.body_md, new.tags_text);
       END""",
    """CREATE TRIGGER ideas_fts_ad AFTER DELETE ON ideas BEGIN
         INSERT INTO ideas_fts(ideas_fts, rowid, title, body_md, tags_text)
         VALUES ('delete', old.id, old.title, old.body_md, old.tags_text);
       END""",
    """CREATE TRIGGER ideas_fts_au AFTER UPDATE OF title, body_md, tags_text ON ideas BEGIN
         INSERT INTO ideas_fts(ideas_fts, rowid, title, body_md, tags_text)
         VALUES ('delete', old.id, old.title, old.body_md, old.tags_text);
         INSERT INTO ideas_fts(rowid, title, body_md, tags_text)
         VALUES (new.id, new.title, new.body_md, new.tags_text);
       END""",
    "INSERT INTO ideas_fts(ideas_fts) VALUES ('rebuild')",
]

STATUSES = [
    ("open", "Open", "#475467", False, 0),
    ("under_review", "Under review", "#7a4d00", False, 1),
    ("planned", "Planned", "#3046c8", False, 2),
    ("in_progress", "In progress", "#6b3fa0", False, 3),
    ("shipped", "Shipped", "#0f6b3a", True, 4),
    ("declined", "Declined", "#b42318", True, 5),
]


async def forward(apps, schema_editor):
    client = schema_editor.client
    statements = _POSTGRES if client.capabilities.dialect == "postgres" else _SQLITE
    for sql in statements:
        await client.execute_script(sql)
    placeholder = "$" if client.capabilities.dialect == "postgres" else "?"
    params = ", ".join(f"{placeholder}{i + 1}" if placeholder == "$" else "?" for i in range(5))
    for row in STATUSES:
        await client.execute_query(
            f"INSERT INTO statuses (key, name, color, is_closed, position) VALUES ({params})", list(row)
        )


class Migration(migrations.Migration):
    dependencies = [("ideas", "0001_initial")]

    operations = [ops.RunPython(forward)]
