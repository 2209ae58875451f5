"""Acknowledge from a chat button: the Slack signatures and Telegram update ids already acted on
(`chat_callbacks_seen`; how an alert was acknowledged, `acknowledged_via`, came with 0018), kept until they could no longer be replayed, so a
replay is refused by every server process and replica alike.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_callbacks_seen",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_chat_callbacks_seen_expires_at", "chat_callbacks_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_callbacks_seen_expires_at", table_name="chat_callbacks_seen")
    op.drop_table("chat_callbacks_seen")
