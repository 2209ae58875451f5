"""The blind name index: keyed hashes of each case's name keys (events/name_index.py), and whether it is complete.

A database that already holds cases starts incomplete: `vigil names reindex` (which needs the master key, which
a migration does not have) fills it, and until then search opens the cases as before.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "name_index",
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.Column("case_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("hash", "case_id", name="pk_name_index"),
    )
    op.create_index("ix_name_index_case_id", "name_index", ["case_id"])
    state = op.create_table(
        "name_index_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_name_index_state"),
    )
    had_cases = op.get_bind().execute(sa.text("SELECT 1 FROM case_keys LIMIT 1")).first() is not None
    op.bulk_insert(state, [{"id": 1, "complete": not had_cases}])


def downgrade() -> None:
    op.drop_table("name_index_state")
    op.drop_index("ix_name_index_case_id", table_name="name_index")
    op.drop_table("name_index")
