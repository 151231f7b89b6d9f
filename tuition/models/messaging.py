"""Messages to parents: a school's messaging settings and templates, guardians' contacts
(with their opt-out), campaigns, and the outbox of messages with their delivery events.

The outbox is append-only in spirit: a message row moves forward through its states
(queued -> sending -> sent -> delivered, or failed / unknown / skipped) and every step is
also recorded as a :class:`MessageEvent` with when, through which channel and why.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .common import created_at_column, partial_index

MESSAGE_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "unknown", "skipped")


class MessagingSettings(db.Model):
    """Which channels a school uses, in which order, and its own provider credentials.

    Every credential left empty falls back to the deployment's (``TUITION_ZNS_APP_ID``, ...).
    Secrets are write-only in the staff app: pages say whether one is set, never what it is.
    """

    __tablename__ = "messaging_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), unique=True)
    #: Off: nothing is written for this school (no confirmations, no campaigns).
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Comma-separated channels in fallback order, e.g. ``"zns,sms"``.
    channels: Mapped[str] = mapped_column(String(40), default="sms")
    #: Send payment confirmations automatically when a payment is booked.
    confirmations: Mapped[bool] = mapped_column(Boolean, default=True)
    zns_app_id: Mapped[str | None] = mapped_column(String(40))
    zns_app_secret: Mapped[str | None] = mapped_column(String(200))
    #: The OA secret key that signs Zalo's webhooks (X-ZEvent-Signature).
    zns_oa_secret: Mapped[str | None] = mapped_column(String(200))
    sms_api_key: Mapped[str | None] = mapped_column(String(200))
    sms_secret_key: Mapped[str | None] = mapped_column(String(200))
    #: Registered brandname (at most 11 characters).
    sms_brandname: Mapped[str | None] = mapped_column(String(11))
    email_sender: Mapped[str | None] = mapped_column(String(254))
    smtp_host: Mapped[str | None] = mapped_column(String(200))
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    smtp_user: Mapped[str | None] = mapped_column(String(200))
    smtp_password: Mapped[str | None] = mapped_column(String(200))
    #: Messages a day per channel; empty: the deployment's default.
    zns_daily_quota: Mapped[int | None] = mapped_column(Integer)
    sms_daily_quota: Mapped[int | None] = mapped_column(Integer)
    email_daily_quota: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = created_at_column()


class ProviderToken(db.Model):
    """An OAuth token pair kept between runs: Zalo's refresh token is single-use, so the new
    one must be stored after every refresh (under this row's lock)."""

    __tablename__ = "provider_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``zns:school:<id>`` for a school's own OA, ``zns:default`` for the deployment's.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = created_at_column()


class MessageTemplate(db.Model):
    """A school's wording of one kind of message (defaults in :mod:`tuition.messaging.core`)."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("school_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: notice, reminder_1, reminder_2, reminder_3 or confirmation.
    key: Mapped[str] = mapped_column(String(16))
    sms_text: Mapped[str] = mapped_column(Text)
    unaccented: Mapped[bool] = mapped_column(Boolean, default=True)
    email_subject: Mapped[str] = mapped_column(String(200))
    email_body: Mapped[str] = mapped_column(Text)
    #: The template Zalo approved for this kind, and its parameters: {zalo name: placeholder}.
    zns_template_id: Mapped[str | None] = mapped_column(String(20))
    zns_params: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = created_at_column()


class GuardianContact(db.Model):
    """A guardian as messages know them: the school and a phone number (or, without one, an
    email address). Carries the unguessable token of the opt-out link."""

    __tablename__ = "guardian_contacts"
    __table_args__ = (UniqueConstraint("school_id", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    #: ``0912345678`` (a normalised mobile number) or an email address.
    address: Mapped[str] = mapped_column(String(254))
    token: Mapped[str] = mapped_column(String(16), unique=True)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()


class Campaign(db.Model):
    """Notices or reminders sent to the guardians of some classes, on staff's request."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("kind IN ('notice', 'reminder')", name="kind"),
        CheckConstraint("level IS NULL OR level BETWEEN 1 AND 3", name="level"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    #: Reminders: 1 (first), 2 (second), 3 (final).
    level: Mapped[int | None] = mapped_column(Integer)
    #: Notices: the invoices' period; reminders: empty (every overdue invoice).
    period: Mapped[str | None] = mapped_column(String(16))
    #: Class names; empty: the whole school.
    classes: Mapped[list] = mapped_column(JSON, default=list)
    channels: Mapped[str] = mapped_column(String(40))
    #: Messages written for this campaign.
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Guardians not written to, with why: [{student_code, student_name, class, reason}].
    skipped: Mapped[list] = mapped_column(JSON, default=list)
    #: Messages left out because the same one already went to the same guardian.
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()


class Message(db.Model):
    """One message to one guardian: the outbox row that workers send."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("kind IN ('notice', 'reminder', 'confirmation')", name="kind"),
        CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'unknown', "
            "'skipped')", name="status"),
        # What the dispatcher looks for: queued and not enqueued yet.
        partial_index("ix_messages_to_enqueue", "next_attempt_at",
                      where="status = 'queued' AND enqueued_at IS NULL"),
        Index("ix_messages_status", "status", "school_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    level: Mapped[int | None] = mapped_column(Integer)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), index=True)
    #: Empty until the message is prepared (confirmations are prepared by the worker).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("guardian_contacts.id"))
    #: Never the same message to the same guardian twice: ``notice:<invoice>:<contact>``,
    #: ``reminder2:<invoice>:<contact>``, ``confirmation:<receipt>``.
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    #: Sent to the provider as eSMS ``RequestId`` and ZNS ``tracking_id``.
    request_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: The channels to try, in order (a snapshot of the school's or the campaign's).
    channels: Mapped[str] = mapped_column(String(40))
    #: Which of ``channels`` is being tried (fallback moves it on).
    channel_index: Mapped[int] = mapped_column(Integer, default=0)
    #: The channel of the last attempt.
    channel: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Rendered texts and values, fixed when prepared: {phone, email, sms, email_subject,
    #: email_body, zns_data, values}.
    content: Mapped[dict | None] = mapped_column(JSON)
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)
    #: Why it failed (or why it waits), in Vietnamese; and the provider's code.
    error: Mapped[str | None] = mapped_column(String(300))
    error_code: Mapped[str | None] = mapped_column(String(20))
    #: Not before: after a temporary error, a rate limit or an exhausted daily quota.
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: When the dispatcher handed it to RQ (empty: not yet, or to be handed again).
    enqueued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: How many times it was enqueued (part of the RQ job id).
    enqueues: Mapped[int] = mapped_column(Integer, default=0)
    #: A worker calling the provider owns the message until then; after that, the worker is
    #: presumed dead and the sweeper decides (resend when the provider deduplicates).
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MessageEvent(db.Model):
    """What happened to a message, step by step (append-only)."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    #: queued, sending, sent, delivered, failed, fallback, retry, deferred, unknown, ...
    event: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str | None] = mapped_column(String(8))
    detail: Mapped[str | None] = mapped_column(String(300))
    #: Empty for automatic steps.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at_column()
