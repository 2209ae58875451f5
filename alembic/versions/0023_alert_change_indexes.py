"""Indexes on the alerts' raised, acknowledged and withdrawn times, so the live feed's read of the alerts changed
lately (service/live.py) is three index ranges instead of a scan of every alert on each tick.

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

COLUMNS = ("raised_at", "acknowledged_at", "withdrawn_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(f"ix_alerts_{column}", "alerts", [column])


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_alerts_{column}", table_name="alerts")
