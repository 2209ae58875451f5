"""The case list's order kept in the projection: minus the risk rank, the next date, and until when they hold.

Existing rows start lapsed (list_valid_until ''), so the first scheduler tick places them; until then the list
assesses them as it reads.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_projections") as batch:
        batch.add_column(sa.Column("list_sort", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("list_next_at", sa.String(32), nullable=False, server_default="9999"))
        batch.add_column(sa.Column("list_valid_until", sa.String(32), nullable=False, server_default=""))
    op.create_index("ix_case_projections_list_sort", "case_projections", ["list_sort", "list_next_at", "case_id"])
    op.create_index("ix_case_projections_status_list", "case_projections",
                    ["status", "list_sort", "list_next_at", "case_id"])  # a status filter reads in order too
    op.create_index("ix_case_projections_list_valid_until", "case_projections", ["list_valid_until"])


def downgrade() -> None:
    op.drop_index("ix_case_projections_list_valid_until", "case_projections")
    op.drop_index("ix_case_projections_status_list", "case_projections")
    op.drop_index("ix_case_projections_list_sort", "case_projections")
    with op.batch_alter_table("case_projections") as batch:
        batch.drop_column("list_valid_until")
        batch.drop_column("list_next_at")
        batch.drop_column("list_sort")
