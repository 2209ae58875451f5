"""Secret calendar addresses: one row per link, the token kept only as its SHA-256, the owner an actor
("person:<id>" or "key:<id>"), whether the feed may carry names, and the language it is written in.

Revision ID: 0020
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_links",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("include_names", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("language", sa.String(16), nullable=False, server_default="en"),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_links"),
        sa.UniqueConstraint("token_hash", name="uq_calendar_links_token_hash"),
    )
    op.create_index("ix_calendar_links_owner", "calendar_links", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_calendar_links_owner", "calendar_links")
    op.drop_table("calendar_links")
