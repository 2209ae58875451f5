"""Webhook subscriptions may opt in to the log's checkpoints (`log.checkpoint`): a flag on the subscription, and on
a checkpoint delivery the tree size it carries, so that every retry sends the same checkpoint.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: existing subscriptions stay out (false), existing deliveries carry no checkpoint.
    op.add_column("subscriptions", sa.Column("log_checkpoints", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))
    op.add_column("deliveries", sa.Column("tree_size", sa.BigInteger(), nullable=True))
    op.create_index("ix_deliveries_checkpoint", "deliveries", ["tree_size", "subscription_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_deliveries_checkpoint", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("tree_size")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("log_checkpoints")
