"""Tables of the alerting side: subscriptions, alerts, the delivery outbox and every attempt."""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text, UniqueConstraint, false

from events.tables import UTCDateTime, metadata

subscriptions = Table(
    "subscriptions", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("team", String(64), nullable=False),
    Column("all_teams", Boolean, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("channel", Text, nullable=False),  # sealed: URLs and tokens are secrets
    Column("escalate_to", Text, nullable=True),  # sealed
    Column("secret", Text, nullable=False),  # sealed whsec_ signing secret
    Column("filter", Text, nullable=False),
    Column("reminders", Text, nullable=False),
    Column("escalate_after_seconds", Integer, nullable=True),
    Column("include_personal_data", Boolean, nullable=False),
    Column("log_checkpoints", Boolean, nullable=False, server_default=false()),  # log.checkpoint webhooks (0015)
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("disabled_reason", String(300), nullable=True),
    Column("deleted_at", UTCDateTime, nullable=True),
    Column("language", String(8), nullable=False, server_default="en"),  # of the messages it receives (0016)
)

alerts = Table(
    "alerts", metadata,
    Column("id", String(36), primary_key=True),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # open / acknowledged / withdrawn
    Column("case_id", String(36), nullable=False),
    Column("event_id", String(36), nullable=True),
    Column("title", String(300), nullable=False),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=True),
    Column("late", Boolean, nullable=False),
    Column("dedupe_key", String(200), nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(100), nullable=True),
    Column("withdrawn_at", UTCDateTime, nullable=True),
    Column("title_phrase", Text, nullable=True),  # the title as a phrase (JSON), for other languages (0016)
    Column("acknowledged_via", Text, nullable=True),  # a phrase (JSON): which link or button acknowledged it (0018)
    UniqueConstraint("dedupe_key", name="uq_alerts_dedupe_key"),
    Index("ix_alerts_case_id", "case_id"),
    Index("ix_alerts_event_id", "event_id"),
    # The live feed's reads of what changed lately, one range per time (0023).
    Index("ix_alerts_raised_at", "raised_at"),
    Index("ix_alerts_acknowledged_at", "acknowledged_at"),
    Index("ix_alerts_withdrawn_at", "withdrawn_at"),
)

deliveries = Table(
    "deliveries", metadata,
    Column("id", String(36), primary_key=True),  # the webhook-id: the same on every retry
    Column("alert_id", String(36), nullable=True),  # none for test messages and checkpoints
    Column("subscription_id", String(36), nullable=False),
    Column("kind", String(16), nullable=False),  # raised / escalated / withdrawn / test / checkpoint
    Column("target", String(16), nullable=False),  # channel / escalation
    Column("state", String(16), nullable=False),  # pending / delivered / failed / dead
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("lease_until", UTCDateTime, nullable=True),
    Column("first_attempt_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Column("leased_by", String(64), nullable=True),  # the worker holding the lease (0011)
    Column("tree_size", BigInteger, nullable=True),  # a checkpoint delivery's checkpoint: each retry sends it (0015)
    UniqueConstraint("alert_id", "subscription_id", "kind", name="uq_deliveries_alert_id"),
    # One copy of a checkpoint per subscription (NULL sizes, every other kind, never collide).
    Index("ix_deliveries_checkpoint", "tree_size", "subscription_id", unique=True),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_subscription_id", "subscription_id"),
)

chat_callbacks_seen = Table(
    "chat_callbacks_seen", metadata,  # Slack signatures and Telegram update ids acted on, until stale (0019)
    Column("key", String(120), primary_key=True),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_chat_callbacks_seen_expires_at", "expires_at"),
)

worker_heartbeats = Table(
    "worker_heartbeats", metadata,  # each running delivery worker, beating while it lives (0011)
    Column("worker_id", String(64), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
)

delivery_attempts = Table(
    "delivery_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False),
    Column("attempted_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # delivered / retry / failed
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Index("ix_delivery_attempts_delivery_id", "delivery_id"),
)

reminders = Table(
    "reminders", metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("kind", String(32), nullable=False),  # hearing / deadline / removal / measure_expiry / contact_overdue
    Column("item_event_id", String(36), nullable=False),  # the event that set the date
    Column("item_type", String(64), nullable=False),
    Column("item_at", UTCDateTime, nullable=False),  # the dated moment (contact_overdue: the removal)
    Column("offset_seconds", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("is_last", Boolean, nullable=False),
    Column("state", String(16), nullable=False),  # pending / sent / skipped / cancelled
    Column("fired_at", UTCDateTime, nullable=True),
    Column("late", Boolean, nullable=False),
    Column("note", String(200), nullable=True),
    Index("ix_reminders_due", "state", "due_at"),
    Index("ix_reminders_case_id", "case_id"),
)
