"""Delivery leases name the worker that holds them, and workers beat a heartbeat: a killed worker's leases are
taken over within seconds instead of when the lease runs out.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("leased_by", sa.String(64), nullable=True))
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name="pk_worker_heartbeats"),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("leased_by")
