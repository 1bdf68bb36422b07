"""Boards, ideas, comments, statuses and their history."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

VISIBILITIES = ("public", "insiders", "private")


class Board(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=60, unique=True)
    name = fields.CharField(max_length=80)
    description = fields.TextField(default="", db_default="")
    visibility = fields.CharField(max_length=10, default="public", db_default="public")
    min_tier = fields.CharField(max_length=40, null=True)
    position = fields.IntField(default=0, db_default=0)
    # Service targets: staff answer a new idea within this many hours, and decide within these days.
    response_target_hours = fields.IntField(default=72, db_default=72)
    decision_target_days = fields.IntField(default=30, db_default=30)
    archived_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "boards"
        ordering = ("position", "id")


class Status(Model):
    """A step in an idea's life. `key` is a stable id (`planned`), while admins rename and recolour."""

    key = fields.CharField(max_length=30, primary_key=True)
    name = fields.CharField(max_length=40)
    color = fields.CharField(max_length=7, default="#5a6472", db_default="#5a6472")
    is_closed = fields.BooleanField(default=False, db_default=False)
    position = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "statuses"
        ordering = ("position", "key")


class Idea(Model):
    id = fields.IntField(primary_key=True)
    board: fields.ForeignKeyRelation[Board] = fields.ForeignKeyField(
        "ideas.Board", related_name="ideas", on_delete=fields.RESTRICT
    )
    author: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=140)
    slug = fields.CharField(max_length=80, default="", db_default="")
    body_md = fields.TextField(default="")
    body_html = fields.TextField(default="")
    status: fields.ForeignKeyRelation[Status] = fields.ForeignKeyField(
        "ideas.Status", related_name=False, on_delete=fields.RESTRICT, to_field="key"
    )
    vote_count = fields.IntField(default=0, db_default=0)
    comment_count = fields.IntField(default=0, db_default=0)
    # Activity decayed by age (see ideas/ranking.py); precomputed so the trending sort is an index scan.
    trending_score = fields.FloatField(default=0, db_default=0)
    tags_text = fields.CharField(max_length=400, default="", db_default="")
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.CharField(max_length=300, default="", db_default="")
    comments_locked = fields.BooleanField(default=False, db_default=False)
    merged_into: fields.ForeignKeyNullableRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # Plain id, not a foreign key: comments point at ideas, and a cycle would complicate deletes.
    official_comment_id = fields.IntField(null=True)
    first_response_at = fields.DatetimeField(null=True)
    decided_at = fields.DatetimeField(null=True)
    # A promise made when planning: ship by the end of this day (a month's or a quarter's last day).
    promised_by = fields.DateField(null=True)
    promise_label = fields.CharField(max_length=20, default="", db_default="")
    last_activity_at = fields.DatetimeField()
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ideas"
        indexes = (
            ("created_at", "id"),
            ("vote_count", "id"),
            ("trending_score", "id"),
            ("last_activity_at", "id"),
            ("board_id", "created_at", "id"),
            ("board_id", "vote_count", "id"),
            ("board_id", "trending_score", "id"),
            ("status_id", "created_at"),
            ("author_id", "created_at"),
            # The idea page lists the duplicates merged into it.
            ("merged_into_id",),
        )


class Tag(Model):
    id = fields.IntField(primary_key=True)
    slug = fields.CharField(max_length=40, unique=True)
    name = fields.CharField(max_length=40)

    class Meta:
        table = "tags"


class IdeaTag(Model):
    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name="idea_tags", on_delete=fields.CASCADE
    )
    tag: fields.ForeignKeyRelation[Tag] = fields.ForeignKeyField(
        "ideas.Tag", related_name=False, on_delete=fields.CASCADE
    )

    class Meta:
        table = "idea_tags"
        unique_together = (("idea", "tag"),)
        indexes = (("tag_id", "idea_id"),)


class IdeaRevision(Model):
    """The text of an idea before an edit, so edits are never silent."""

    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name="revisions", on_delete=fields.CASCADE
    )
    editor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    title = fields.CharField(max_length=140)
    body_md = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "idea_revisions"


class StatusChange(Model):
    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name="status_changes", on_delete=fields.CASCADE
    )
    actor: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    from_status = fields.CharField(max_length=30, null=True)
    to_status = fields.CharField(max_length=30)
    message_md = fields.TextField(default="")
    message_html = fields.TextField(default="")
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "status_changes"
        indexes = (("idea_id", "created_at"), ("created_at", "id"))


class Comment(Model):
    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name="comments", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.RESTRICT
    )
    parent: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        "ideas.Comment", related_name=False, null=True, on_delete=fields.CASCADE
    )
    body_md = fields.TextField()
    body_html = fields.TextField()
    by_staff = fields.BooleanField(default=False, db_default=False)
    # Staff-only notes on an idea: never shown to members, never counted.
    internal = fields.BooleanField(default=False, db_default=False)
    helpful_at = fields.DatetimeField(null=True)
    hidden_at = fields.DatetimeField(null=True)
    hidden_reason = fields.CharField(max_length=300, default="", db_default="")
    # The idea this comment was written on, when a merge moved it to the target.
    merged_from_id = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    edited_at = fields.DatetimeField(null=True)

    class Meta:
        table = "comments"
        indexes = (("idea_id", "created_at"),)


class Follow(Model):
    id = fields.IntField(primary_key=True)
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name="follows", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follows"
        unique_together = (("idea", "user"),)
        indexes = (("user_id",),)


class Attachment(Model):
    """An uploaded image. The bytes live in `portal.storage` under `key`."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=80, unique=True)
    owner: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, on_delete=fields.CASCADE
    )
    content_type = fields.CharField(max_length=40)
    size = fields.IntField()
    width = fields.IntField()
    height = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachments"


class ChangelogEntry(Model):
    """A public note that something shipped, linking the ideas it answers."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=140)
    body_md = fields.TextField(default="")
    body_html = fields.TextField(default="")
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    # Entries for insiders only, from this tier up (None: everyone).
    min_tier = fields.CharField(max_length=30, null=True)
    published_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "changelog_entries"


class ChangelogIdea(Model):
    id = fields.IntField(primary_key=True)
    entry: fields.ForeignKeyRelation[ChangelogEntry] = fields.ForeignKeyField(
        "ideas.ChangelogEntry", related_name="links", on_delete=fields.CASCADE
    )
    idea: fields.ForeignKeyRelation[Idea] = fields.ForeignKeyField(
        "ideas.Idea", related_name=False, on_delete=fields.CASCADE
    )

    class Meta:
        table = "changelog_ideas"
        unique_together = (("entry", "idea"),)
