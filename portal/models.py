"""The portal's own tables: people and how they sign in, their API tokens, the audit log of staff
actions, notifications, and the outbox of work that leaves the process."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

ROLES = ("member", "staff", "community_manager", "admin")


class User(Model):
    id = fields.IntField(primary_key=True)
    # Stored lower-cased so that uniqueness ignores letter case.
    email = fields.CharField(max_length=254, unique=True)
    name = fields.CharField(max_length=80)
    password_hash = fields.CharField(max_length=200, null=True)
    role = fields.CharField(max_length=20, default="member", db_default="member")
    email_verified_at = fields.DatetimeField(null=True)
    banned_at = fields.DatetimeField(null=True)
    # Bumped to sign the user out everywhere (password change, ban).
    session_version = fields.IntField(default=1, db_default=1)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "users"

    def __str__(self) -> str:
        return self.name

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def display_name(self) -> str:
        return self.name


class ApiToken(Model):
    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name="api_tokens", on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=80, default="", db_default="")
    # SHA-256 of the token: tokens are long random strings, so a fast hash is safe here.
    token_hash = fields.CharField(max_length=64, unique=True)
    prefix = fields.CharField(max_length=12)
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_tokens"


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    action = fields.CharField(max_length=60)
    object_kind = fields.CharField(max_length=40, default="", db_default="")
    object_id = fields.BigIntField(null=True)
    detail = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "audit_log"


class Notification(Model):
    """One in-app notification for one person."""

    id = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name="notifications", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=40)
    title = fields.CharField(max_length=300)
    body = fields.TextField(default="")
    url = fields.CharField(max_length=500, default="", db_default="")
    # Idempotency: one notification per (cause, person), so a replayed event never notifies twice.
    dedupe_key = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    read_at = fields.DatetimeField(null=True)
    # Waiting for the person's next daily digest e-mail (their choice for this kind is "digest").
    digest_pending = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at", "created_at"), ("digest_pending", "created_at"))


class OutboxMessage(Model):
    """Work that leaves the process (e-mail, webhook), written in the transaction of its cause."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=20)  # "email" | "webhook"
    payload = fields.JSONField()
    dedupe_key = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    available_at = fields.DatetimeField(db_index=True)
    attempts = fields.IntField(default=0, db_default=0)
    sent_at = fields.DatetimeField(null=True)
    failed_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(default="", db_default="")

    class Meta:
        table = "outbox"
        indexes = (("sent_at", "failed_at", "available_at"),)


class Identity(Model):
    """An account at an OpenID Connect provider (provider + subject) that signs in as one user."""

    id = fields.IntField(primary_key=True)
    provider = fields.CharField(max_length=40)
    # The provider's stable, never reassigned id of the person (`sub`); not the e-mail, which changes.
    subject = fields.CharField(max_length=255)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name="identities", on_delete=fields.CASCADE
    )
    email = fields.CharField(max_length=254, default="", db_default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    last_used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "identities"
        unique_together = (("provider", "subject"),)


MAIL_MODES = ("instant", "digest", "never")


class NotificationPreference(Model):
    """How one person wants e-mail about one kind of notification. No row means the kind's default."""

    id = fields.IntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name="notification_preferences", on_delete=fields.CASCADE
    )
    kind = fields.CharField(max_length=40)
    mode = fields.CharField(max_length=10)  # one of MAIL_MODES

    class Meta:
        table = "notification_preferences"
        unique_together = (("user", "kind"),)


class UsedToken(Model):
    """A single-use link that was used: the unique digest makes a second use fail in the database."""

    id = fields.BigIntField(primary_key=True)
    digest = fields.CharField(max_length=64, unique=True)  # SHA-256 of the token, never the token
    purpose = fields.CharField(max_length=20)
    used_at = fields.DatetimeField(auto_now_add=True)
    # After this the token is refused on its age anyway, so the row may be deleted.
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "used_tokens"


class KeptMail(Model):
    """A mail the worker would have sent, kept for reading at /staff/mail when no SMTP is set."""

    id = fields.BigIntField(primary_key=True)
    outbox_id = fields.BigIntField(null=True)
    recipient = fields.CharField(max_length=254)
    subject = fields.CharField(max_length=300)
    text = fields.TextField()
    html = fields.TextField(default="")
    headers = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "kept_mail"


WEBHOOK_EVENTS = ("idea.posted", "idea.status_changed", "vote.cast", "comment.posted", "perk.claimed")


class Webhook(Model):
    """An address that receives chosen events as signed HTTP POST requests, through the outbox."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=500)
    # Shared with the receiver, which checks the signature of every delivery with it.
    secret = fields.CharField(max_length=100)
    events = fields.JSONField(default=list)  # names from WEBHOOK_EVENTS
    # Only events about content that visitors may see (public boards), never members' private acts.
    public_only = fields.BooleanField(default=True, db_default=True)
    active = fields.BooleanField(default=True, db_default=True)
    description = fields.CharField(max_length=200, default="", db_default="")
    created_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "portal.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhooks"


class WebhookAttempt(Model):
    """One try at delivering one event to one webhook: the receiver's answer, or what went wrong."""

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "portal.Webhook", related_name="attempts", on_delete=fields.CASCADE
    )
    outbox_id = fields.BigIntField()
    delivery_id = fields.CharField(max_length=40)  # the Hearken-Delivery header, the same on every try
    event = fields.CharField(max_length=40)
    attempt = fields.IntField()
    status_code = fields.IntField(null=True)
    error = fields.TextField(default="", db_default="")
    duration_ms = fields.IntField(default=0, db_default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "webhook_attempts"
        indexes = (("webhook_id", "id"), ("outbox_id",))
