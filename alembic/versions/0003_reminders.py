"""Reminders: rows derived from each case's dated events, claimed by the scheduler tick when due.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("item_event_id", sa.String(36), nullable=False),
        sa.Column("item_type", sa.String(64), nullable=False),
        sa.Column("item_at", UTCDateTime(), nullable=False),
        sa.Column("offset_seconds", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("is_last", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reminders"),
    )
    op.create_index("ix_reminders_due", "reminders", ["state", "due_at"])
    op.create_index("ix_reminders_case_id", "reminders", ["case_id"])


def downgrade() -> None:
    op.drop_table("reminders")
