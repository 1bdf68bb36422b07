"""PostgreSQL: the search vector moves out of `ideas` into `idea_search`, kept by triggers.

As a generated column, the vector was recomputed from the whole text on every update of the row,
and every update wrote a new entry for each of its words into the GIN index: a vote (which moves
the idea's counters) cost ~4 ms of database CPU. Now only a change of title, tags or body touches
the vector, and counter updates leave the search index alone. SQLite's FTS5 triggers already
fired only on the text columns: nothing changes there.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops

_VECTOR = """setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A')
         || setweight(to_tsvector('simple', coalesce(NEW.tags_text, '')), 'B')
         || setweight(to_tsvector('english', coalesce(NEW.body_md, '')), 'C')"""

_POSTGRES = [
    """CREATE TABLE idea_search (
         idea_id INTEGER PRIMARY KEY REFERENCES ideas (id) ON DELETE CASCADE,
         search_vector TSVECTOR NOT NULL)""",
    f"""CREATE FUNCTION idea_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO idea_search (idea_id, search_vector) VALUES (NEW.id, {_VECTOR})
         ON CONFLICT (idea_id) DO UPDATE SET search_vector = EXCLUDED.search_vector;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER idea_search_insert AFTER INSERT ON ideas
       FOR EACH ROW EXECUTE FUNCTION idea_search_sync()""",
    """CREATE TRIGGER idea_search_update AFTER UPDATE OF title, tags_text, body_md ON ideas
       FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.tags_text IS DISTINCT FROM NEW.tags_text
                          OR OLD.body_md IS DISTINCT FROM NEW.body_md)
       EXECUTE FUNCTION idea_search_sync()""",
    "INSERT INTO idea_search (idea_id, search_vector) SELECT id, search_vector FROM ideas",
    "ALTER TABLE ideas DROP COLUMN search_vector",
    "CREATE INDEX idea_search_idx ON idea_search USING GIN (search_vector)",
]


async def forward(apps, schema_editor):
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for sql in _POSTGRES:
            await client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [("ideas", "0004_indexes_for_merges_and_history")]

    operations = [ops.RunPython(forward)]
