"""Idempotency keys scoped to the caller: the stored key is a hash of (caller, key), and the request's own hash
sits beside it so the same key with a different body can be refused.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch copy on SQLite would drop the append-only triggers.
    op.add_column("events", sa.Column("request_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_column("request_hash")
