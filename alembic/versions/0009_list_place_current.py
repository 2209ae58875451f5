"""The case list's stored order now sets a level's current crises above its old ones (list_sort is
-(2 x risk rank + current)): lapse every stored place so the scheduler tick (or the next read) places it again.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE case_projections SET list_valid_until = ''")


def downgrade() -> None:
    op.execute("UPDATE case_projections SET list_valid_until = ''")
