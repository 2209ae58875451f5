"""Two-step sign-in and lockouts: the half-signed-in steps, failed sign-ins per address and per unknown account name
(growing delays shared by every process), and a person's lockout (since when, from which addresses, notice sent).

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signin_steps",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("next_path", sa.String(300), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id_hash", name="pk_signin_steps"),
    )
    op.create_index("ix_signin_steps_expires_at", "signin_steps", ["expires_at"])
    op.create_table(
        "signin_failures",
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name="pk_signin_failures"),
    )
    op.create_index("ix_signin_failures_failed_at", "signin_failures", ["failed_at"])
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("locked_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("failed_from", sa.Text(), nullable=True))
        batch.add_column(sa.Column("lock_notice_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("lock_notice_at")
        batch.drop_column("failed_from")
        batch.drop_column("locked_at")
    op.drop_index("ix_signin_failures_failed_at", "signin_failures")
    op.drop_table("signin_failures")
    op.drop_index("ix_signin_steps_expires_at", "signin_steps")
    op.drop_table("signin_steps")
