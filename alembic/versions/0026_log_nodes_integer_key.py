"""SQLite: the Merkle nodes keyed by one integer, node_key = (tree_size << 6) + level, the table's INTEGER PRIMARY
KEY, held to that by a CHECK: the order 0025 gave them, in a b-tree SQLite grows at its right edge a page at a time,
where the (tree_size, level) key WITHOUT ROWID was an index b-tree whose last three pages were rebalanced every few
appends. PostgreSQL keeps its key and only gets the column, left NULL, so both databases have the same columns.

Revision ID: 0026
Revises: 0025
"""
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

LEVEL_BITS = 6  # as events/log_tree.py's: levels 0 .. 63
INTEGER_KEYED = (
    "CREATE TABLE log_nodes_copy (tree_size INTEGER NOT NULL, level SMALLINT NOT NULL, idx INTEGER NOT NULL, "
    "hash BLOB NOT NULL, node_key INTEGER, CONSTRAINT pk_log_nodes PRIMARY KEY (node_key), "
    f"CONSTRAINT ck_log_nodes_node_key CHECK (node_key = (tree_size << {LEVEL_BITS}) + level "
    f"AND level BETWEEN 0 AND {(1 << LEVEL_BITS) - 1}))")
PAIR_KEYED = (  # 0025's
    "CREATE TABLE log_nodes_copy (tree_size INTEGER NOT NULL, level SMALLINT NOT NULL, idx INTEGER NOT NULL, "
    "hash BLOB NOT NULL, CONSTRAINT pk_log_nodes PRIMARY KEY (tree_size, level)) WITHOUT ROWID")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE log_nodes ADD COLUMN node_key BIGINT")  # no default: no row rewritten or updated
        return
    _copy(INTEGER_KEYED, "INSERT INTO log_nodes_copy (node_key, tree_size, level, idx, hash) "
                         f"SELECT (tree_size << {LEVEL_BITS}) + level, tree_size, level, idx, hash FROM log_nodes "
                         "ORDER BY tree_size, level")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE log_nodes DROP COLUMN node_key")
        return
    _copy(PAIR_KEYED, "INSERT INTO log_nodes_copy (tree_size, level, idx, hash) "
                      "SELECT tree_size, level, idx, hash FROM log_nodes")


def _copy(create: str, fill: str) -> None:
    """SQLite cannot change a primary key: copy the table inside the migration's transaction, then put back its
    append-only triggers (as 0024 and 0025 do)."""
    bind = op.get_bind()
    companions = list(bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'log_nodes' AND type IN ('index', 'trigger') "
        "AND sql IS NOT NULL").scalars())
    op.execute(create)
    op.execute(fill)
    op.execute("DROP TABLE log_nodes")  # its triggers go with it
    op.execute("ALTER TABLE log_nodes_copy RENAME TO log_nodes")
    for sql in companions:
        bind.exec_driver_sql(sql)  # as stored: not parsed for bind parameters
