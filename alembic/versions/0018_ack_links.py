"""Acknowledge links: how an alert was acknowledged when it was from a message's link (a phrase, JSON: the channel
kind and the subscription's name), beside `acknowledged_by` ("subscription:<id>"). None for the dashboard and API.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("acknowledged_via", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("acknowledged_via")
