"""One append-only Merkle log over all events: each event gets a dense `log_index` (in position order for the
events already stored) and `log_nodes` keeps the hash of every complete subtree (events/log_tree.py).

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

from events.log_tree import Frontier
from events.merkle import leaf_hash
from events.records import canonical_event
from events.tables import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BATCH = 5000

# The columns the canonical bytes cover, as this revision knows them (not the current table definition).
_events = sa.table(
    "events",
    sa.column("position", sa.BigInteger()), sa.column("event_id", sa.String()), sa.column("stream_id", sa.String()),
    sa.column("version", sa.Integer()), sa.column("type", sa.String()), sa.column("schema_version", sa.Integer()),
    sa.column("occurred_at", UTCDateTime()), sa.column("date_precision", sa.String()),
    sa.column("recorded_at", UTCDateTime()), sa.column("actor", sa.String()), sa.column("data", sa.Text()),
    sa.column("source", sa.Text()),
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("events", sa.Column("log_index", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                                      nullable=True))
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False, autoincrement=False),
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_log_nodes"),
    )
    _fill(postgres)
    op.create_index("ix_events_log_index", "events", ["log_index"], unique=True)
    _append_only_nodes(postgres)


def _fill(postgres: bool) -> None:
    """Every stored event, in position order, becomes the next leaf; the events table's guard against UPDATE is
    lifted for exactly this, inside the migration's transaction."""
    bind = op.get_bind()
    if postgres:
        op.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS events_no_update")
    frontier = Frontier()
    after = -1
    while True:
        rows = bind.execute(sa.select(_events).where(_events.c.position > after).order_by(_events.c.position)
                            .limit(BATCH)).all()
        if not rows:
            break
        indexes, nodes = [], []
        for row in rows:
            indexes.append({"p": row.position, "i": frontier.size})
            nodes.extend({"level": level, "idx": idx, "hash": digest} for level, idx, digest in frontier.add(
                leaf_hash(canonical_event(row.event_id, row.stream_id, row.version, row.type, row.schema_version,
                                          row.occurred_at, row.date_precision, row.recorded_at, row.actor,
                                          row.data, row.source))))
        bind.execute(sa.text("UPDATE events SET log_index = :i WHERE position = :p"), indexes)
        bind.execute(sa.text("INSERT INTO log_nodes (level, idx, hash) VALUES (:level, :idx, :hash)"), nodes)
        after = rows[-1].position
    if postgres:
        op.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    else:
        op.execute("CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
                   "BEGIN SELECT RAISE(ABORT, 'events are append-only: UPDATE refused'); END")


def _append_only_nodes(postgres: bool) -> None:
    if postgres:
        op.execute("""
            CREATE FUNCTION vigil_log_nodes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'the Merkle log is append-only: % refused', TG_OP; END $$;
        """)
        op.execute("CREATE TRIGGER log_nodes_no_update BEFORE UPDATE OR DELETE ON log_nodes "
                   "FOR EACH ROW EXECUTE FUNCTION vigil_log_nodes_append_only()")
        op.execute("CREATE TRIGGER log_nodes_no_truncate BEFORE TRUNCATE ON log_nodes "
                   "FOR EACH STATEMENT EXECUTE FUNCTION vigil_log_nodes_append_only()")
    else:
        op.execute("CREATE TRIGGER log_nodes_no_update BEFORE UPDATE ON log_nodes "
                   "BEGIN SELECT RAISE(ABORT, 'the Merkle log is append-only: UPDATE refused'); END")
        op.execute("CREATE TRIGGER log_nodes_no_delete BEFORE DELETE ON log_nodes "
                   "BEGIN SELECT RAISE(ABORT, 'the Merkle log is append-only: DELETE refused'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE log_nodes")
        op.execute("DROP FUNCTION IF EXISTS vigil_log_nodes_append_only()")
        op.drop_index("ix_events_log_index", "events")
        op.drop_column("events", "log_index")
        return
    op.execute("DROP TABLE log_nodes")  # its triggers go with it
    op.drop_index("ix_events_log_index", "events")
    op.execute("ALTER TABLE events DROP COLUMN log_index")  # SQLite's own: the events table's triggers stay
