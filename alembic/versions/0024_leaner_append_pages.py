"""Fewer pages written per append: the idempotency key's unique index holds only the keys given (most appends
have none, and every null was an index entry), and on SQLite the Merkle nodes live in their primary key's
b-tree alone (WITHOUT ROWID) instead of a rowid table plus that index.

Revision ID: 0024
Revises: 0023
"""
import re

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

IDEMPOTENCY_CONSTRAINT = "CONSTRAINT uq_events_idempotency_key UNIQUE (idempotency_key)"
PARTIAL_INDEX = ("CREATE UNIQUE INDEX uq_events_idempotency_key ON events (idempotency_key) "
                 "WHERE idempotency_key IS NOT NULL")
LOG_NODES_TABLE = ("CREATE TABLE {name} (level SMALLINT NOT NULL, idx {idx} NOT NULL, hash {hash} NOT NULL, "
                   "CONSTRAINT pk_log_nodes PRIMARY KEY (level, idx)){options}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("uq_events_idempotency_key", "events", type_="unique")
        op.execute(PARTIAL_INDEX)
        return
    _copy_events(drop=IDEMPOTENCY_CONSTRAINT, add="")
    op.execute(PARTIAL_INDEX)
    _copy_log_nodes(without_rowid=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX uq_events_idempotency_key")
        op.create_unique_constraint("uq_events_idempotency_key", "events", ["idempotency_key"])
        return
    op.execute("DROP INDEX uq_events_idempotency_key")
    _copy_events(drop="", add=IDEMPOTENCY_CONSTRAINT)
    _copy_log_nodes(without_rowid=False)


def _companions(table: str) -> list[str]:
    """The DDL of a table's own triggers and named indexes, which go with it when it is dropped."""
    return list(op.get_bind().exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        (table,)).scalars())


def _copy_events(drop: str, add: str) -> None:
    """SQLite cannot drop or add a table constraint: copy the table under its own DDL with the one constraint
    taken out or put in, inside the migration's transaction, then put back its indexes and append-only triggers
    (as 0010 does)."""
    bind = op.get_bind()
    ddl = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'events'").scalar()
    if drop:
        copy_ddl, found = re.subn(r",\s*" + re.escape(drop), "", ddl)
        if found != 1:
            raise RuntimeError(f"the events table has no {drop!r}; refusing to guess its schema")
    else:
        end = ddl.rindex(")")
        copy_ddl = f"{ddl[:end].rstrip()}, \n\t{add}\n{ddl[end:]}"
    copy_ddl = re.sub(r'^CREATE TABLE "?events"?', "CREATE TABLE events_copy", copy_ddl)
    companions = [sql for sql in _companions("events") if "uq_events_idempotency_key" not in sql]
    op.execute(copy_ddl)
    op.execute("INSERT INTO events_copy SELECT * FROM events")
    op.execute("DROP TABLE events")  # its triggers are dropped first, so its rows go without firing them
    op.execute("ALTER TABLE events_copy RENAME TO events")
    for sql in companions:
        op.get_bind().exec_driver_sql(sql)  # as stored: not parsed for bind parameters


def _copy_log_nodes(without_rowid: bool) -> None:
    companions = _companions("log_nodes")
    op.execute(LOG_NODES_TABLE.format(name="log_nodes_copy", idx="INTEGER", hash="BLOB",
                                      options=" WITHOUT ROWID" if without_rowid else ""))
    op.execute("INSERT INTO log_nodes_copy (level, idx, hash) SELECT level, idx, hash FROM log_nodes")
    op.execute("DROP TABLE log_nodes")  # its triggers go with it
    op.execute("ALTER TABLE log_nodes_copy RENAME TO log_nodes")
    for sql in companions:
        op.get_bind().exec_driver_sql(sql)  # as stored: not parsed for bind parameters
