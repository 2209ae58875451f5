"""People who sign in with a password and a second factor (TOTP, or a passkey), the invitations that create them,
their passkeys and the WebAuthn challenges handed out, and dashboard sessions that belong to a person rather than an
API key.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

from events.tables import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("totp_secret", sa.Text(), nullable=True),
        sa.Column("totp_step", sa.BigInteger(), nullable=True),
        sa.Column("enrolled_at", UTCDateTime(), nullable=True),
        sa.Column("recovery_codes", sa.Text(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("failed_at", UTCDateTime(), nullable=True),
        sa.Column("disabled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("name", name="uq_people_name"),
        sa.UniqueConstraint("email", name="uq_people_email"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_table(
        "passkeys",
        sa.Column("credential_id", sa.String(1400), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("credential_id", name="pk_passkeys"),
    )
    op.create_index("ix_passkeys_person_id", "passkeys", ["person_id"])
    op.create_table(
        "webauthn_challenges",
        sa.Column("challenge", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("challenge", name="pk_webauthn_challenges"),
    )
    with op.batch_alter_table("web_sessions") as batch:
        batch.alter_column("key_id", existing_type=sa.String(36), nullable=True)
        batch.add_column(sa.Column("person_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("client", sa.String(64), nullable=True))
        batch.create_index("ix_web_sessions_person_id", ["person_id"])


def downgrade() -> None:
    op.execute("DELETE FROM web_sessions WHERE key_id IS NULL")
    with op.batch_alter_table("web_sessions") as batch:
        batch.drop_index("ix_web_sessions_person_id")
        batch.drop_column("client")
        batch.drop_column("person_id")
        batch.alter_column("key_id", existing_type=sa.String(36), nullable=False)
    op.drop_table("webauthn_challenges")
    op.drop_table("passkeys")
    op.drop_table("invitations")
    op.drop_table("people")
