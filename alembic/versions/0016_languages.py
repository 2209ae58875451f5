"""The team's languages: a subscription's `language` for the messages it receives (en, ru, fr, tr; English for
those made before), and an alert's title kept as a phrase (JSON) so each subscriber reads it in their language
(none for alerts raised before: they are sent with their stored English title).

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("title_phrase", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("title_phrase")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("language")
