"""Append-only, hash-chained access log of case reads and exports.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=True),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_access_log"),
    )
    op.create_index("ix_access_log_case_id", "access_log", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log "
                   "FOR EACH ROW EXECUTE FUNCTION vigil_events_append_only()")
        op.execute("CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
                   "FOR EACH STATEMENT EXECUTE FUNCTION vigil_events_append_only()")
    else:
        op.execute("CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
                   "BEGIN SELECT RAISE(ABORT, 'access_log is append-only: UPDATE refused'); END")
        op.execute("CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
                   "BEGIN SELECT RAISE(ABORT, 'access_log is append-only: DELETE refused'); END")


def downgrade() -> None:
    op.drop_table("access_log")
