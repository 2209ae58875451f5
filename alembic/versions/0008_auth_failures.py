"""Failed authentications per client address and minute, shared by every server process (the throttle).

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),  # whole minutes since the epoch
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", "minute", name="pk_auth_failures"),
    )
    op.create_index("ix_auth_failures_minute", "auth_failures", ["minute"])


def downgrade() -> None:
    op.drop_index("ix_auth_failures_minute", "auth_failures")
    op.drop_table("auth_failures")
