"""A client's event_id is unique within its case's stream, not across all cases: another team's id is no longer
refused (a 409 told the caller that id existed somewhere else).

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

GLOBAL = "CONSTRAINT uq_events_event_id UNIQUE (event_id)"
PER_STREAM = "CONSTRAINT uq_events_stream_event UNIQUE (stream_id, event_id)"


def upgrade() -> None:
    _swap(GLOBAL, PER_STREAM, "uq_events_event_id", "uq_events_stream_event", ["stream_id", "event_id"])


def downgrade() -> None:
    _swap(PER_STREAM, GLOBAL, "uq_events_stream_event", "uq_events_event_id", ["event_id"])


def _swap(old_sql: str, new_sql: str, old_name: str, new_name: str, columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(old_name, "events", type_="unique")
        op.create_unique_constraint(new_name, "events", columns)
        return
    # SQLite cannot drop a table constraint: copy the table under its own DDL with the one constraint changed,
    # inside the migration's transaction, then put back the append-only triggers that went with the old table.
    bind = op.get_bind()
    ddl = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").scalar()
    if old_sql not in ddl:
        raise RuntimeError(f"the events table has no {old_sql!r}; refusing to guess its schema")
    copy_ddl = ddl.replace(old_sql, new_sql).replace("CREATE TABLE events", "CREATE TABLE events_copy", 1)
    op.execute("DROP TRIGGER IF EXISTS events_no_update")
    op.execute("DROP TRIGGER IF EXISTS events_no_delete")
    op.execute(copy_ddl)
    op.execute("INSERT INTO events_copy SELECT * FROM events")
    op.execute("DROP TABLE events")
    op.execute("ALTER TABLE events_copy RENAME TO events")
    op.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
               "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END")
    op.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events "
               "BEGIN SELECT RAISE(ABORT, 'events are append-only: DELETE refused'); END")
