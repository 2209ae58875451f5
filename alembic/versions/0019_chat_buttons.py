"""Acknowledge from a chat button: how an alert was acknowledged (`acknowledged_via`), and the Slack signatures and
Telegram update ids already acted on (`chat_callbacks_seen`), kept until they could no longer be replayed, so a
replay is refused by every server process and replica alike.

Revision ID: 0019
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("acknowledged_via", sa.String(300), nullable=True))
    op.create_table(
        "chat_callbacks_seen",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_chat_callbacks_seen_expires_at", "chat_callbacks_seen", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_callbacks_seen_expires_at", table_name="chat_callbacks_seen")
    op.drop_table("chat_callbacks_seen")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("acknowledged_via")
