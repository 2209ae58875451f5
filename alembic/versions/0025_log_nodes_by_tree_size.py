"""The Merkle nodes keyed by the tree size at which each is complete, then its level: the nodes one append
finishes become neighbours at the right edge of the key, so an append writes one page of them, not one per level.

Revision ID: 0025
Revises: 0024
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TREE_SIZE = "(idx + 1) << level"  # leaves [idx << level, (idx + 1) << level) are all in: the node is complete
SQLITE_TABLE = {
    True: ("CREATE TABLE log_nodes_copy (tree_size INTEGER NOT NULL, level SMALLINT NOT NULL, idx INTEGER NOT NULL, "
           "hash BLOB NOT NULL, CONSTRAINT pk_log_nodes PRIMARY KEY (tree_size, level)) WITHOUT ROWID"),
    False: ("CREATE TABLE log_nodes_copy (level SMALLINT NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, "
            "CONSTRAINT pk_log_nodes PRIMARY KEY (level, idx)) WITHOUT ROWID"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE log_nodes ADD COLUMN tree_size BIGINT")
        # The append-only trigger refuses every UPDATE; this one only fills the new column, in the migration's
        # transaction, and the trigger is back before it commits.
        op.execute("ALTER TABLE log_nodes DISABLE TRIGGER log_nodes_no_update")
        op.execute(f"UPDATE log_nodes SET tree_size = {TREE_SIZE}")
        op.execute("ALTER TABLE log_nodes ENABLE TRIGGER log_nodes_no_update")
        op.execute("ALTER TABLE log_nodes ALTER COLUMN tree_size SET NOT NULL")
        op.execute("ALTER TABLE log_nodes DROP CONSTRAINT pk_log_nodes")
        op.execute("ALTER TABLE log_nodes ADD CONSTRAINT pk_log_nodes PRIMARY KEY (tree_size, level)")
        return
    _copy(keyed_by_size=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE log_nodes DROP CONSTRAINT pk_log_nodes")
        op.execute("ALTER TABLE log_nodes ADD CONSTRAINT pk_log_nodes PRIMARY KEY (level, idx)")
        op.execute("ALTER TABLE log_nodes DROP COLUMN tree_size")
        return
    _copy(keyed_by_size=False)


def _copy(keyed_by_size: bool) -> None:
    """SQLite cannot change a primary key: copy the table inside the migration's transaction, then put back its
    append-only triggers (as 0024 does)."""
    bind = op.get_bind()
    companions = list(bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'log_nodes' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL").scalars())
    op.execute(SQLITE_TABLE[keyed_by_size])
    if keyed_by_size:
        op.execute(f"INSERT INTO log_nodes_copy (tree_size, level, idx, hash) SELECT {TREE_SIZE}, level, idx, hash "
                   "FROM log_nodes")
    else:
        op.execute("INSERT INTO log_nodes_copy (level, idx, hash) SELECT level, idx, hash FROM log_nodes")
    op.execute("DROP TABLE log_nodes")  # its triggers go with it
    op.execute("ALTER TABLE log_nodes_copy RENAME TO log_nodes")
    for sql in companions:
        bind.exec_driver_sql(sql)  # as stored: not parsed for bind parameters
