"""Database tables (SQLAlchemy Core). Alembic migrations create them; a test keeps both in step."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger, Boolean, Column, DateTime, Index, Integer, LargeBinary, MetaData, SmallInteger, String, Table, Text,
    TypeDecorator, UniqueConstraint, false, text,
)

from .utc import UTC, aware

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
})


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which has no time zones) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else aware(value)


events = Table(
    "events", metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("date_precision", String(8), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("data", Text, nullable=False),
    Column("source", Text, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("request_hash", String(64), nullable=True),  # what the idempotent request asked for (0007)
    # The event's leaf in the Merkle log (events/log_tree.py): 0, 1, 2, ... in commit order, no gaps (0012).
    Column("log_index", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
    Index("ix_events_log_index", "log_index", unique=True),
    UniqueConstraint("stream_id", "event_id", name="uq_events_stream_event"),  # 0010
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
    # Only the keys given are indexed (0023): most appends have none, and a null was an entry written per event.
    Index("uq_events_idempotency_key", "idempotency_key", unique=True,
          sqlite_where=text("idempotency_key IS NOT NULL"), postgresql_where=text("idempotency_key IS NOT NULL")),
)

# The hash of every complete subtree of the Merkle log: (level, idx) covers leaves [idx * 2**level, (idx + 1) * 2**level),
# and is complete once the tree holds tree_size = (idx + 1) * 2**level leaves. Keyed by (tree_size, level) (0025): the
# nodes one append finishes share its tree_size, so they land side by side at the b-tree's right edge (one page
# written, not one per level), and the largest tree_size is the stored tree's size.
# On SQLite (0026) the key is node_key = (tree_size << 6) + level instead, the table's INTEGER PRIMARY KEY, with a
# CHECK that holds it to that (see events/log_tree.py, LEVEL_BITS): the same order in an integer-keyed b-tree, which
# SQLite grows at its right edge a page at a time. PostgreSQL keeps (tree_size, level) and leaves node_key NULL.
log_nodes = Table(
    "log_nodes", metadata,
    Column("tree_size", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    Column("node_key", BigInteger().with_variant(Integer, "sqlite"), nullable=True),
)

case_projections = Table(
    "case_projections", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("status", String(32), nullable=False),
    Column("country", String(2), nullable=True),
    Column("origin_country", String(2), nullable=True),
    Column("tags", Text, nullable=False),
    Column("teams", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The case list's order at the last assessment (events.risk.list_place): minus the risk rank (so the most
    # urgent sort first), the next date ("9999": none), and the time before which both hold ("": lapsed).
    Column("list_sort", Integer, nullable=False, server_default="0"),
    Column("list_next_at", String(32), nullable=False, server_default="9999"),
    Column("list_valid_until", String(32), nullable=False, server_default=""),
    Index("ix_case_projections_status", "status"),
    Index("ix_case_projections_country", "country"),
    Index("ix_case_projections_list_sort", "list_sort", "list_next_at", "case_id"),
    Index("ix_case_projections_status_list", "status", "list_sort", "list_next_at", "case_id"),
    Index("ix_case_projections_list_valid_until", "list_valid_until"),
)

case_keys = Table(
    "case_keys", metadata,
    Column("case_id", String(36), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("team", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("prefix", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    UniqueConstraint("key_hash", name="uq_api_keys_key_hash"),
)

access_log = Table(
    "access_log", metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    Column("case_id", String(36), nullable=True),
    Column("path", String(300), nullable=False),
    Column("client", String(64), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_access_log_case_id", "case_id"),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie's random token; the token is never stored
    Column("key_id", String(36), nullable=True),  # the API key signed in with, or
    Column("person_id", String(36), nullable=True),  # the person signed in (0017)
    Column("csrf_token", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("client", String(64), nullable=True),  # the address it was started from, shown to its person (0017)
    Index("ix_web_sessions_expires_at", "expires_at"),
    Index("ix_web_sessions_person_id", "person_id"),
)

# People who sign in to the dashboard (0017): a password hash (argon2id), a TOTP secret sealed under the master key,
# the hashes of their unused recovery codes, and the count of failed sign-ins since the last good one.
people = Table(
    "people", metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("email", String(254), nullable=True),
    Column("role", String(16), nullable=False),
    Column("team", String(64), nullable=False),
    Column("password_hash", String(200), nullable=True),
    Column("totp_secret", Text, nullable=True),
    Column("totp_step", BigInteger, nullable=True),  # the last TOTP time step used: a code is good once
    Column("enrolled_at", UTCDateTime, nullable=True),  # NULL while mid-enrollment: such a person cannot sign in
    Column("recovery_codes", Text, nullable=False),  # a JSON list of SHA-256 hashes, each removed once used
    Column("failures", Integer, nullable=False),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("disabled_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("locked_at", UTCDateTime, nullable=True),  # when the failures reached the lockout threshold (0021)
    Column("failed_from", Text, nullable=True),  # a JSON list of the addresses the recent failures came from (0021)
    Column("lock_notice_at", UTCDateTime, nullable=True),  # when the admins were emailed about the lockout (0021)
    Column("language", String(16), nullable=True),  # their dashboard's language, for what is emailed to them (0022)
    UniqueConstraint("name", name="uq_people_name"),
    UniqueConstraint("email", name="uq_people_email"),
)

# Half signed in (0021): the password was right, the second factor is still to come. Bound to the browser by a
# cookie whose token's hash is the key; short-lived, and good for nothing but the second step.
signin_steps = Table(
    "signin_steps", metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("next_path", String(300), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_signin_steps_expires_at", "expires_at"),
)

# Failed sign-ins per address, and per account name that names nobody (0021), for growing delays that every server
# process sees; a known person's count is people.failures.
signin_failures = Table(
    "signin_failures", metadata,
    Column("subject", String(100), primary_key=True),  # "address:<ip>" or "account:<sha256 of the folded name>"
    Column("failures", Integer, nullable=False),
    Column("failed_at", UTCDateTime, nullable=False),
    Index("ix_signin_failures_failed_at", "failed_at"),
)

invitations = Table(
    "invitations", metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("team", String(64), nullable=False),
    Column("name", String(100), nullable=False),
    Column("email", String(254), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("person_id", String(36), nullable=True),  # the person being enrolled through it, once a password is chosen
    UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
)

auth_failures = Table(
    "auth_failures", metadata,
    Column("address", String(64), primary_key=True),
    Column("minute", BigInteger, primary_key=True),  # whole minutes since the epoch
    Column("failures", Integer, nullable=False),
    Index("ix_auth_failures_minute", "minute"),
)

# A person's passkeys (WebAuthn credentials, 0017): the public key only; the private key never leaves the device.
passkeys = Table(
    "passkeys", metadata,
    Column("credential_id", String(1400), primary_key=True),  # base64url of the authenticator's credential id
    Column("person_id", String(36), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # COSE
    Column("sign_count", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Index("ix_passkeys_person_id", "person_id"),
)

# A WebAuthn challenge the server handed out, good once and for five minutes (0017).
webauthn_challenges = Table(
    "webauthn_challenges", metadata,
    Column("challenge", String(100), primary_key=True),  # base64url
    Column("purpose", String(16), nullable=False),  # "register" or "signin"
    Column("person_id", String(36), nullable=True),  # who registers (none for a sign-in: the passkey says who)
    Column("expires_at", UTCDateTime, nullable=False),
)

# The blind name index (events/name_index.py): HMAC-SHA256 of each name key of a case's person, never the name (0014).
name_index = Table(
    "name_index", metadata,
    Column("hash", LargeBinary(32), primary_key=True),
    Column("case_id", String(36), primary_key=True),
    Index("ix_name_index_case_id", "case_id"),
)

# One row: whether every case is in the name index (false after an upgrade of a database that had cases, until
# `vigil names reindex` has run; search opens the cases meanwhile).
name_index_state = Table(
    "name_index_state", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("complete", Boolean, nullable=False),
)

# A secret calendar address (service/calendar_links.py): only the token's SHA-256 is kept; the owner is an actor,
# "person:<id>" or "key:<id>", whose access is checked again on every fetch (0020).
calendar_links = Table(
    "calendar_links", metadata,
    Column("id", String(36), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("include_names", Boolean, nullable=False, server_default=false()),
    Column("language", String(16), nullable=False, server_default="en"),
    UniqueConstraint("token_hash", name="uq_calendar_links_token_hash"),
    Index("ix_calendar_links_owner", "owner"),
)
